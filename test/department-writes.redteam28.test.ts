import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { post } from './support/audit-helpers';
import { type LostReplyProxy, startHubBehindLostReplyProxy } from './support/lost-reply-proxy';
import { DEFAULT_PURPOSE, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 28 (rt28-writes): the write mutations of the department subgraphs and the registry.
 * One hub on a database reached through a proxy that can lose a COMMIT's reply (as the
 * database-timeouts tests do), with a 1 s statement timeout.
 */
const { CIVIL_AFFAIRS: CA, POLICE: PO } = Department;
const STREET = '330102001';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('department and registry writes (rt28-writes)', () => {
  let t: TestHub;
  let proxy: LostReplyProxy;
  let databaseUrl: string;
  let offset = 0;
  const childOfStreet = async (): Promise<string> =>
    (
      await t.sql(
        `SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now() + interval '30 days') ORDER BY id OFFSET $2 LIMIT 1`,
        [`${STREET}%`, 40 + offset++],
      )
    )[0].id;

  /** Runs `work` while another session holds the child's registry row FOR UPDATE (as a registry write does). */
  async function whileChildLocked<T>(minorId: string, work: () => Promise<T>): Promise<T> {
    const locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [minorId]);
      return await work();
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  }

  const refusal = (r: { status: number; json: any }) => [r.status, (r.json.errors ?? []).map((e: any) => [e.extensions?.code, e.message])];

  beforeAll(async () => {
    ({ t, proxy, databaseUrl } = await startHubBehindLostReplyProxy());
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  // Bug: updateMinor looks the child up (lockMinor, FOR UPDATE) before it validates its input
  // (minor-mutation.resolver.ts updateMinor: name, addresses, school and gridCode are checked after
  // the lock). Every other registry write validates first. So an empty name is answered NOT_FOUND
  // for an id the caller does not have, and for a child whose row another write holds it waits out
  // the statement timeout and is answered DATABASE_UNAVAILABLE (503, Retry-After: "try again
  // shortly") — the client retries a request that can never succeed.
  it('updateMinor refuses an empty name BAD_USER_INPUT at once, whoever holds the child and whatever the id, as addGuardian does', async () => {
    const ca = await t.token(CA, { region: STREET });
    const child = await childOfStreet();
    const update = (id: string) => post(t, ca, { query: `mutation($id: ID!) { updateMinor(id: $id, input: { name: "   " }) { id } }`, variables: { id } }, DEFAULT_PURPOSE);
    const guardian = (id: string) =>
      post(t, ca, { query: `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "   " }) { id } }`, variables: { id } }, DEFAULT_PURPOSE);
    const expected = (field: string) => [200, [['BAD_USER_INPUT', `${field}: must not be empty`]]];
    // The pattern every other registry write follows.
    expect(refusal(await guardian(UNKNOWN))).toEqual(expected('name'));
    expect(refusal(await whileChildLocked(child, () => guardian(child)))).toEqual(expected('name'));
    // updateMinor.
    expect(refusal(await whileChildLocked(child, () => update(child)))).toEqual(expected('name'));
    expect(refusal(await update(UNKNOWN))).toEqual(expected('name'));
  });

  // Bug: removeCategory takes NEEDS_SUPPORT (the mask's value, which no child can hold: CHECK
  // category <> 'NEEDS_SUPPORT') as a category to look for: it locks the child, records a read of
  // Minor.categories and answers "the minor does not have this category" (NOT_FOUND for an unknown
  // id; DATABASE_UNAVAILABLE 503 when the child's row is held), where addCategory refuses it up front
  // ("NEEDS_SUPPORT is not a category").
  it('removeCategory(NEEDS_SUPPORT) is refused as addCategory(NEEDS_SUPPORT) is: BAD_USER_INPUT before any child is looked up', async () => {
    const ca = await t.token(CA, { region: STREET });
    const child = await childOfStreet();
    const call = (m: 'addCategory' | 'removeCategory', id: string) =>
      post(t, ca, { query: `mutation($id: ID!) { ${m}(minorId: $id, category: NEEDS_SUPPORT) { id } }`, variables: { id } }, DEFAULT_PURPOSE);
    const expected = [200, [['BAD_USER_INPUT', 'category: NEEDS_SUPPORT is not a category']]];
    expect(refusal(await call('addCategory', UNKNOWN))).toEqual(expected);
    expect(refusal(await call('addCategory', child))).toEqual(expected);
    expect(refusal(await whileChildLocked(child, () => call('removeCategory', child)))).toEqual(expected);
    expect(refusal(await call('removeCategory', UNKNOWN))).toEqual(expected);
  });

  // Bug: createRecord (shared/record-writes.ts) finds the child with requireMinor and records
  // nothing of it until the write's change is recorded after the commit; lockRecord records the
  // record's child as found (`ctx.access.found`) as soon as it is locked. A create whose COMMIT's
  // reply is lost and cannot be settled (COMMIT_OUTCOME_UNKNOWN, "may be stored") therefore leaves
  // an event that names no child — the record, stored, about a child whose access history never
  // shows who wrote it — while an update in the same doubt is in its child's history.
  it('a department create whose commit is in doubt is in its child’s access history, as an update in doubt is', async () => {
    const child = await childOfStreet();
    const po = await t.token(PO, { region: STREET, user: 'rt28-doubt' });
    const auditor = await t.token(CA, { role: Role.AUDITOR, region: STREET });
    const input = (narrative: string) => ({ type: 'MISSING', occurredOn: '2025-01-02', status: 'REPORTED', handlingUnit: '清波派出所', narrative });
    const made = await t.gql(po, `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: child, i: input('首次') });
    const id = made.data.createPoliceIncident.id;
    const inDoubt = async (statement: string, query: string, variables: Record<string, unknown>) => {
      proxy.loseNextCommit(statement, 'reply', 3000);
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await post(t, po, { query, variables }, DEFAULT_PURPOSE);
        expect(proxy.lost()).toBe(true);
        expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['COMMIT_OUTCOME_UNKNOWN']);
        return r.requestId;
      } finally {
        log.mockRestore();
        await new Promise((resolve) => setTimeout(resolve, 3500)); // the database reachable again
      }
    };
    const updated = await inDoubt('UPDATE "police"."incident"', `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id } }`, { id, i: input('更正') });
    const created = await inDoubt('INSERT INTO "police"."incident"', `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: child, i: input('结果不明') });
    // Both committed, as it happens.
    expect((await t.sql(`SELECT narrative FROM police.incident WHERE minor_id = $1 AND handling_unit = '清波派出所' ORDER BY narrative`, [child])).map((r) => r.narrative).sort()).toEqual(
      ['更正', '结果不明'].sort(),
    );
    await t.hub.audit.drain();
    const history = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m) { requestId outcome } }`, { m: child }, {});
    const requests = history.data.minorAccessHistory.map((h: { requestId: string }) => h.requestId);
    expect(requests).toContain(updated);
    expect(requests).toContain(created);
  });
});
