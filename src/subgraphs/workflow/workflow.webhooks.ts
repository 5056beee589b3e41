import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { DataSource } from 'typeorm';
import { AuditEventBody, AuditOutcome } from '../../audit/audit.types';
import { AUDIT_APPEND_RETRYING_MS, type AuditSink } from '../../audit/audit.writer';
import { CLOCK_AGREEMENT_MS } from '../../common/dates';
import { newRequestId } from '../../audit/request-id';
import type { Department } from '../../auth/principal';
import { SYSTEM_USER_PREFIX } from '../../auth/token.service';
import type { WorkflowConfig } from '../../config/hub.config';
import { isDatabaseTimeout, isLockNotAvailable, loggableError } from '../../errors/hub.exception';
import type { Policy } from '../../policy/policy';
import { Access } from '../../policy/policy.types';
import { checkDestination, DestinationRefused, LookupsBusy, ResolvedDestination } from './webhook.destination';
import { NotificationKind } from './workflow.enums';
import { isMinorAt } from '../registry/registry.loaders';
import { withShortLockWait } from './workflow.locks';
import { payloadAccess, servedPayload, tellsWhatIsHidden } from './workflow.notify';

export const SIGNATURE_HEADER = 'x-hub-signature';
export const TIMESTAMP_HEADER = 'x-hub-timestamp';
export const DELIVERY_HEADER = 'x-hub-delivery';

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The timestamp is signed too, so a
 * receiver can refuse replays older than a few minutes.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs `body` to `url`, connecting only to `to` — the address the destination policy checked —
 * whatever the host resolves to by the time the socket opens (no second look-up: DNS rebinding).
 * TLS still verifies the certificate against the URL's host name. Redirects are not followed.
 * Answers the HTTP status.
 */
