import DataLoader from 'dataloader';
import type { EntityManager } from 'typeorm';
import { queryByKeys } from '../../db/entity-reader';
import { notFound } from '../../errors/hub.exception';
import { HubContext, sliceLoaders } from '../../server/hub.context';
import { isUuid } from '../../common/uuid';
import { Access } from '../../policy/policy.types';
import { jurisdictionPattern, MINORS_UNDER_AT } from '../registry/registry.loaders';

/**
 * The row rule of every department record: visible only when its child's grid lies in the
 * caller's subtree. The grid lives in the registry; departments' statements read it through the
 * view `registry.minor_jurisdiction` (migration 1795400050000) — all but `minorsInJurisdiction`'s,
 * which reads `registry.minor` at the request's clock.
 */
export function inJurisdiction(alias: string, pattern = ':jurisdiction'): string {
  return `EXISTS (SELECT 1 FROM registry.minor_jurisdiction j WHERE j.minor_id = ${alias}.minor_id AND j.grid_code LIKE ${pattern})`;
}

/**
 * `inJurisdiction` as a street's (or finer) list reads it: the caller's children first (by grid), then
 * their records through the record table's child index — work in proportion to the caller's own
 * children, whatever other regions hold. As a semi-join the planner joined the whole record table
 * (a street's count grew with every other street's records) or walked it in id order.
 */
export function ofChildrenInJurisdiction(alias: string, pattern = ':jurisdiction'): string {
  return `${alias}.minor_id = ANY(ARRAY(SELECT j.minor_id FROM registry.minor_jurisdiction j WHERE j.grid_code LIKE ${pattern}))`;
}

export const jurisdictionParams = (ctx: HubContext) => ({ jurisdiction: jurisdictionPattern(ctx) });

/**
 * A department writes only about a child in its jurisdiction; any other id reads as missing.
 * Returns the child's id as the database spells it — a client may write a UUID in capitals, and a
 * record or audit event holding that spelling would not match the child's id anywhere else (the
 * audit's "who touched this child" compares text) — and the child's grid, which stays the child's
 * to the end of the transaction: the child's row is held FOR KEY SHARE, as the record's insert
 * would hold it (its foreign key), only from the look-up on. A move of the child (the registry's
 * writes lock it FOR UPDATE) committed in between had a dropout report told to the grid the child
 * had just left, naming no child there, and to no one where the child now lives. A child outside
 * the jurisdiction is not locked, nor waited for.
 */
export async function requireMinor(em: EntityManager, ctx: HubContext, minorId: string): Promise<{ minorId: string; gridCode: string }> {
  const [found]: { minor_id: string; grid_code: string }[] = isUuid(minorId)
    ? await em.query(`SELECT minor_id, grid_code FROM registry.minor_jurisdiction WHERE minor_id = $1 AND grid_code LIKE $2 FOR KEY SHARE`, [minorId, jurisdictionPattern(ctx)])
    : [];
  if (!found) throw notFound('Minor');
  return { minorId: found.minor_id, gridCode: found.grid_code };
}

export interface MinorReference {
  id: string;
}

/**
 * Children of the caller's jurisdiction among the ids asked, batched per request; null for any other
 * id. Read in the registry at the request's clock, as the registry's readers and the workflow's
 * writes do (README, "Ageing out"): through the departments' view, which can only count by the
 * database's `now()`, a referral created for a 17-year-old a moment before the midnight in China that
 * made them 18 (the two clocks a few milliseconds apart, or HUB_CLOCK_OFFSET_MS in a rehearsal)
 * answered that it named no child.
 */
const minorsInJurisdiction = (ctx: HubContext) =>
  new DataLoader<string, MinorReference | null>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows: { minor_id: string }[] = valid.length ? await queryByKeys(ctx.db, MINORS_UNDER_AT, [valid, jurisdictionPattern(ctx), ctx.now]) : [];
    const found = new Set(rows.map((r) => r.minor_id));
    return ids.map((id) => (found.has(id) ? { id } : null));
  });

/**
 * The reference to a child, when the child is in the caller's jurisdiction; null for a child
 * outside it or unknown, alike. Every field that hands out a reference to a child held by
 * something other than the child's own record (a report's or a notification's child) goes
 * through it, so that the reference is not a way to learn that a child exists elsewhere.
 */
export const minorInJurisdiction = (ctx: HubContext, id: string): Promise<MinorReference | null> =>
  sliceLoaders(ctx, 'minor-in-jurisdiction', minorsInJurisdiction).load(id);

/**
 * A child a write has read in the caller's jurisdiction and holds to its commit (FOR KEY SHARE), at
 * the request's clock: so `minorInJurisdiction` answers for the rest of the request, which asks
 * nothing after the commit — a database that stopped answering then failed a write already made,
 * its change recorded nowhere and a retry inviting a second one.
 */
export function heldInJurisdiction(ctx: HubContext, minorId: string): void {
  knownInJurisdiction(ctx, minorId, { id: minorId });
}

