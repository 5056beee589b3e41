import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Query, Resolver, Root } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { childReads, isHistoryPart, readEventBody } from '../../../audit/audit-event';
import type { AuditEventBody, ChildRead } from '../../../audit/audit.types';
import type { ChainAnchor } from '../../../audit/audit.anchor';
import { verifyChain } from '../../../audit/audit.verify';
import { answerKeys } from '../../../common/root-fields';
import { isBefore, millisecondBound } from '../../../schema/date-time.scalar';
import { canonicalId, isUuid } from '../../../common/uuid';
import { readOnly } from '../../../db/commit-outcome';
import { isWellFormed, requirePageSize } from '../../../common/validation';
import { Access } from '../../../policy/policy.types';
import { badInput, forbidden, HubErrorCode, HubException } from '../../../errors/hub.exception';
import { sliceLoaders, type HubContext } from '../../../server/hub.context';
import { DISTRICT_CODE_LENGTH } from '../../registry/registry.loaders';
import { AuditAnomaly, findAnomalies } from '../audit.anomalies';
import {
  AuditChainAnchor,
  AuditChainStatus,
  AuditEvent,
  AuditEventConnection,
  AuditEventFilter,
  ChangeRecord,
  ChildReadRecord,
  FIELD_READS_PER_EVENT,
  MinorAccess,
} from './types/audit-event.type';

const MAX_PAGE = 500;
/**
 * Anchors one request checks: a month of the hub's log at its default interval (8,640), about what a
 * request body of 1 MB holds; `npm run audit:verify -- --anchors FILE` takes a log of any length.
 */
const MAX_ANCHORS = 10_000;

function chainAnchors(anchors: AuditChainAnchor[]): ChainAnchor[] {
  if (anchors.length > MAX_ANCHORS) throw badInput('anchors', `at most ${MAX_ANCHORS}`);
  return anchors.map((a, i) => {
    if (!/^[1-9][0-9]{0,14}$/.test(a.seq)) throw badInput(`anchors[${i}].seq`, 'is a sequence number, 1 or more');
    if (!/^[0-9a-f]{64}$/.test(a.hash)) throw badInput(`anchors[${i}].hash`, 'is 64 lower-case hexadecimal digits');
    return { seq: Number(a.seq), hash: a.hash };
  });
}
/** A child's history is read in pages of at most this many events (a flood of reads must not push the rest out of sight). */
const MAX_HISTORY = 1000;

/**
 * Bodies a page of events holds at most, in bytes (the first event whatever its size): any caller
 * can make their events large (a document of up to 1 MB, a read of thousands of children), and a
 * page of 500 such bodies would be more than the hub's heap. A page cut short has a next page.
 * What the page answers is bounded too (FIELD_READS_PER_EVENT): stored grouped, reads take far
 * less room than answered one entry per child.
 */
const PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Events `where` holds, newest first, at most `limit` of them, and the body of each up to PAGE_BYTES
 * (null after): `octet_length` of a stored body reads its size, not the body. A body stored null
 * (the table's NOT NULL dropped) comes empty, no event: it had ended the page as if full, for good.
 */
const pageOfEvents = (where: string, limit: string) =>
  `SELECT seq, hash, prev_hash, CASE WHEN before < ${PAGE_BYTES} THEN coalesce(body, '') END AS body
     FROM (SELECT seq, hash, prev_hash, body, sum(coalesce(octet_length(body), 0)) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) - coalesce(octet_length(body), 0) AS before
             FROM audit.event WHERE ${where} ORDER BY seq DESC LIMIT ${limit}) e
    ORDER BY seq DESC`;

type EventRow = { seq: string; hash: string; prev_hash: string; body: string | null };

/**
 * The audit subgraph reads the trail as `hub_audit_reader` (SELECT only), inside a read-only
 * transaction, so nothing reachable from here can alter it.
 */
function asReader<T>(ctx: HubContext, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return ctx.db
    .transaction('REPEATABLE READ', async (em) => {
      await readOnly(em);
      await em.query('SET LOCAL ROLE hub_audit_reader');
      return work(em);
    })
    .catch((e: unknown) => {
      // A stored body Postgres cannot read as JSON: the statement read it, its position unknown.
      throw isJsonUnreadable(e) ? trailDamaged() : e;
    });
}

/**
 * Postgres's refusals to read a text as JSON (`body::jsonb` of a body that is none): not JSON, or a
 * `\u0000` jsonb cannot hold, both naming the JSON; a number past `numeric` or nesting past the stack
 * name nothing, but in the auditor's read-only statements, their arguments checked before, only a
 * body can hold either.
 */
const isJsonUnreadable = (e: unknown): boolean => {
  const cause = (e as { driverError?: { code?: string; message?: string; where?: string } }).driverError;
  switch (cause?.code) {
    case '22P02':
      return /type json/.test(cause.message ?? '');
    case '22P05':
      return (cause.where ?? '').startsWith('JSON data');
    case '22003':
    case '54001':
      return true;
    default:
      return false;
  }
};

/**
 * An event the trail holds is no audit event (its body rewritten, its hash recomputed): the answer
 * says where, when the statement told, so that the auditor can page past it and verify the chain.
 */
function trailDamaged(seq?: string): HubException {
  return new HubException(
    HubErrorCode.AUDIT_TRAIL_DAMAGED,
    seq === undefined
      ? 'An event of the trail is not an audit event: the trail has been altered (auditVerify names where)'
      : `Event ${seq} of the trail is not an audit event: the trail has been altered (auditVerify names where); the page after it is after "${seq}"`,
    seq === undefined ? {} : { seq },
  );
}

/** The longest window `auditAnomalies` scans: five scans of every event in it, two parsing each body. */
export const MAX_ANOMALY_WINDOW_DAYS = 31;

/**
 * Each of the trail's root fields answers once per request: a page, a child's history, a walk
 * over the trail (verification, anomaly scans) is bounded by itself, and aliases of it multiply
 * what it costs the database and the heap, not what it tells.
 */
function oncePerRequest(ctx: HubContext, field: string): void {
  const asked = sliceLoaders(ctx, 'audit-once', () => new Set<string>());
  if (asked.has(field)) throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `${field} is answered once per request`);
  asked.add(field);
}

/**
 * Verifications of the whole chain run one at a time in a process: each holds a page of bodies
 * (up to VERIFY_PAGE_BYTES) in memory, and several auditors verifying at once must not add them up.
 */
let verifying: Promise<unknown> = Promise.resolve();
function oneVerificationAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = verifying.then(work, work);
  verifying = run.catch(() => undefined);
  return run;
}

/** An auditor sees the events of callers in their jurisdiction, and refusals of unknown callers. */
const scope = (param: number) => `(region LIKE $${param} OR region IS NULL)`;
const jurisdiction = (ctx: HubContext) => `${ctx.principal.region}%`;

function toEvent(row: EventRow, b: AuditEventBody): AuditEvent {
  return {
    ...b,
    seq: String(row.seq),
    time: new Date(b.time),
    variableNames: Object.keys(b.variables),
    stored: { reads: b.reads, changes: b.changes },
    hash: row.hash,
    prevHash: row.prev_hash,
  };
}

/** The entries of `reads[].fields` an event answers, counted from its groups without writing them out. */
const fieldReads = (b: Pick<AuditEventBody, 'reads'>) => b.reads.reduce((n, r) => n + ('minorIds' in r ? r.minorIds.length : 1) * Object.keys(r.fields).length, 0);

/**
 * Whether a page's events answer `reads`: only then do the children's fields they hold bound the
 * page (FIELD_READS_PER_EVENT), which otherwise listed a bulk reader's events one a page.
 */
function answersReads(info: GraphQLResolveInfo): boolean {
  const below = (nodes: readonly FieldNode[], name: string) => [...answerKeys(nodes, info.fragments).values()].flat().filter((f) => f.name.value === name);
  return below(below(below(info.fieldNodes, 'edges'), 'node'), 'reads').length > 0;
}

/**
 * The trail's answers hold each field once where it is selected: a field under two names (aliases)
 * anywhere in one of its queries is LIMIT_EXCEEDED, before anything is read. What they list is
 * bounded by what the trail holds — a page's first event whatever its size, a child's history of
 * events that read a hundred fields each, an anomaly per person flagged — which the cost limit
 * cannot price, and aliases multiplied it: of `reads` over one event of a thousand children, 1.26
 * million values; of a history's `fields`, 17.7 MB; of `document`, 34.5 MB from 174 KB of events.
 */
