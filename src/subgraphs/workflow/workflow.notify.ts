import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Department } from '../../auth/principal';
import { applyMask } from '../../policy/masks';
import type { Policy } from '../../policy/policy';
import { Access } from '../../policy/policy.types';
import type { Minor } from '../registry/entities/minor.entity';
import type { RiskAssessment } from '../registry/entities/risk-assessment.entity';
import { DifficultyCategory } from '../registry/registry.enums';
import { MINORS_UNDER_AT } from '../registry/registry.loaders';
import { NotificationKind } from './workflow.enums';
import { notificationRecipients } from './workflow.policy';

/** What an emitter needs of its surroundings: a request context satisfies it, so does a job. */
export interface Emitter {
  policy: Policy;
  now: Date;
}

export interface NotificationEvent {
  kind: NotificationKind;
  /** Region of the event: each recipient department's officers whose jurisdiction covers it get it. */
  regionCode: string;
  /** Named (with the fields of the child's record) only when the child lives inside `regionCode`; see `emitNotification`. */
  minorId?: string | null;
  /**
   * Whether the child lives inside `regionCode`, when the emitter read it with the child: then no
   * look-up is made. A mandatory report must run the same statements whether or not its ID number
   * names a registered child, or its filing time would tell the reporter (fileMandatoryReport).
   */
  childInRegion?: boolean;
  /** The report, referral, assessment … the event is about. */
  subjectId?: string | null;
  /** `Type.field` of the policy table → value. Each recipient gets only what its row lets it read. */
  fields: Record<string, unknown>;
  /** Recipients other than the policy's for this kind (the parties of a referral). */
  to?: readonly Department[];
  /** The same key is told once per department, however often it is emitted. */
  dedupeKey: string;
}

/**
 * The most fields an event tells: an escalation of a report missed both its deadlines (five of the
 * report, and each deadline). What the cost limit prices `Notification.payload` at.
 */
export const MAX_PAYLOAD_FIELDS = 7;

const asText = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));

/**
 * The payload one department may see: denied fields are left out (never copied and hidden),
 * masked fields are masked here, with the same masks as a read through the API.
 */
export function payloadFor(policy: Policy, department: Department, fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    const access = policy.access(department, key);
    if (access === Access.DENY) continue;
    out[key] = access === Access.MASK ? String(applyMask(policy.row(key)!.mask!, asText(value))) : asText(value);
  }
  return out;
}

/**
 * A stored payload as it may be served now, to a reader it names the child to or not (the child
 * moved out of the reader's jurisdiction: `withoutChild`). A field is served only as the
 * department's policy serves it today: as it was built (`built`, `payloadAccess` when it was told),
 * if the access is still the same — a field denied since is left out, and so is one masked since,
 * stored exact (a stricter release had served it exact while the trail recorded MASK), or allowed
 * since, stored masked. A payload told before its access was kept (`built` null: migration
 * 1795403600000, or the release before during a rolling deploy) was built under today's masks
 * (migrations 1795401600000, 1795401900000 and 1795402800000 brought older ones to them): a field
 * of it is left out only when denied.
 */
export function servedPayload<T>(policy: Policy, department: Department, payload: Record<string, T>, built: Record<string, Access> | null, namesChild: boolean): Record<string, T> {
  return Object.fromEntries(
    Object.entries(namesChild ? payload : withoutChild(payload)).filter(([key]) => {
      const now = policy.access(department, key);
      return now !== Access.DENY && (!built || built[key] === now);
    }),
  );
}

/**
 * How each field of a payload `payloadFor` built for the department was served, as a read of the
 * child the notification names: MASK where the department's row masks the field, else ALLOW. Keys
 * in order (the audit's canonical form).
 */
export function payloadAccess(policy: Policy, department: Department, payload: Record<string, unknown>): Record<string, Access> {
  const fields: Record<string, Access> = {};
  for (const key of Object.keys(payload).sort()) fields[key] = policy.access(department, key) === Access.MASK ? Access.MASK : Access.ALLOW;
  return fields;
}

/**
 * Fields of the workflow's own records (a report, its steps, a referral, a notification an
 * escalation is about), which stay with the region they were made for whichever child they name.
 * Every other field of a payload is of the child's record — the registry's or a department's (a
 * dropout report's school, date and days absent) — and a notification keeps it only while it names
 * the child to its reader (see emitNotification, Notification.payload, deliverWebhooks): a field of
 * a type added later goes with the child too. Without `Notification`, the escalation of a RED
 * notification whose child had moved away told civil affairs nothing of what went unacknowledged.
 */