/** What `minorInJurisdiction` answers for `key` for the rest of the request, found by a write's own look-up. */
const knownInJurisdiction = (ctx: HubContext, key: string, seen: MinorReference | null): void => {
  sliceLoaders(ctx, 'minor-in-jurisdiction', minorsInJurisdiction).clear(key).prime(key, seen);
};

/**
 * Asked in place of a record's child when the record names none, so that a record naming a child
 * outside the caller's jurisdiction costs the same statements as one naming no child. A report
 * filed with any ID number is linked to the registered child it names, wherever the child lives,
 * and the filer reads it as naming none: one look-up more for the linked report told the filer,
 * by the statements or the time of each read or step, that the number is a child of the registry.
 * No child has the nil UUID.
 */
export const NO_CHILD = '00000000-0000-0000-0000-000000000000';

/** A record about a child, held outside the child's own record, as one reader is handed it (`asSeenBy`). */
export type Seen<T extends { minorId: string | null }> = Omit<T, 'minorId'> & { minorId: string | null };

/**
 * A record about a child held outside the child's own record (a report made in one street about a
 * child of another, a referral addressed to a street its child has since left) as the caller is
 * handed it: when the child lies outside the caller's jurisdiction, the record names no child to
 * this request. Its `minor` is null, as through `minorInJurisdiction`, and the access wrappers
 * (policy.middleware `childOf`), which attribute a read or a change of the record to its
 * `minorId`, record it as of a record that names no child: the caller's event is read by the
 * auditors of the caller's jurisdiction, to whom the child's id would be the link the caller is
 * never shown. The stored record keeps its child. Batched with `minorInJurisdiction`.
 */
export async function asSeenBy<T extends { minorId: string | null }>(ctx: HubContext, record: T): Promise<Seen<T>> {
  const seen = await minorInJurisdiction(ctx, record.minorId ?? NO_CHILD);
  return seen || !record.minorId ? record : { ...record, minorId: null };
}

/**
 * For the audit: a mutation loaded a record about this child and may yet refuse, saying why (its
 * status); the request learned of the record. Noted only for a child the caller's jurisdiction
 * covers: to anyone else the record names no child (`asSeenBy`), and it is noted as served about
 * someone unnamed, which a purpose bound to one child does not cover. Asked for a record naming no
 * child as well (NO_CHILD).
 * Asked through the mutation's transaction `em`, never the pool: the transaction holds a pooled
 * connection (and the record's row lock) while it waits, so as many such mutations at once as the
 * pool has connections would each wait for a connection none of them gives back — every request
 * of the hub hung. The answer is kept for `minorInJurisdiction`, so the rest of the request
 * (`asSeenBy`, the record's `minor`) asks nothing again.
 */
export async function loadedRecordOf(em: EntityManager, ctx: HubContext, recordType: string, minorId: string | null): Promise<LoadedRecord> {
  const key = minorId ?? NO_CHILD;
  const seen = (await em.query(MINORS_UNDER_AT, [[key], jurisdictionPattern(ctx), ctx.now])).length ? { id: key } : null;
  knownInJurisdiction(ctx, key, seen);
  if (seen) ctx.access.found(key, recordType);
  else ctx.access.servedUnnamedChild();
  return {
    // A refusal that names a field's value (`the referral is ACCEPTED`) serves that value exactly,
    // whether or not the answer selects it: the trail says which field, not only that the record was found.
    refusalStates: (field) => {
      if (seen) ctx.access.read(key, field, Access.ALLOW);
    },
  };
}

/** What `loadedRecordOf` leaves a mutation to record before it refuses. */
export interface LoadedRecord {
  refusalStates(field: string): void;
}

/** `asSeenBy` for a page: one statement for the page's children. */
export const allSeenBy = <T extends { minorId: string | null }>(ctx: HubContext, records: T[]): Promise<Seen<T>[]> =>
  Promise.all(records.map((r) => asSeenBy(ctx, r)));

/**
 * Whether the caller may be handed a reference to a child at all. A subject that reads no child's
 * `Minor.id` (a reporter, an employer, a dashboard, an auditor) gets null for every reference,
 * without a look-up: no field hands them a child, so the gateway never asks for one, but a
 * subgraph's `_entities` called with such a caller's assertion answered a child of their region
 * and an unknown id differently.
 */
export const mayBeHandedChildren = (ctx: HubContext): boolean => ctx.policy.access(ctx.subject, 'Minor.id') !== Access.DENY;

/**
 * `_entities` resolution of `Minor` in a department subgraph, batched: a child outside the
 * caller's jurisdiction (or unknown) resolves to null, so none of the department's fields on it
 * are ever resolved — the same answer as for a child without records.
 */
export function minorReferenceResolvers() {
  return {
    Minor: {
      __resolveReference: (reference: MinorReference, ctx: HubContext) =>
        isUuid(reference.id) && mayBeHandedChildren(ctx) ? minorInJurisdiction(ctx, reference.id) : null,
    },
  };
}
