import { randomUUID } from 'node:crypto';
import type { DeepPartial, EntityManager } from 'typeorm';
import type { HubContext } from '../../server/hub.context';
import { ageOn } from '../../common/dates';
import { isUuid } from '../../common/uuid';
import { badInput, HubErrorCode, HubException, notFound } from '../../errors/hub.exception';
import { Access } from '../../policy/policy.types';
import type { ChildRecord } from './child-record';
import { inJurisdiction, jurisdictionParams, requireMinor } from './jurisdiction';

/** The record's own fields, as a validated input gives them. */
export type RecordFields<T extends ChildRecord> = Omit<DeepPartial<T>, 'id' | 'minorId' | 'minor'>;

/**
 * Loads one of the slice's records for update (row locked to the end of the transaction). A
 * record of a child outside the jurisdiction reads as missing, like an unknown id.
 */
export async function lockRecord<T extends ChildRecord>(em: EntityManager, ctx: HubContext, entity: new () => T, id: string, what: string): Promise<T> {
  if (!isUuid(id)) throw notFound(what);
  const found = await em
    .getRepository(entity)
    .createQueryBuilder('r')
    .setLock('pessimistic_write')
    .where('r.id = :id', { id })
    .andWhere(inJurisdiction('r'), jurisdictionParams(ctx))
    .getOne();
  if (!found) throw notFound(what);
  // The jurisdiction test above read the child's grid as of the statement's start: a move committed
  // while it waited for the record's lock went unseen, and the update was written (and recorded) in
  // the street the child had left. Read again, after the lock, and hold the child as createRecord does.
  await requireMinor(em, ctx, found.minorId).catch((e: unknown) => {
    throw e instanceof HubException && e.extensions.code === HubErrorCode.NOT_FOUND ? notFound(what) : e;
  });
  // A refusal from here on (a date before the record's, a closed record) still tells of the record.
  ctx.access.found(found.minorId, entity.name);
  return found;
}

/**
 * Refuses a write for what a child's record holds, saying so — the record is closed, a date falls
 * before its own, its first visit's or the child's birth, the child lacks the category. The refusal
 * serves that field, exactly or as a bound, whatever the answer selects: recorded as a read of it
 * beside the record's being found (`lockRecord`, the registry's `lockMinor`), so that the trail
 * names the field the caller learnt.
 */
export function refuseStating(ctx: HubContext, minorId: string, read: string, argument: string, message: string): never {
  ctx.access.read(minorId, read, Access.ALLOW);
  throw badInput(argument, message);
}

/**
 * Refuses a record of what no child under `youngest` does or has (work before 16, a dropout before
 * school age, a sentence before 12) on `day`, the record's own date. Judged from the child's age
 * today, which every department reads (`Minor.age`), and the whole years since `day`: the child was
 * at most their difference then. Never from the birth date, which most departments may not read: a
 * refusal "under 16 on startedOn", tried date after date, would tell it. Recorded as a read of
 * `Minor.age`, which the refusal states. Called for a child already found in the jurisdiction.
 */
export async function requireOldEnough(em: EntityManager, ctx: HubContext, minorId: string, youngest: number, field: string, day: string, what: string): Promise<void> {
  const [child]: { birth_date: string }[] = await em.query(`SELECT birth_date::text FROM registry.minor WHERE id = $1`, [minorId]);
  const atMost = ageOn(child.birth_date, ctx.now) - ageOn(day, ctx.now);
  if (atMost >= youngest) return;
  if (youngest === 0) refuseStating(ctx, minorId, 'Minor.age', field, `must not be before the child was born: by their age today, the child was not yet born on ${day}`);
  refuseStating(ctx, minorId, 'Minor.age', field, `${what} is of no child under ${youngest}: by their age today, the child was ${atMost < 0 ? 'not yet born' : `at most ${atMost}`} on ${day}`);
}

/**
 * Refuses a record dated before the child was born: `day` is the record's own date, in `field`.
 * Exact for a department that reads the birth date (stated, and recorded as a read of
 * `Minor.birthDate`); for any other, judged as `requireOldEnough` judges, from the age every
 * department reads — a bound a year wide at most, which tells no more than the age.
 */
export async function requireBorn(em: EntityManager, ctx: HubContext, minorId: string, field: string, day: string): Promise<void> {
  if (ctx.policy.access(ctx.subject, 'Minor.birthDate') !== Access.ALLOW) return requireOldEnough(em, ctx, minorId, 0, field, day, 'a record');
  const [child]: { birth_date: string }[] = await em.query(`SELECT birth_date::text FROM registry.minor WHERE id = $1`, [minorId]);
  if (day < child.birth_date) refuseStating(ctx, minorId, 'Minor.birthDate', field, `must not be before the child was born (${child.birth_date})`);
}

/**
 * The record's own day, by the name of its field (YYYY-MM-DD), which `requireBorn` bounds; null for
 * a record whose day may fall before the child's birth (a parent's custody). Required of every
 * create and update, so that a new kind of record is not written without deciding.
 */
export type OwnDay = string | null;

const bornBy = (em: EntityManager, ctx: HubContext, minorId: string, fields: object, day: OwnDay): Promise<void> =>
  day === null ? Promise.resolve() : requireBorn(em, ctx, minorId, day, (fields as Record<string, string>)[day]!);