const WORKFLOW_RECORD_FIELD = /^(MandatoryReport|ReportTransition|Referral|Notification)\./;

/** A payload without the fields of the child's record: only the workflow's own. */
export const withoutChild = <T>(payload: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(payload).filter(([key]) => WORKFLOW_RECORD_FIELD.test(key)));

/** The child, a minor at the emitter's clock (as `minorInJurisdiction` reads), lives inside the region (its grid is in the region's subtree). */
async function livesIn(em: EntityManager, minorId: string, regionCode: string, now: Date): Promise<boolean> {
  const rows: unknown[] = await em.query(MINORS_UNDER_AT, [[minorId], `${regionCode}%`, now]);
  return rows.length > 0;
}

/**
 * Tells an event to every department that must know, inside the caller's transaction (so that
 * the event and what caused it commit together), and queues a delivery to each matching webhook.
 * Returns how many notifications were new.
 */
export async function emitNotification(em: EntityManager, emitter: Emitter, event: NotificationEvent): Promise<number> {
  // The cost limit prices a payload at this bound: past it, aliases of `payload` would answer more than admitted.
  if (Object.keys(event.fields).length > MAX_PAYLOAD_FIELDS) throw new Error(`A ${event.kind} notification holds more than ${MAX_PAYLOAD_FIELDS} fields`);
  const recipients = event.to ?? notificationRecipients[event.kind];
  // The child is named (its id, and its `Minor.*` fields) only when it lives inside the event's
  // region: every recipient's jurisdiction covers that region, so this is "the recipient may see
  // this child". Not so for a report made in one street about another street's child, nor for a
  // referral, which stays with the region it was addressed to, after its child moved away.
  const named = event.minorId && (event.childInRegion ?? (await livesIn(em, event.minorId, event.regionCode, emitter.now))) ? event.minorId : null;
  const fields = named ? event.fields : withoutChild(event.fields);
  let created = 0;
  for (const department of new Set(recipients)) {
    const payload = payloadFor(emitter.policy, department, fields);
    if (tellsWhatIsHidden(emitter.policy, department, event.kind, fields)) continue;
    const id = randomUUID();
    const inserted: { id: string }[] = await em.query(
      `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, payload_access, created_at, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [id, event.kind, department, event.regionCode, named, event.subjectId ?? null,
        JSON.stringify(payload), JSON.stringify(payloadAccess(emitter.policy, department, payload)), emitter.now, `${event.dedupeKey}:${department}`],
    );
    if (!inserted.length) continue;
    created++;
    // Outbox: the delivery rows commit with the notification; the job posts them. FOR SHARE because
    // deactivateWebhook fails only the PENDING deliveries it can see: unlocked, this read took a
    // webhook whose deactivation was not yet committed, and its delivery stayed PENDING for ever.
    // Now a deactivation under way is waited for (the webhook is then read inactive), and a later
    // one waits for this commit. No deadlock: the deactivation takes its webhook row first, holding
    // nothing, and no other path locks a webhook row (emitters share theirs).
    await em.query(
      `INSERT INTO workflow.webhook_delivery (id, webhook_id, notification_id, status, attempts, next_attempt_at)
       SELECT gen_random_uuid(), w.id, $1, 'PENDING', 0, $2 FROM workflow.webhook w
       WHERE w.active AND w.department = $3 AND $4 LIKE w.region_code || '%' FOR SHARE OF w`,
      [id, emitter.now, department, event.regionCode],
    );
  }
  return created;
}

type ChildFacts = Pick<Minor, 'id' | 'name' | 'idNumber' | 'gridCode' | 'currentAddress'>;

/** 监护失当: categories that mean the guardians fail the child. */
export const GUARDIANSHIP_FAILURE_CATEGORIES: ReadonlySet<DifficultyCategory> = new Set([
  DifficultyCategory.LACK_OF_GUARDIANSHIP,
  DifficultyCategory.DOMESTIC_VIOLENCE,
]);

/**
 * The field whose value a kind of notification itself tells, and the values it may have (a
 * guardianship failure is one of two categories): a department that would not read the value exact
 * is not told, since being told would say what the mask hides — nor served one told while it did
 * (`untoldInInbox`, deliverWebhooks): a later release masking the field had left the kind and the
 * named child served, the payload's field alone left out.
 */
const KIND_TELLS: Partial<Record<NotificationKind, { field: string; values: readonly string[] }>> = {
  [NotificationKind.GUARDIANSHIP_FAILURE]: { field: 'MinorCategory.category', values: [...GUARDIANSHIP_FAILURE_CATEGORIES] },
};

/** A notification of `kind` about `fields` would tell the department what it does not read exact (or told as it is stored, holding none: withheld). */
export function tellsWhatIsHidden(policy: Policy, department: Department, kind: string, fields: Record<string, unknown>): boolean {
  const tells = KIND_TELLS[kind as NotificationKind];
  if (!tells) return false;
  const value = fields[tells.field];
  return value === null || value === undefined || payloadFor(policy, department, { [tells.field]: value })[tells.field] !== asText(value);
}

/**
 * The inbox's rule for what `tellsWhatIsHidden` withholds, on the stored payload: `kind:value` of
 * the told field is none of the pairs the department may not be served today.
 */
export function untoldInInbox(policy: Policy, department: Department, alias: string): { sql: string; params: { untold: string[] } } {
  const told = Object.entries(KIND_TELLS) as [NotificationKind, { field: string; values: readonly string[] }][];
  const untold = told.flatMap(([kind, { field, values }]) => [`${kind}:`, ...values.filter((v) => tellsWhatIsHidden(policy, department, kind, { [field]: v })).map((v) => `${kind}:${v}`)]);
  const field = `CASE ${alias}.kind ${told.map(([kind, { field }]) => `WHEN '${kind}' THEN '${field}'`).join(' ')} END`;
  return { sql: `${alias}.kind || ':' || coalesce(${alias}.payload ->> ${field}, '') <> ALL(:untold)`, params: { untold } };
}

/** A child newly assessed RED (registry `recordAssessment`). */
export function childRedEvent(minor: ChildFacts, assessment: Pick<RiskAssessment, 'id' | 'level' | 'reasons' | 'assessedAt'>): NotificationEvent {
  return {
    kind: NotificationKind.CHILD_RED,
    regionCode: minor.gridCode,
    minorId: minor.id,
    subjectId: assessment.id,
    fields: {
      'Minor.name': minor.name,
      'Minor.idNumber': minor.idNumber,
      'Minor.currentAddress': minor.currentAddress,
      'RiskAssessment.level': assessment.level,
      'RiskAssessment.assessedAt': assessment.assessedAt,
      'RiskAssessment.reasons': assessment.reasons,
    },
    dedupeKey: `CHILD_RED:${assessment.id}`,
  };
}

/** A guardianship-failure case (监护失当): the child was given such a category (registry `addCategory`). */
export function guardianshipFailureEvent(minor: ChildFacts, category: DifficultyCategory, identifiedAt: string): NotificationEvent {
  return {
    kind: NotificationKind.GUARDIANSHIP_FAILURE,
    regionCode: minor.gridCode,
    minorId: minor.id,
    fields: {
      'Minor.name': minor.name,
      'Minor.idNumber': minor.idNumber,
      'Minor.currentAddress': minor.currentAddress,
      'MinorCategory.category': category,
      'MinorCategory.identifiedAt': identifiedAt,
    },
    // Once per grid: a category removed and given again (on the day it was first identified) after
    // the child moved had been refused as told, and the new grid's departments never learnt of it.
    dedupeKey: `GUARDIANSHIP_FAILURE:${minor.id}:${category}:${identifiedAt}:${minor.gridCode}`,
  };
}

/**
 * A dropout report (控辍保学), for the education slice to emit inside its own transaction:
 *   await emitNotification(em, ctx, dropoutEvent({ reportId, minorId, gridCode, fields: { 'DropoutReport.school': …, 'DropoutReport.daysAbsent': … } }))
 * `fields` are `Type.field` keys of the policy table; recipients (EDUCATION, CIVIL_AFFAIRS,
 * YOUTH_LEAGUE) get only those their rows allow.
 */
export function dropoutEvent(e: { reportId: string; minorId: string; gridCode: string; fields: Record<string, unknown> }): NotificationEvent {
  return {
    kind: NotificationKind.DROPOUT,
    regionCode: e.gridCode,
    minorId: e.minorId,
    subjectId: e.reportId,
    fields: e.fields,
    dedupeKey: `DROPOUT:${e.reportId}`,
  };
}