function post(url: URL, to: ResolvedDestination, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: to.address, family: to.family }]);
    else cb(null, to.address, to.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: pinned, signal: AbortSignal.timeout(timeoutMs), agent: false },
      (res) => {
        res.resume(); // the body is not read
        res.on('error', () => undefined);
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Due {
  id: string;
  attempts: number;
  url: string;
  secret: string;
  webhook_id: string;
  webhook_department: Department;
  webhook_region: string;
  notification: { id: string; kind: string; minorId: string | null; subjectId: string | null; payload: Record<string, unknown> } & Record<string, unknown>;
  /** How the notification's payload was built (Notification.payloadAccess): not part of the body sent. */
  payload_access: Record<string, Access> | null;
  /** The notification's child lives inside the webhook's region now (false when it names none). */
  child_within: boolean;
}

/** The user id of webhook deliveries in the audit trail: the hub itself, not a person (role null). */
export const WEBHOOK_AUDIT_USER = `${SYSTEM_USER_PREFIX}webhook-delivery`;
/** The `operationType` of a webhook delivery's audit event (a request's is query or mutation). */
export const WEBHOOK_OPERATION_TYPE = 'webhook';

/** What a delivery needs to audit itself: the trail, and the policy (which payload fields the department gets masked). */
export interface DeliveryAudit {
  audit: AuditSink;
  policy: Policy;
}

/**
 * The audit event of one delivery attempt, written (and durable) before the POST: the webhook's
 * department and region (so that the auditors of that jurisdiction see it), the notification and
 * webhook by id (never the URL or a value), its kind and the id of the record it is about (the
 * assessment, report or referral that raised it), and, when the notification names a child, the
 * payload's fields as that child's read — ALLOW, or MASK where the department's policy row masks the field
 * (`payloadFor` masked it when the notification was written). Keys in canonical order.
 */
export function deliveryEvent(d: Due, policy: Policy): AuditEventBody {
  const n = d.notification;
  const fields = payloadAccess(policy, d.webhook_department, n.payload ?? {});
  return {
    changes: [],
    clientAddress: null,
    department: d.webhook_department,
    document: null,
    documentHash: null,
    durationMs: 0,
    errorCodes: [],
    operationName: `deliver ${n.kind} notification ${n.id}${n.subjectId ? ` about ${n.subjectId}` : ''} to webhook ${d.webhook_id} (delivery ${d.id}, attempt ${d.attempts + 1})`,
    operationType: WEBHOOK_OPERATION_TYPE,
    outcome: AuditOutcome.SUCCESS,
    purpose: null,
    reads: n.minorId ? [{ fields, minorIds: [n.minorId] }] : [],
    region: d.webhook_region,
    requestId: newRequestId(),
    role: null,
    time: new Date().toISOString(),
    userId: WEBHOOK_AUDIT_USER,
    variables: {},
  };
}

/**
 * The event of an attempt audited and then withheld before its POST (NotSent: its child left the
 * region, or the delivery could not be read again): the same request id, outcome DENIED and each
 * field read as DENY, so that the child's history shows the attempt's first event answered by this
 * one — nothing of the child left the hub. So too for one withdrawn (its webhook deactivated, or
 * its lease lost to another sender, which audits its own attempt).
 */
export function withheldEvent(sent: AuditEventBody, reason: string): AuditEventBody {
  return {
    ...sent,
    operationName: `${sent.operationName}: withheld, ${reason}`,
    outcome: AuditOutcome.DENIED,
    reads: sent.reads.map((r) => ({ ...r, fields: Object.fromEntries(Object.keys(r.fields).map((f) => [f, Access.DENY])) })),
    time: new Date().toISOString(),
  };
}

/** `last_error` of an attempt withheld because its audit event could not be written (not counted as an attempt). */
export const AUDIT_UNAVAILABLE_ERROR = 'audit unavailable: not sent';
/** `last_error` of an attempt withheld because MAX_LOOKUPS_IN_FLIGHT look-ups were under way (not counted as an attempt). */
export const LOOKUPS_BUSY_ERROR = 'destination look-ups at capacity: not sent';
/** `last_error` of an attempt withheld because the delivery could not be read again before its POST (not counted as an attempt). */
export const RECHECK_UNAVAILABLE_ERROR = 'database unavailable before the POST: not sent';
/** `last_error` of a delivery given up unsent: its kind tells what its department no longer reads exact (tellsWhatIsHidden). */
export const UNTOLD_ERROR = 'its kind tells what the department no longer reads: not sent, never to be';
/** `last_error` of an attempt withheld because its child left the webhook's region (or turned 18) after the lease (not counted as an attempt). */
export const CHILD_LEFT_ERROR = 'child no longer in the region: not sent, sent naming no child next';

/** An attempt withheld before anything left the hub, the destination not found wanting: not an attempt; its message is the `last_error`. */
class NotSent extends Error {}
/** A leased delivery cancelled before its POST (its webhook deactivated, or the lease lost): not sent. */
class Withdrawn extends Error {}
/** Why a withdrawn attempt was withheld, in its withheld event. */
const WITHDRAWN_REASON = 'cancelled or leased by another sender: not sent';

/**
 * Whether a leased delivery is still to be sent as it was built: PENDING under this sender's lease,
 * its webhook active (else Withdrawn), and a child its body names still within the webhook's region
 * and under 18 (else NotSent: the next lease builds it naming no child). Read again right before the
 * POST: a deactivation, or a child's move, committed after the lease, while the destination was
 * looked up and the attempt audited, had the delivery posted all the same — to a deactivated webhook,
 * or naming a child of another region. A failure to read is NotSent too: nothing left the hub.
 */
async function checkStillDue(ds: DataSource, d: Due, lease: Date, clock: Clock): Promise<void> {
  let rows: { child_within: boolean }[];
  try {
    rows = await ds.query(
      `SELECT EXISTS (SELECT 1 FROM registry.minor m WHERE m.id = $3 AND m.grid_code LIKE w.region_code || '%' AND ${isMinorAt('m.birth_date', '$4')}) AS child_within
         FROM workflow.webhook_delivery d JOIN workflow.webhook w ON w.id = d.webhook_id
        WHERE d.id = $1 AND d.status = 'PENDING' AND d.next_attempt_at = $2 AND w.active`,
      [d.id, lease, d.notification.minorId, clock()],
    );
  } catch (e) {
    console.error('[hub] the webhook delivery could not be read again before its POST; it is withheld', loggableError(e));
    throw new NotSent(RECHECK_UNAVAILABLE_ERROR);
  }
  if (!rows.length) throw new Withdrawn();
  if (d.notification.minorId && !rows[0].child_within) throw new NotSent(CHILD_LEFT_ERROR);
}

/**
 * The order in which due deliveries are sent, most urgent first: a child in danger now (CHILD_RED,
 * a mandatory report, guardianship failing the child) and a deadline already missed (ESCALATION);
 * then the routine hand-overs between departments; last VISIT_OVERDUE, which the escalation job
 * tells in bulk (every overdue RED or ORANGE child at once: hundreds in the demo district, ~150,000
 * at city scale after downtime) and which must never hold back one of the above. A `Record` over
 * the enum, so a new kind cannot be added without being placed.
 */
export const DELIVERY_URGENCY: Record<NotificationKind, 0 | 1 | 2> = {
  [NotificationKind.CHILD_RED]: 0,
  [NotificationKind.MANDATORY_REPORT]: 0,
  [NotificationKind.GUARDIANSHIP_FAILURE]: 0,
  [NotificationKind.ESCALATION]: 0,
  [NotificationKind.REFERRAL_RECEIVED]: 1,
  [NotificationKind.REFERRAL_OUTCOME]: 1,
  [NotificationKind.DROPOUT]: 1,
  [NotificationKind.REASSESSMENT_REQUESTED]: 1,
  [NotificationKind.VISIT_OVERDUE]: 2,
};

/** How a pass reads the time (the hub's clock, shifted by `clockOffsetMs`), afresh for every lease, stamp and outcome. */
export type Clock = () => Date;

export interface DeliveryPass {
  /** Deliveries leased and posted at once; the pass leases batch after batch. */
  batch?: number;
  /** No batch is leased once the pass has run this long (real time); the batch under way completes. 0: one batch. */
  budgetMs?: number;
  /** Aborted (the hub stopping): no batch is leased after the one under way. */
  signal?: AbortSignal;
}

/**
 * Posts due deliveries (the outbox rows written with each notification) of active webhooks, batch
 * after batch until none is left that was due when the pass began, or the pass has run
 * `budgetMs`. Each batch is taken most urgent first (`DELIVERY_URGENCY`), then in turn across
 * webhooks, then oldest first. A delivery is leased before the POST so that two hub instances
 * never send it twice at once; the destination is resolved and checked against the policy
 * (webhook.destination.ts) before each attempt, and a refused one is not contacted; a 2xx marks
 * it delivered, anything else (a refusal too) retries after base · 2^(attempts−1), until
 * `maxAttempts`.
 *
 * Every POST is a disclosure of the notification's payload and is audited first (fail closed): the
 * attempt's event (`deliveryEvent`) must be durable before anything is sent. If it cannot be
 * written nothing is sent, the attempt is not counted, and the delivery stays PENDING, tried
 * again once its lease has passed; so too when the destination could not be looked up because
 * MAX_LOOKUPS_IN_FLIGHT look-ups were under way.
 */
export async function deliverWebhooks(
  ds: DataSource,
  cfg: WorkflowConfig['webhook'],
  clock: Clock,
  trail: DeliveryAudit,
  { batch = 50, budgetMs = 0, signal }: DeliveryPass = {},
): Promise<{ delivered: number; failed: number }> {
  const started = Date.now();
  // Only what was due when the pass began: a delivery this pass failed is due again after its
  // back-off, perhaps a millisecond later, and is left to a later pass rather than retried at once.
  const dueBy = clock();
  const total = { delivered: 0, failed: 0 };
  do {
    const { leased, delivered, failed } = await deliverBatch(ds, cfg, clock, trail, dueBy, batch);
    total.delivered += delivered;
    total.failed += failed;
    if (leased < batch) break;
  } while (!signal?.aborted && Date.now() - started < budgetMs);
  return total;
}

/** Leases up to `batch` deliveries due by `dueBy` and posts them, all at once. */
async function deliverBatch(
  ds: DataSource,
  cfg: WorkflowConfig['webhook'],
  clock: Clock,
  trail: DeliveryAudit,
  dueBy: Date,
  batch: number,
): Promise<{ leased: number; delivered: number; failed: number }> {
  // Long enough for the destination's look-up (bounded by the request timeout), the audit append's
  // retrying, then the POST: another instance must not send it meanwhile. An append stalled longer
  // (each of its statements may take up to HUB_AUDIT_TIMEOUT_MS, its reply 1 s more) can let
  // another instance send the delivery too, audited there as well; receivers de-duplicate on the
  // signed body's id. Read from the clock now, not when the pass began: a lease written already past
  // leaves the delivery free to every other instance while it is posted. Another instance judges it
  // due on its own clock: one ahead by as much as instances may differ (CLOCK_AGREEMENT_MS) saw a lease
  // of 13 s already past, and posted the delivery again while this one's POST was open.
  const lease = new Date(clock().getTime() + AUDIT_APPEND_RETRYING_MS + cfg.timeoutMs * 3 + CLOCK_AGREEMENT_MS);
  // Most urgent first; within one urgency, round-robin over webhooks: every webhook's oldest due
  // delivery comes before any webhook's second, so one webhook's backlog (a receiver down, or a
  // department with many webhooks) cannot fill the batch and hold back everyone else's. The outer
  // conditions are those a concurrent lease invalidates: a row another instance leased meanwhile
  // is re-checked and left out. An UPDATE … RETURNING answers [rows, count] through TypeORM.
  const [rows] = (await ds.query(
    `UPDATE workflow.webhook_delivery d SET next_attempt_at = $2
       FROM workflow.webhook w, workflow.notification n
      WHERE d.id IN (SELECT dd.id FROM workflow.webhook_delivery dd
                       JOIN (SELECT x.id, u.urgency,
                                    row_number() OVER (PARTITION BY x.webhook_id, u.urgency ORDER BY x.next_attempt_at, x.id) AS turn
                               FROM workflow.webhook_delivery x JOIN workflow.webhook ww ON ww.id = x.webhook_id
                               JOIN workflow.notification nn ON nn.id = x.notification_id,
                                    LATERAL (SELECT ($4::jsonb ->> nn.kind)::int AS urgency) u
                              WHERE x.status = 'PENDING' AND x.next_attempt_at <= $1 AND ww.active) due ON due.id = dd.id
                      WHERE dd.status = 'PENDING' AND dd.next_attempt_at <= $1
                      ORDER BY due.urgency, due.turn, dd.next_attempt_at, dd.id LIMIT $3 FOR UPDATE OF dd SKIP LOCKED)
        AND w.id = d.webhook_id AND n.id = d.notification_id
    RETURNING d.id, d.attempts, w.url, w.secret, w.id AS webhook_id, w.department AS webhook_department, w.region_code AS webhook_region,
      jsonb_build_object('id', n.id, 'kind', n.kind, 'department', n.department, 'regionCode', n.region_code,
        'minorId', n.minor_id, 'subjectId', n.subject_id, 'createdAt', n.created_at, 'payload', n.payload) AS notification, n.payload_access,
      EXISTS (SELECT 1 FROM registry.minor m WHERE m.id = n.minor_id AND m.grid_code LIKE w.region_code || '%' AND ${isMinorAt('m.birth_date', '$1')}) AS child_within`,
    [dueBy, lease, batch, JSON.stringify(DELIVERY_URGENCY)],
  )) as [Due[], number];
  let delivered = 0;
  let failed = 0;
  /** Accepted deliveries whose row another session held past JOB_LOCK_WAIT_MS (writeDelivered). */
  const held: { id: string; params: unknown[] }[] = [];
  await Promise.all(
    rows.map(async (d) => {
      // Told while the department read what the kind tells exact, and masked or denied it since: the
      // inbox no longer shows it, and no receiver is sent it. Nothing leaves, so nothing is audited.
      if (tellsWhatIsHidden(trail.policy, d.webhook_department, d.notification.kind, d.notification.payload ?? {})) {
        // Awaited before it is added, as below.
        const written = await writeOutcome(
          ds,
          d.id,
          `UPDATE workflow.webhook_delivery SET status = 'FAILED', last_error = $2 WHERE id = $1 AND status = 'PENDING' AND next_attempt_at = $3`,
          [d.id, UNTOLD_ERROR, lease],
        );
        failed += written;
        return;
      }
      // Sent when due, perhaps long after it was told: a child who has since moved out of the
      // webhook's region, or turned 18 by the pass's clock, is named no more, in the body or in the
      // delivery's audit event.
      d.notification = {
        ...d.notification,
        minorId: d.child_within ? d.notification.minorId : null,
        payload: servedPayload(trail.policy, d.webhook_department, d.notification.payload ?? {}, d.payload_access, d.child_within),
      };
      const body = JSON.stringify(d.notification);
      let error: string | null = null;
      let audited: AuditEventBody | null = null;
      try {
        const url = new URL(d.url);
        const to = await checkDestination(cfg, url, 'delivery');
        // Audited before anything leaves; a refused destination above was never contacted and is not a disclosure.
        try {
          const event = deliveryEvent(d, trail.policy);
          await trail.audit.append(event);
          audited = event;
        } catch (e) {
          console.error('[hub] audit write failed; the webhook delivery is withheld', loggableError(e));
          throw new NotSent(AUDIT_UNAVAILABLE_ERROR);
        }
        await checkStillDue(ds, d, lease, clock);
        // Stamped as it leaves: receivers refuse a timestamp more than 300 s away from their clock.
        const timestamp = String(Math.floor(clock().getTime() / 1000));
        const headers = {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(d.secret, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
          [DELIVERY_HEADER]: d.id,
        };
        const status = await post(url, to, headers, body, cfg.timeoutMs);
        if (status < 200 || status > 299) error = `HTTP ${status}`;
      } catch (e) {
        // Audited, then not sent: the trail says so, or the attempt's event reads as a disclosure.
        if (audited && (e instanceof Withdrawn || e instanceof NotSent)) {
          await trail.audit.append(withheldEvent(audited, e instanceof Withdrawn ? WITHDRAWN_REASON : e.message)).catch((failed) => {
            console.error('[hub] the audit event of a withheld webhook delivery could not be written', loggableError(failed));
          });
        }
        // Cancelled (its row says so) or another sender's now (its lease theirs): nothing to write.
        if (e instanceof Withdrawn) return;
        if (e instanceof NotSent || e instanceof LookupsBusy) {
          // Nothing was sent, and the destination was not found wanting: not an attempt. The lease
          // keeps it until the next pass after it.
          await writeOutcome(ds, d.id, `UPDATE workflow.webhook_delivery SET last_error = $2 WHERE id = $1 AND status = 'PENDING' AND next_attempt_at = $3`, [
            d.id,
            e instanceof LookupsBusy ? LOOKUPS_BUSY_ERROR : e.message,
            lease,
          ]);
          return;
        }
        if (e instanceof DestinationRefused) error = `refused by the destination policy: ${e.message}`;
        else error = e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.name) : 'network error';
      }
      // Each outcome is written only while the row still holds this sender's lease: past it, another
      // instance may have leased the delivery and be posting it, and its lease and outcome are its own.
      const attempts = d.attempts + 1;
      const at = clock();
      if (!error) {
        // Awaited before it is added: `delivered += await …` reads `delivered` before the wait, and
        // the batch's deliveries, awaited together, each added to the count as it was at the start.
        const params = [d.id, attempts, at, lease];
        const written = await writeShortly(ds, DELIVERED_SQL, params);
        if (written === null) held.push({ id: d.id, params });
        else delivered += written;
      } else {
        const giveUp = attempts >= cfg.maxAttempts;
        const next = new Date(at.getTime() + cfg.retryBaseMs * 2 ** (attempts - 1));
        // A delivery cancelled while in flight (deactivateWebhook) stays cancelled.
        const written = await writeOutcome(
          ds,
          d.id,
          `UPDATE workflow.webhook_delivery SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5 WHERE id = $1 AND status = 'PENDING' AND next_attempt_at = $6`,
          [d.id, giveUp ? 'FAILED' : 'PENDING', attempts, next, error, lease],
        );
        if (giveUp) failed += written;
      }
    }),
  );
  // One at a time: waited for together, they held every connection of the pool the requests share.
  // Once one has waited out the statement timeout (a stuck session), the rest wait 100 ms again: a
  // deactivation holding one has committed by then, and its FAILED is replaced; a row the stuck
  // session holds too is left leased.
  let stuck = false;
  for (const h of held) {
    const written = stuck ? await writeOutcome(ds, h.id, DELIVERED_SQL, h.params) : await writeDelivered(ds, h.id, h.params);
    if (written === null) stuck = true;
    else delivered += written;
  }
  return { leased: rows.length, delivered, failed };
}

const DELIVERED_SQL = `UPDATE workflow.webhook_delivery SET status = 'DELIVERED', attempts = $2, delivered_at = $3, last_error = NULL WHERE id = $1 AND next_attempt_at = $4`;

/**
 * Records a delivery the receiver accepted whose row another session held past JOB_LOCK_WAIT_MS,
 * once the pass's batch is done, waiting for it as long as a statement may: a deactivation under
 * way holds it to its commit, failing it `webhook deactivated`, and this then replaces that — it
 * was delivered (docs/workflows.md); given up after JOB_LOCK_WAIT_MS, the deactivation's FAILED
 * stood. Null past the statement timeout (a stuck session): left leased, sent again once the lease
 * runs out, and the pass goes on.
 */
async function writeDelivered(ds: DataSource, id: string, params: unknown[]): Promise<number | null> {
  try {
    return ((await ds.query(DELIVERED_SQL, params)) as [unknown, number])[1];
  } catch (e) {
    if (!isDatabaseTimeout(e)) throw e;
    console.error(`[hub] webhook delivery ${id}: its row stayed locked by another session past the statement timeout; it is sent again once its lease runs out`);
    return null;
  }
}

/**
 * Writes a delivery's other outcomes, waiting JOB_LOCK_WAIT_MS at most for its row. One another session
 * holds longer (deactivateWebhook holds it only to its commit; a stuck session as long as it stays)
 * is left leased, sent again once the lease runs out — receivers de-duplicate on its id. Waited for
 * until the statement timeout, it ended the pass: every outcome of the batch in flight unwritten,
 * and no batch after it leased. Resolves to the rows written.
 */
async function writeOutcome(ds: DataSource, id: string, sql: string, params: unknown[]): Promise<number> {
  const written = await writeShortly(ds, sql, params);
  if (written === null) console.error(`[hub] webhook delivery ${id}: its row is held locked by another session; its outcome is left, and it is sent again once its lease runs out`);
  return written ?? 0;
}

/** The rows `sql` wrote, waiting JOB_LOCK_WAIT_MS at most for them; null when another session held one longer. */
async function writeShortly(ds: DataSource, sql: string, params: unknown[]): Promise<number | null> {
  try {
    return await withShortLockWait(ds, async (em) => ((await em.query(sql, params)) as [unknown, number])[1]);
  } catch (e) {
    if (!isLockNotAvailable(e)) throw e;
    return null;
  }
}
