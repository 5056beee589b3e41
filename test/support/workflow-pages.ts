import { randomUUID } from 'node:crypto';
import { eventOf, post } from './audit-helpers';
import { DEFAULT_PURPOSE, errorCodes, TestHub } from './test-hub';
import { expectAnsweredAsUnknown } from './unknown-id';

/**
 * A workflow list (`overdueVisits`, `overdueReports`, `notifications`, `referrals`, `mandatoryReports`, `myReports`, `barredPersons`)
 * asked by `query`, which takes `$first: Int!` and `$after: ID` beside `variables`; `idOf` is the
 * id a client passes as `after` for an item.
 */
export interface WorkflowList {
  t: TestHub;
  token: string;
  query: string;
  list: string;
  idOf: (item: any) => string;
  variables?: Record<string, unknown>;
}

async function page(l: WorkflowList, first: number, after: string | null): Promise<any[]> {
  const r = await l.t.gql(l.token, l.query, { ...l.variables, first, after });
  expect(r.errors).toBeUndefined();
  return r.data[l.list];
}

/** The ids of the list paged `first` at a time, each page after the last item of the one before, to a page shorter than `first`. */
export async function pagedIds(l: WorkflowList, first: number): Promise<string[]> {
  const ids: string[] = [];
  for (let after: string | null = null; ; ) {
    const items = await page(l, first, after);
    ids.push(...items.map(l.idOf));
    if (items.length < first) return ids;
    after = ids[ids.length - 1];
  }
}

/** Paged 2 and 3 at a time, the list is exactly its one page of 500, in order; returns those ids. */
export async function expectPagedToItsEnd(l: WorkflowList): Promise<string[]> {
  const all = (await page(l, 500, null)).map(l.idOf);
  expect(all.length).toBeGreaterThan(3);
  expect(all.length).toBeLessThan(500);
  for (const first of [2, 3]) expect(await pagedIds(l, first)).toEqual(all);
  return all;
}

/**
 * Each of `refused` (ids that are no item of the list the caller may see, whatever the filters) is
 * answered as a random id is — BAD_USER_INPUT on `after`, the same audit events and statements —
 * and so is an `after` that is no id at all.
 */
export async function expectAfterRefusedAlike(l: WorkflowList, refused: string[]): Promise<void> {
  const asked = (after: string) => ({ ...l.variables, first: 10, after });
  for (const after of [...refused, 'not-an-id']) {
    const r = await expectAnsweredAsUnknown(l.t, l.token, l.query, asked(after), asked(randomUUID()));
    expect([r.json.data, errorCodes(r.json), r.json.errors[0].extensions.field]).toEqual([{ [l.list]: null }, ['BAD_USER_INPUT'], 'after']);
  }
}

/**
 * Each of `filteredOut` (items the caller may see that these filters leave out, each of the child
 * `minorId`, or of none) is answered as a random id is — BAD_USER_INPUT on `after` — and its event
 * records the filters' tests (`fields`) of that child: that it was refused tells it does not pass them.
 */
export async function expectAfterFilteredOut(l: WorkflowList, filteredOut: { id: string; minorId: string | null }[], fields: Record<string, string>): Promise<void> {
  const asked = (after: string) => ({ query: l.query, variables: { ...l.variables, first: 10, after } });
  for (const { id, minorId } of filteredOut) {
    const refused = await post(l.t, l.token, asked(id), DEFAULT_PURPOSE);
    const unknown = await post(l.t, l.token, asked(randomUUID()), DEFAULT_PURPOSE);
    expect([refused.status, refused.json]).toEqual([unknown.status, unknown.json]);
    expect([errorCodes(refused.json), refused.json.errors[0].extensions.field]).toEqual([['BAD_USER_INPUT'], 'after']);
    expect((await eventOf(l.t, refused.requestId)).reads).toEqual(minorId ? [{ minorId, fields }] : []);
    expect((await eventOf(l.t, unknown.requestId)).reads).toEqual([]);
  }
}

/** A page of 10 and one of 100, each after `after`, cost the same statements (a list of more than 101 items after it). */
export async function expectStatementsPerPageFlat(l: WorkflowList, after: string): Promise<void> {
  const statementsFor = async (first: number) => {
    const before = l.t.hub.db.statements.count;
    expect(await page(l, first, after)).toHaveLength(first);
    return l.t.hub.db.statements.count - before;
  };
  await statementsFor(10); // warm-up: the first request also loads the region directory
  expect(await statementsFor(100)).toBe(await statementsFor(10));
}
