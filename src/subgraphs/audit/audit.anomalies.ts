import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { SYSTEM_USER_PREFIX } from '../../auth/token.service';
import type { AnomalyThresholds } from '../../config/hub.config';
import type { Query } from '../../audit/audit.verify';
import { ANSWER_LOST } from '../../audit/audit-event';
import { HubErrorCode } from '../../errors/hub.exception';

export enum AnomalyKind {
  /** Many distinct children read by one user within a short window (browsing, bulk export). */
  MANY_CHILDREN = 'MANY_CHILDREN',
  /** Children's records read or written outside working hours or at the weekend (an event naming a child). */
  OFF_HOURS = 'OFF_HOURS',
  /** Repeated refusals (FORBIDDEN) for one user within a short window (probing). */
  REPEATED_FORBIDDEN = 'REPEATED_FORBIDDEN',
  /** Reads under a purpose the user rarely declares. */
  UNUSUAL_PURPOSE = 'UNUSUAL_PURPOSE',
  /**
   * A mutation recorded as STARTED with no final event: the hub stopped mid-request, or the final
   * write failed after the mutation's own transaction had committed. What it changed is not in the trail.
   */
  UNFINISHED_MUTATION = 'UNFINISHED_MUTATION',
  /**
   * A request whose answer from a remote subgraph was lost (errorCodes holds SUBGRAPH_ANSWER_LOST):
   * the connection dropped after the subgraph had run, no answer came within HUB_SUBGRAPH_TIMEOUT_MS
   * (the subgraph may still have run, or yet run, it), or the subgraph refused the gateway's own
   * assertion — a replay, when someone presented it first and got the answer. The subgraph may
   * have read or changed what the event does not record; queries too (the answer went somewhere).
   * Or a mutation whose COMMIT's reply was lost and whose outcome the database could not then tell
   * (COMMIT_OUTCOME_UNKNOWN): its change may be stored, unrecorded.
   */
  ACCESS_IN_DOUBT = 'ACCESS_IN_DOUBT',
}
registerEnumType(AnomalyKind, { name: 'AnomalyKind' });

@ObjectType({ description: 'A pattern in the trail worth a data officer’s look, with the events behind it' })
export class AuditAnomaly {
  @Field(() => AnomalyKind)
  kind: AnomalyKind;

  @Field(() => String)
  userId: string;

  @Field(() => String, { nullable: true })
  department: string | null;

  @Field(() => Int, { description: 'Children, refusals or events counted' })
  count: number;

  @Field()
  description: string;

  @Field(() => [ID], { description: 'Request ids of the events behind the flag (at most 200)' })
  requestIds: string[];
}

/** Request ids an anomaly lists at most. */
export const ANOMALY_REQUEST_IDS = 200;
/** A mutation still running is not unfinished: its final event is looked for this long after it started. */
const UNFINISHED_AFTER = '5 minutes';

/** `value` where it is JSON of `type`, else null: a body rewritten in the database (reads as text) is taken apart as nothing. */
const only = (type: 'array' | 'object', value: string) => `CASE WHEN jsonb_typeof(${value}) = '${type}' THEN ${value} END`;

/**
 * The read groups of an event (`ReadGroup`, or an older `ChildRead`) that showed some field of the
 * child, as lower-case text: the children named in it were shown something. A page's structure
 * recorded with each child (`MinorEdge.node`, a connection's fields, `hasNextPage`) shows nothing of
 * it — a page every field of whose children was refused is no read — but a cursor names the child.
 */
const SHOWN = `(SELECT lower(string_agg(g::text, ' ')) FROM jsonb_array_elements(${only('array', "body::jsonb -> 'reads'")}) AS g
                 WHERE EXISTS (SELECT 1 FROM jsonb_each_text(${only('object', "g -> 'fields'")}) AS f
                                WHERE f.value <> 'DENY' AND f.key !~ '(Edge\\.node|Connection\\.[A-Za-z]+|PageInfo\\.hasNextPage)$'))`;