function refuseAliasedFields(nodes: readonly FieldNode[], fragments: GraphQLResolveInfo['fragments']): void {
  const keyOf = new Map<string, string>();
  for (const [key, merged] of answerKeys(nodes, fragments)) {
    const name = merged[0].name.value;
    const other = keyOf.get(name);
    if (other !== undefined) {
      throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `The trail's answers hold each field once: ${name} is selected as both "${other}" and "${key}"`);
    }
    keyOf.set(name, key);
    refuseAliasedFields(merged, fragments);
  }
}

// In key order, as events store them (Postgres's jsonb keeps its own order).
const toRead = (r: ChildRead): ChildReadRecord => ({
  minorId: r.minorId,
  fields: Object.keys(r.fields)
    .sort()
    .map((field) => ({ field, access: r.fields[field] })),
});

/**
 * The child an auditor looks into, as events name it (Postgres spells ids in lower case; an
 * auditor may paste one in capitals). The look-up is itself a read of the child's history: the
 * auditor's event names the child, so "who looked at this child" includes data officers, and
 * looking into many children is flagged like reading them.
 */
function lookedUp(ctx: HubContext, asked: string, argument: string, field: string): string {
  const minorId = childId(asked, argument);
  ctx.access.read(minorId, field, Access.ALLOW);
  return minorId;
}

function childId(asked: string, argument: string): string {
  if (!isUuid(asked)) throw badInput(argument, 'is not a child id');
  return canonicalId(asked);
}

/** Refuses only what no event can hold: Postgres's text has no NUL, UTF-8 no lone surrogate. */
function searchedText(argument: string, value: string): string {
  if (value === '') throw badInput(argument, 'must not be empty');
  if (!isWellFormed(value)) throw badInput(argument, 'must be well-formed Unicode (a lone surrogate is not a character)');
  if (value.includes('\u0000')) throw badInput(argument, 'must not contain U+0000');
  return value;
}