/**
 * Creates a record about a child of the caller's jurisdiction (else NOT_FOUND), in one
 * transaction: `check` runs on the child found, before anything is written (e.g. `requireOldEnough`);
 * `then` after the insert, inside it (e.g. a notification that must exist iff the record does).
 */
export function createRecord<T extends ChildRecord>(
  ctx: HubContext,
  entity: new () => T,
  minorId: string,
  fields: RecordFields<T>,
  hooks: {
    day: OwnDay;
    check?: (em: EntityManager, minorId: string) => Promise<void>;
    then?: (em: EntityManager, record: T, gridCode: string) => Promise<unknown>;
  },
): Promise<T> {
  return ctx.db.transaction(async (em) => {
    const child = await requireMinor(em, ctx, minorId);
    // Found, as `lockRecord` records: a commit whose outcome is unknown leaves the event no change,
    // yet the caller learnt the child is in its jurisdiction, and the child's history must show it.
    ctx.access.found(child.minorId, entity.name);
    await bornBy(em, ctx, child.minorId, fields, hooks.day);
    await hooks.check?.(em, child.minorId);
    const repo = em.getRepository(entity);
    const record = repo.create({ ...fields, id: randomUUID(), minorId: child.minorId } as DeepPartial<T>);
    await repo.insert(record as never);
    await hooks.then?.(em, record, child.gridCode);
    return record;
  });
}

/**
 * The keys of `fields` whose values writing them over a loaded record would change. A validated
 * input gives what the columns read back as (text, a day as YYYY-MM-DD, a number, null); a value of
 * another form counts as a change, so that a doubt records one rather than hides it.
 */
export function changedFields(record: object, fields: object): string[] {
  const held = record as Record<string, unknown>;
  return Object.entries(fields)
    .filter(([key, value]) => {
      const was = held[key];
      return was instanceof Date && value instanceof Date ? was.getTime() !== value.getTime() : (was ?? null) !== (value ?? null);
    })
    .map(([key]) => key);
}

/**
 * An update's answer, its event naming the input fields it changed (AccessLog.changedOnly): not
 * those given the value they held, which it had recorded as changed too.
 */
export const updated = <T extends object>(ctx: HubContext, answer: T, changed: string[]): T =>
  ctx.access.changedOnly(answer, ['id', ...changed.map((key) => `input.${key}`)]);

/**
 * Replaces a record's fields (the input carries all of them; the child cannot change), in one
 * transaction. Only records the caller's jurisdiction covers can be found; `check` runs on the
 * record found, before anything is written (e.g. `requireOldEnough`).
 */
export function updateRecord<T extends ChildRecord>(
  ctx: HubContext,
  entity: new () => T,
  id: string,
  what: string,
  fields: RecordFields<T>,
  hooks: { day: OwnDay; check?: (em: EntityManager, record: T) => Promise<void> },
): Promise<T> {
  return ctx.db.transaction(async (em) => {
    const record = await lockRecord(em, ctx, entity, id, what);
    await bornBy(em, ctx, record.minorId, fields, hooks.day);
    await hooks.check?.(em, record);
    return writeFields(em, ctx, entity, record, fields);
  });
}

/**
 * Writes `fields` over a record locked in `em`'s transaction — or nothing, when it holds them all
 * already: such an answer is marked unchanged (AccessLog.unchanged), no change in the event.
 * An update resends every field and most corrections change one (an incident closed, a plan
 * ended): the event names those that changed (AccessLog.changedOnly), as updateMinor's does, or
 * whoever closed an incident would read in the trail as having rewritten its narrative.
 */
export async function writeFields<T extends ChildRecord>(em: EntityManager, ctx: HubContext, entity: new () => T, record: T, fields: RecordFields<T>): Promise<T> {
  const changed = changedFields(record, fields);
  if (!changed.length) return ctx.access.unchanged(record);
  Object.assign(record, fields);
  await em.getRepository(entity).save(record as never);
  return updated(ctx, record, changed);
}

/**
 * The first and latest day recorded on a record's sub-records (a report's persuasion actions, a
 * plan's visits, a case's follow-ups; null without any): a correction of the record's own date is
 * bounded by the first, not only the latest.
 */
export async function subRecordDays<T extends object>(
  em: EntityManager,
  entity: new () => T,
  day: keyof T & string,
  parent: keyof T & string,
  parentId: string,
): Promise<{ first: string | null; last: string | null }> {
  const columns = em.getRepository(entity).metadata;
  const dayColumn = columns.findColumnWithPropertyName(day)!.databaseName;
  const parentColumn = columns.findColumnWithPropertyName(parent)!.databaseName;
  const row = await em
    .getRepository(entity)
    .createQueryBuilder('s')
    .select(`min(s.${dayColumn})::text`, 'first')
    .addSelect(`max(s.${dayColumn})::text`, 'last')
    .where(`s.${parentColumn} = :parentId`, { parentId })
    .getRawOne<{ first: string | null; last: string | null }>();
  return { first: row?.first ?? null, last: row?.last ?? null };
}

/**
 * A sub-record's mutation that also set fields of its parent (a persuasion action closing its report,
 * a visit moving its plan's latest visit on) changed that record too: its event names it, as the
 * parent's own update would, so that an auditor finds who closed report X from the trail alone.
 * Given once the transaction committed, so that a rolled-back write records nothing.
 */
export function parentChanged(ctx: HubContext, mutation: string, parent: ChildRecord, fields: string[]): void {
  ctx.access.changed({ fields: [...fields].sort(), id: parent.id, minorId: parent.minorId, mutation });
}