/** The event showed some field of a child it names. */
const READS_A_CHILD = `EXISTS (SELECT 1 FROM (SELECT ${SHOWN} AS shown) s, unnest(minor_ids) AS minor_id WHERE strpos(s.shown, minor_id::text) > 0)`;

/**
 * Flags computed in SQL over the caller's slice of the trail (`jurisdiction` is a region LIKE
 * pattern) between `from` and `to`. A user is a user id within the department that issued it: the
 * same id from two departments is two people, counted and flagged apart.
 */
export async function findAnomalies(query: Query, t: AnomalyThresholds, jurisdiction: string, from: Date, to: Date): Promise<AuditAnomaly[]> {
  // People only: the hub's own work (webhook deliveries, user ids no token may carry) reads many
  // children at any hour by design.
  const scope = `occurred_at >= $1 AND occurred_at < $2 AND region LIKE $3 AND user_id IS NOT NULL AND user_id NOT LIKE '${SYSTEM_USER_PREFIX}%'`;
  const base = [from, to, jurisdiction];
  const window = `${t.windowMinutes} minutes`;
  const out: AuditAnomaly[] = [];

  // The most distinct children a user read within any window of `window` (a window starting at
  // one of their reads holds the most). Each child counts for the window starts s with a read in
  // [s, s + window), i.e. for s in (t − window, t] around each read t; a child's reads closer than
  // `window` merge into one interval, and the deepest overlap of all the user's intervals is the
  // answer — one sort of the reads instead of every read against every other (a user paging
  // through thousands of children made that quadratic: seconds per few hundred pages).
  // A child counts as read where the event shows some field of it: a mutation's own changes are not
  // reads, but what its answer showed is (a no-op update selecting a child's whole file reads it like a
  // query), and a look-up every field of which was refused — or an answer withheld whole, its reads
  // rewritten DENY — showed nothing. REPEATED_FORBIDDEN is the flag for refusals.
  const many = await query(
    `WITH r AS (SELECT DISTINCT department, user_id, minor_id, occurred_at
                FROM audit.event CROSS JOIN LATERAL (SELECT ${SHOWN} AS shown) s CROSS JOIN LATERAL unnest(minor_ids) AS minor_id
                WHERE ${scope} AND strpos(s.shown, minor_id::text) > 0),
          g AS (SELECT department, user_id, minor_id, occurred_at,
                       CASE WHEN lag(occurred_at) OVER (PARTITION BY department, user_id, minor_id ORDER BY occurred_at) > occurred_at - $4::interval THEN 0 ELSE 1 END AS fresh
                FROM r),
          i AS (SELECT department, user_id, minor_id, occurred_at, sum(fresh) OVER (PARTITION BY department, user_id, minor_id ORDER BY occurred_at) AS island FROM g),
          iv AS (SELECT department, user_id, min(occurred_at) - $4::interval AS opens, max(occurred_at) AS closes FROM i GROUP BY department, user_id, minor_id, island),
          ev AS (SELECT department, user_id, opens AS at, 1 AS d FROM iv UNION ALL SELECT department, user_id, closes, -1 FROM iv),
          -- An interval is open after its start and closed after its end: at one instant, ends first.
          run AS (SELECT department, user_id, at, d, sum(d) OVER (PARTITION BY department, user_id ORDER BY at, d ROWS UNBOUNDED PRECEDING) AS n FROM ev),
          best AS (SELECT DISTINCT ON (department, user_id) department, user_id, at, n FROM run WHERE d = 1 AND n >= $5 ORDER BY department, user_id, n DESC, at)
     SELECT b.user_id, b.n, b.department, w.requests FROM best b
     CROSS JOIN LATERAL (
       SELECT array_agg(request_id::text ORDER BY seq) AS requests FROM audit.event
        WHERE ${scope} AND department IS NOT DISTINCT FROM b.department AND user_id = b.user_id AND occurred_at > b.at AND occurred_at <= b.at + $4::interval
          AND ${READS_A_CHILD}) w
     ORDER BY b.user_id, b.department`,
    [...base, window, t.distinctMinors],
  );
  for (const m of many) {
    out.push({
      kind: AnomalyKind.MANY_CHILDREN,
      userId: m.user_id,
      department: m.department,
      count: Number(m.n),
      description: `${m.n} distinct children read within ${t.windowMinutes} minutes (threshold ${t.distinctMinors})`,
      requestIds: m.requests.slice(0, ANOMALY_REQUEST_IDS),
    });
  }

  const [start, end] = t.workingHours;
  const offHours = await query(
    `SELECT user_id, department, count(*) AS n, (array_agg(request_id::text ORDER BY seq))[1:${ANOMALY_REQUEST_IDS}] AS requests
     FROM audit.event
     WHERE ${scope} AND cardinality(minor_ids) > 0
       AND (extract(hour FROM occurred_at AT TIME ZONE 'UTC' + make_interval(hours => $4)) NOT BETWEEN $5 AND $6 - 1
            OR extract(isodow FROM occurred_at AT TIME ZONE 'UTC' + make_interval(hours => $4)) IN (6, 7))
     GROUP BY user_id, department ORDER BY user_id, department`,
    [...base, t.utcOffsetHours, start, end],
  );
  for (const o of offHours) {
    out.push({
      kind: AnomalyKind.OFF_HOURS,
      userId: o.user_id,
      department: o.department,
      count: Number(o.n),
      description: `${o.n} requests reading or writing children's records outside ${start}:00–${end}:00 on working days`,
      requestIds: o.requests,
    });
  }

  // Refusals within `window` of each refusal, counted by a window frame (the same square as above
  // when joined: a prober can send thousands).
  const forbidden = await query(
    `WITH f AS (SELECT user_id, department, occurred_at,
                       count(*) OVER (PARTITION BY department, user_id ORDER BY occurred_at RANGE BETWEEN CURRENT ROW AND $4::interval - interval '1 microsecond' FOLLOWING) AS n
                FROM audit.event WHERE ${scope} AND body::jsonb -> 'errorCodes' ? 'FORBIDDEN'),
          best AS (SELECT DISTINCT ON (department, user_id) user_id, department, occurred_at, n FROM f WHERE n >= $5 ORDER BY department, user_id, n DESC, occurred_at)
     SELECT b.user_id, b.department, b.n, w.requests FROM best b
     CROSS JOIN LATERAL (
       SELECT array_agg(request_id::text ORDER BY seq) AS requests FROM audit.event
        WHERE ${scope} AND department IS NOT DISTINCT FROM b.department AND user_id = b.user_id AND occurred_at >= b.occurred_at AND occurred_at < b.occurred_at + $4::interval
          AND body::jsonb -> 'errorCodes' ? 'FORBIDDEN') w
     ORDER BY b.user_id, b.department`,
    [...base, window, t.forbiddenAttempts],
  );
  for (const f of forbidden) {
    out.push({
      kind: AnomalyKind.REPEATED_FORBIDDEN,
      userId: f.user_id,
      department: f.department,
      count: Number(f.n),
      description: `${f.n} refused requests within ${t.windowMinutes} minutes (threshold ${t.forbiddenAttempts})`,
      requestIds: f.requests.slice(0, ANOMALY_REQUEST_IDS),
    });
  }

  // Reads, as MANY_CHILDREN counts them: counted with writes that showed no child, 20 writes and
  // one read were "1 of 21 reads", and two writes beside an unusual read hid it.
  const unusual = await query(
    `WITH p AS (SELECT user_id, department, purpose, request_id, seq FROM audit.event
                WHERE ${scope} AND purpose IS NOT NULL AND ${READS_A_CHILD}),
          totals AS (SELECT user_id, department, count(*) AS total FROM p GROUP BY user_id, department HAVING count(*) >= 20)
     SELECT p.user_id, p.department, p.purpose, count(*) AS n, t.total,
            (array_agg(p.request_id::text ORDER BY p.seq))[1:${ANOMALY_REQUEST_IDS}] AS requests
     FROM p JOIN totals t USING (user_id, department)
     GROUP BY p.user_id, p.department, p.purpose, t.total HAVING count(*)::float / t.total < $4
     ORDER BY p.user_id, p.department, p.purpose`,
    [...base, t.unusualPurposeShare],
  );
  for (const u of unusual) {
    out.push({
      kind: AnomalyKind.UNUSUAL_PURPOSE,
      userId: u.user_id,
      department: u.department,
      count: Number(u.n),
      description: `${u.n} of ${u.total} reads declared ${u.purpose}, a purpose this user rarely gives`,
      requestIds: u.requests,
    });
  }
  // The final event shares the STARTED one's request id and is written after it, so it is looked
  // for from the window's start on, also past its end.
  const unfinished = await query(
    `SELECT user_id, department, count(*) AS n, (array_agg(request_id::text ORDER BY seq))[1:${ANOMALY_REQUEST_IDS}] AS requests
     FROM audit.event s
     WHERE ${scope} AND outcome = 'STARTED' AND occurred_at < now() - $4::interval
       AND NOT EXISTS (SELECT 1 FROM audit.event f WHERE f.request_id = s.request_id AND f.occurred_at >= $1 AND f.outcome <> 'STARTED')
     GROUP BY user_id, department ORDER BY user_id, department`,
    [...base, UNFINISHED_AFTER],
  );
  for (const u of unfinished) {
    out.push({
      kind: AnomalyKind.UNFINISHED_MUTATION,
      userId: u.user_id,
      department: u.department,
      count: Number(u.n),
      description: `${u.n} mutations started with no final event: what they changed is not in the trail`,
      requestIds: u.requests,
    });
  }

  // One scan for both kinds of doubt: a subgraph's answer lost, a commit's outcome unknown. Error
  // codes as a string (a body planted under its own hash) `?|` matches, and no array function takes apart.
  const inDoubt = await query(
    `WITH d AS (SELECT user_id, department, request_id, seq, body::jsonb AS b FROM audit.event WHERE ${scope} AND outcome <> 'SUCCESS' AND body::jsonb -> 'errorCodes' ?| array[$4, $5]
                      AND jsonb_typeof(body::jsonb -> 'errorCodes') = 'array'),
          s AS (SELECT DISTINCT user_id, department, substr(c, length($4) + 2) AS subgraph
                FROM d CROSS JOIN LATERAL jsonb_array_elements_text(b -> 'errorCodes') AS c WHERE starts_with(c, $4 || ':'))
     SELECT user_id, department, count(*) AS n,
            count(*) FILTER (WHERE b -> 'errorCodes' ? $4) AS lost,
            count(*) FILTER (WHERE b -> 'errorCodes' ? $4 AND b ->> 'operationType' = 'mutation') AS mutations,
            count(*) FILTER (WHERE b -> 'errorCodes' ? $5) AS unsettled,
            (array_agg(request_id::text ORDER BY seq))[1:${ANOMALY_REQUEST_IDS}] AS requests,
            (SELECT array_agg(s.subgraph ORDER BY s.subgraph) FROM s WHERE s.user_id = d.user_id AND s.department IS NOT DISTINCT FROM d.department) AS subgraphs
     FROM d GROUP BY user_id, department ORDER BY user_id, department`,
    [...base, ANSWER_LOST, HubErrorCode.COMMIT_OUTCOME_UNKNOWN],
  );
  for (const d of inDoubt) {
    const lost =
      `${d.lost} requests (${d.mutations} of them mutations) whose answer from subgraph ${(d.subgraphs ?? []).join(', ')} was lost or refused: ` +
      `what was read or changed there is not in the trail (check that subgraph's log and records)`;
    const unsettled =
      `${d.unsettled} mutations whose commit the database did not confirm: what they changed may be stored, not in the trail ` +
      `(the hub's log names each transaction to look up)`;
    out.push({
      kind: AnomalyKind.ACCESS_IN_DOUBT,
      userId: d.user_id,
      department: d.department,
      count: Number(d.n),
      description: [...(Number(d.lost) ? [lost] : []), ...(Number(d.unsettled) ? [unsettled] : [])].join('; '),
      requestIds: d.requests,
    });
  }
  return out;
}