/** A page of the trail: 1…`max` events, after a `seq` this API returned (the trail is read newest first). */
function checkPage(first: number, max: number, after: string | null | undefined): void {
  requirePageSize(first, max);
  if (after !== undefined && after !== null && !/^\d{1,18}$/.test(after)) throw badInput('after', 'not a cursor returned by this API');
}

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection, { nullable: true, description: 'The trail, newest first, in the auditor’s jurisdiction' })
  auditEvents(
    @Ctx() ctx: HubContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter?: AuditEventFilter,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<AuditEventConnection> {
    checkPage(first, MAX_PAGE, after);
    refuseAliasedFields(info.fieldNodes, info.fragments);
    oncePerRequest(ctx, 'auditEvents');
    const where = [scope(1)];
    const params: unknown[] = [jurisdiction(ctx)];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    // Any id the trail may hold, not only what a token may carry today: events written before the
    // token rules grew stricter (ids with invisible letters, say) must stay searchable. An empty one
    // is refused, not skipped: skipped, it answered the whole trail as that user's or request's.
    if (filter?.userId != null) add('user_id = ?', searchedText('filter.userId', filter.userId));
    if (filter?.department != null) add('department = ?', searchedText('filter.department', filter.department));
    if (filter?.requestId != null) {
      if (!isUuid(filter.requestId)) throw badInput('filter.requestId', 'is not a request id');
      add('request_id = ?', filter.requestId);
    }
    // The look-up is recorded as a read of the child once its events are read (lookedUp): a refusal
    // is none, but an answer of AUDIT_TRAIL_DAMAGED naming one of them is one.
    const child = filter?.minorId == null ? null : childId(filter.minorId, 'filter.minorId');
    if (child) add('minor_ids @> ARRAY[?]::uuid[]', child);
    if (filter?.outcome) add('outcome = ?', filter.outcome);
    if (filter?.purpose) add('purpose = ?', filter.purpose);
    if (filter?.from) add('occurred_at >= ?', millisecondBound(filter.from));
    if (filter?.to) add('occurred_at < ?', millisecondBound(filter.to));
    if (after) add('seq < ?', after);
    params.push(first + 1);
    const readsBound = answersReads(info) ? first * FIELD_READS_PER_EVENT : Infinity;
    return asReader(ctx, async (em) => {
      const rows: EventRow[] = await em.query(pageOfEvents(where.join(' AND '), `$${params.length}`), params);
      if (child) ctx.access.read(child, 'Query.auditEvents', Access.ALLOW);
      const page: AuditEvent[] = [];
      let answered = 0;
      // Bodies past PAGE_BYTES come null, all after the first such: the page ends at either bound.
      for (const row of rows.slice(0, first)) {
        if (row.body === null) break;
        const body = readEventBody(row.body);
        if (!body) throw trailDamaged(row.seq);
        answered += fieldReads(body);
        if (page.length && answered > readsBound) break;
        page.push(toEvent(row, body));
      }
      return {
        edges: page.map((node: AuditEvent) => ({ cursor: node.seq, node })),
        pageInfo: { hasNextPage: rows.length > page.length, endCursor: page.length ? page[page.length - 1].seq : null },
      };
    });
  }

  @Query(() => [MinorAccess], {
    nullable: true,
    description: '“Who looked at this child”: every read or change of the child’s record, newest first, `first` at a time (at most 1000); the next page `after` the last `seq`',
  })
  minorAccessHistory(
    @Arg('minorId', () => ID) asked: string,
    @Ctx() ctx: HubContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('first', () => Int, { defaultValue: MAX_HISTORY }) first = MAX_HISTORY,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<MinorAccess[]> {
    checkPage(first, MAX_HISTORY, after);
    refuseAliasedFields(info.fieldNodes, info.fragments);
    oncePerRequest(ctx, 'minorAccessHistory');
    const minorId = lookedUp(ctx, asked, 'minorId', 'Query.minorAccessHistory');
    return asReader(ctx, async (em) => {
      // Only this child's part of each event leaves Postgres: a page of 1000 events of a megabyte
      // each (any caller can make theirs that large) would be more than the hub's heap, and a page
      // cut short would end a client's paging early. Ids compared in lower case, as `minor_ids`
      // holds them: events written before it did may spell a child in capitals.
      // jsonb_array_elements_text of a missing `minorIds` (an entry per child) is no row. A body that
      // is no event (planted under its own hash) answers no part, not an error of Postgres: the
      // arrays are taken apart only where they are arrays, in a CASE, which Postgres evaluates in order.
      const rows: { seq: string; part: string | null }[] = await em.query(
        `SELECT seq, CASE WHEN jsonb_typeof(b) = 'object' AND jsonb_typeof(b -> 'reads') = 'array' AND jsonb_typeof(b -> 'changes') = 'array' THEN jsonb_build_object(
                  'requestId', b -> 'requestId', 'time', b -> 'time', 'userId', b -> 'userId', 'department', b -> 'department',
                  'role', b -> 'role', 'purpose', b -> 'purpose', 'outcome', b -> 'outcome',
                  'reads', coalesce((SELECT jsonb_agg(jsonb_build_object('minorId', $2::text, 'fields', g -> 'fields')) FROM jsonb_array_elements(b -> 'reads') g
                                     WHERE CASE WHEN lower(g ->> 'minorId') = $2::text THEN true
                                                WHEN jsonb_typeof(g -> 'minorIds') = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements_text(g -> 'minorIds') x WHERE lower(x) = $2::text)
                                                ELSE false END), '[]'),
                  'changes', coalesce((SELECT jsonb_agg(c) FROM jsonb_array_elements(b -> 'changes') c WHERE lower(c ->> 'minorId') = $2::text), '[]'))::text END AS part
           FROM (SELECT seq, body::jsonb AS b FROM audit.event
                  WHERE minor_ids @> ARRAY[$2::uuid] AND ${scope(1)} ${after ? 'AND seq < $4' : ''} ORDER BY seq DESC LIMIT $3) e
          ORDER BY seq DESC`,
        after ? [jurisdiction(ctx), minorId, first, after] : [jurisdiction(ctx), minorId, first],
      );
      return rows.map((row) => {
        const e = row.part === null ? null : (JSON.parse(row.part) as unknown);
        // The event names the child (`minor_ids`, from its reads and changes): a part with neither is of a body rewritten.
        if (!isHistoryPart(e) || (!e.reads.length && !e.changes.length)) throw trailDamaged(row.seq);
        return {
          seq: String(row.seq),
          requestId: e.requestId,
          time: new Date(e.time),
          userId: e.userId,
          department: e.department,
          role: e.role,
          purpose: e.purpose,
          outcome: e.outcome,
          fields: e.reads.length ? toRead(e.reads[0]).fields : [],
          changes: e.changes,
        };
      });
    });
  }

  @Query(() => AuditChainStatus, {
    nullable: true,
    description: 'Re-walks the hash chain and reports the first broken link, checking each anchor given (auditors at a district; once per request)',
  })
  async auditVerify(
    @Ctx() ctx: HubContext,
    @Arg('anchors', () => [AuditChainAnchor], { nullable: true, description: `At most ${MAX_ANCHORS}` }) anchors?: AuditChainAnchor[] | null,
  ): Promise<AuditChainStatus> {
    // The chain is one for the whole hub: its length, head and first break are not a street's to see.
    if (ctx.principal.region.length !== DISTRICT_CODE_LENGTH) throw forbidden('The whole audit chain is verified by auditors at a district');
    const given = chainAnchors(anchors ?? []);
    oncePerRequest(ctx, 'auditVerify');
    const status = await oneVerificationAtATime(() => asReader(ctx, (em) => verifyChain((text, params) => em.query(text, params), given)));
    return { ...status, firstBreak: status.firstBreak && { ...status.firstBreak, seq: String(status.firstBreak.seq) } };
  }

  @Query(() => [AuditAnomaly], { nullable: true, description: 'Anomaly flags over the trail (default: the last 7 days; at most 31 days, once per request)' })
  auditAnomalies(
    @Ctx() ctx: HubContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
  ): Promise<AuditAnomaly[]> {
    // Events are stamped with the host's time (auditEvent), not the hub's clock: a rehearsal's
    // HUB_CLOCK_OFFSET_MS moved the default window off every event it wrote.
    const until = to ? millisecondBound(to) : new Date();
    const since = from ? millisecondBound(from) : new Date(until.getTime() - 7 * 86_400_000);
    // Ordered as given: from …00.0001 is before to …00.0009, both bounds the next millisecond (an empty window, answered empty).
    if (from && to ? !isBefore(from, to) : since >= until) throw badInput('from', 'must be before to');
    if (until.getTime() - since.getTime() > MAX_ANOMALY_WINDOW_DAYS * 86_400_000) throw badInput('from', `the window is at most ${MAX_ANOMALY_WINDOW_DAYS} days`);
    refuseAliasedFields(info.fieldNodes, info.fragments);
    oncePerRequest(ctx, 'auditAnomalies');
    return asReader(ctx, (em) => findAnomalies((text, params) => em.query(text, params), ctx.config.audit.anomalies, jurisdiction(ctx), since, until));
  }
}

/**
 * What an event tells of children, answered only when asked for: a page of a bulk reader's events
 * names the children read and which of their fields, so each child named is recorded as read by
 * the auditor (as a look-up by `filter.minorId` is), and "who looked at this child" lists the data
 * officer who saw its reads. Children named in events the page does not return are not. Ids in
 * lower case, as a look-up records them: events from before may spell a child in capitals.
 */
@Resolver(() => AuditEvent)
export class AuditEventResolver {
  @FieldResolver(() => [ChildReadRecord], { description: 'What the request read, one entry per child' })
  reads(@Root() event: AuditEvent, @Ctx() ctx: HubContext): ChildReadRecord[] {
    return childReads(event.stored).map((r) => {
      ctx.access.read(canonicalId(r.minorId), 'AuditEvent.reads', Access.ALLOW);
      return toRead(r);
    });
  }

  @FieldResolver(() => [ChangeRecord])
  changes(@Root() event: AuditEvent, @Ctx() ctx: HubContext): ChangeRecord[] {
    for (const c of event.stored.changes) if (c.minorId) ctx.access.read(canonicalId(c.minorId), 'AuditEvent.changes', Access.ALLOW);
    return event.stored.changes;
  }
}
