import { parse } from 'graphql';
import { Department } from '../src/auth/principal';
import { InProcessDataSource } from '../src/gateway/in-process.data-source';
import { buildSubgraph } from '../src/gateway/supergraph';
import { buildPolicy } from '../src/server/bootstrap';
import { registrySubgraph } from '../src/subgraphs/registry';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/**
 * An operation one subgraph answers alone skips the query planner (FastPathGateway). Adding a
 * root field of another subgraph to the same operation forces the planned path, so each case is
 * asked both ways and must give the same answer, errors and audit record.
 */
describe('fast path for single-subgraph operations', () => {
  let t: TestHub;
  let minorId: string;
  const CHILD = `minor(id: $id) { id name idNumber birthDate currentAddress guardians { name phone } categories { category } }`;
  const alone = `query Alone($id: ID!) { ${CHILD} }`;
  const planned = `query Planned($id: ID!) { ${CHILD} statisticsScope { level } }`;

  beforeAll(async () => {
    t = await startTestHub();
    [{ id: minorId }] = await t.sql(`SELECT m.id FROM registry.minor m WHERE EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) ORDER BY m.id LIMIT 1`);
  });
  afterAll(() => t.stop());

  it.each([Department.CIVIL_AFFAIRS, Department.EDUCATION, Department.JUSTICE])('serves %s the same data, refusals, masks and audit either way', async (department) => {
    const token = await t.token(department);
    const a = await post(t, token, { query: alone, variables: { id: minorId } });
    const b = await post(t, token, { query: planned, variables: { id: minorId } });
    expect(b.json.data.statisticsScope).toBeTruthy();
    expect(a.json.data.minor).toEqual(b.json.data.minor);
    type Error = { path?: unknown[]; extensions?: Record<string, unknown> };
    const refusals = (errors: Error[] = []) => errors.map((e) => ({ path: e.path, code: e.extensions?.code, serviceName: e.extensions?.serviceName }));
    expect(refusals(a.json.errors)).toEqual(refusals(b.json.errors).filter((e) => e.path?.[0] === 'minor'));
    expect((await eventOf(t, a.requestId)).reads).toEqual((await eventOf(t, b.requestId)).reads);
  });

  it('refuses a missing or mistyped variable as bad input either way, not as an internal error', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    for (const variables of [undefined, { id: { not: 'an id' } }]) {
      const a = await post(t, token, { query: alone, variables });
      const b = await post(t, token, { query: planned, variables });
      expect([a.status, a.json.errors.map((e: any) => e.extensions.code)]).toEqual([400, ['BAD_USER_INPUT']]);
      const summary = (r: typeof a) => [r.status, r.json.data, r.json.errors.map((e: any) => [e.message, e.extensions])];
      expect(summary(a)).toEqual(summary(b));
      expect((await eventOf(t, a.requestId)).outcome).toBe('INVALID');
    }
  });

  it('refuses a DateTimeISO variable the scalar refuses before anything runs, alone and beside another subgraph’s field', async () => {
    // The supergraph checks DateTimeISO as the registry does (checkCustomScalars): the planned path
    // no longer runs the other root fields under the refusal.
    const before = '-005000-01-01T00:00:00.000Z';
    const field = `minors(first: 1, filter: { nextVisitDueBefore: $before }) { totalCount }`;
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const message = `Variable "$before" got invalid value "${before}"; DateTime cannot represent an invalid date-time-string ${before}.`;
      for (const query of [`query($before: DateTimeISO) { ${field} }`, `query($before: DateTimeISO) { ${field} statisticsScope { level } }`]) {
        const r = await post(t, token, { query, variables: { before } });
        expect([r.status, r.json]).toEqual([400, { errors: [{ message, locations: [{ line: 1, column: expect.any(Number) }], extensions: { code: 'BAD_USER_INPUT' } }] }]);
        expect((await eventOf(t, r.requestId)).outcome).toBe('INVALID');
      }
      expect(log).not.toHaveBeenCalled(); // nothing unexpected happened
    } finally {
      log.mockRestore();
    }
  });

  it('refuses a DateTimeISO literal the scalar refuses as bad input before anything runs, alone and beside another subgraph’s field', async () => {
    const field = `minors(first: 1, filter: { nextVisitDueBefore: "not-a-date" }) { totalCount }`;
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const message = 'DateTime cannot represent an invalid date-time-string not-a-date.';
      for (const query of [`{ ${field} }`, `{ ${field} statisticsScope { level } }`]) {
        const r = await post(t, token, { query });
        expect([r.status, r.json.data, r.json.errors]).toEqual([400, undefined, [{ message, locations: [{ line: 1, column: expect.any(Number) }], extensions: { code: 'BAD_USER_INPUT' } }]]);
        const e = await eventOf(t, r.requestId);
        expect([e.outcome, e.errorCodes]).toEqual(['INVALID', ['BAD_USER_INPUT']]);
      }
      expect(log).not.toHaveBeenCalled(); // nothing unexpected happened
    } finally {
      log.mockRestore();
    }
  });

  it('refuses a null given for a variable in a non-null position before anything runs, on the fast path and the planner', async () => {
    // Valid (a nullable variable with a default may stand in a non-null position): graphql-js, or the
    // gateway for a root field's @include, would refuse the null only while executing, as an
    // unexpected error.
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const cases: [string, Record<string, unknown>, string][] = [
        [`query($id: ID = "${minorId}") { minor(id: $id) { name } }`, { id: null }, 'Variable "$id" is null where a value of type "ID!" is required'],
        [`query($first: Int) { minors(first: $first) { totalCount } }`, { first: null }, 'Variable "$first" is null where a value of type "Int!" is required'],
        [`query($id: ID!, $grid: Boolean = true) { minor(id: $id) { name grid @include(if: $grid) { code } } }`, { id: minorId, grid: null }, 'Variable "$grid" is null where a value of type "Boolean!" is required'],
        [`query($s: Boolean = true) { regions @include(if: $s) { code } }`, { s: null }, 'Variable "$s" is null where a value of type "Boolean!" is required'],
        [`query($r: RiskLevel = RED) { minors(filter: { riskLevels: [$r] }) { totalCount } }`, { r: null }, 'Variable "$r" is null where a value of type "RiskLevel!" is required'],
      ];
      for (const [query, variables, message] of cases) {
        const alone = await post(t, token, { query, variables });
        const planned = await post(t, token, { query: query.replace(/ }$/, ' statisticsScope { level } }'), variables });
        for (const r of [alone, planned]) {
          expect([r.status, r.json.data, r.json.errors]).toEqual([400, undefined, [{ message, extensions: { code: 'BAD_USER_INPUT' } }]]);
          expect((await eventOf(t, r.requestId)).outcome).toBe('INVALID');
        }
      }
      // Given a value, or left to its default, the same operations run.
      const served = await post(t, token, { query: `query($s: Boolean = true) { regions @include(if: $s) { code } statisticsScope { level } }`, variables: {} });
      expect([served.status, served.json.errors, served.json.data.regions.length > 0]).toEqual([200, undefined, true]);
      expect(log).not.toHaveBeenCalled(); // nothing unexpected happened
    } finally {
      log.mockRestore();
    }
  });

  it('refuses what the policy refuses on the fast path too', async () => {
    const r = await t.gql(await t.token(Department.EDUCATION), alone, { id: minorId });
    expect(errorCodes(r)).toContain('FORBIDDEN');
    expect(r.data.minor.birthDate).toBeNull(); // EDUCATION: DENY
    expect(r.data.minor.idNumber).toMatch(/^\d{6}\*{12}$/); // EDUCATION: MASK
  });

  it('answers introspection from the supergraph, not from the subgraph that owns the root field', async () => {
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `{ __schema { queryType { fields { name } } } }`);
    const names = r.data.__schema.queryType.fields.map((f: { name: string }) => f.name);
    expect(names).toEqual(expect.arrayContaining(['minor', 'minorCounts', 'auditEvents']));
    expect(errorCodes(r)).toEqual([]);
  });

  it('validates a document against the one subgraph defining its root fields, and against none when two subgraphs hold them', async () => {
    // Each check is a whole validation of the document: asked of each of nine subgraphs in turn,
    // a few kilobytes of repeated fields held the event loop for seconds.
    const asked = jest.spyOn(InProcessDataSource.prototype, 'answersAlone');
    try {
      const token = await t.token(Department.CIVIL_AFFAIRS);
      const grids = ' grid { parent { code } }'.repeat(10);
      const across = await post(t, token, { query: `query Across($id: ID!) { minor(id: $id) {${grids} } statisticsScope { level } }`, variables: { id: minorId } });
      expect([across.status, across.json.errors, across.json.data.statisticsScope]).toEqual([200, undefined, expect.any(Object)]);
      expect(asked).not.toHaveBeenCalled();
      const one = await post(t, token, { query: `query One($id: ID!) { minor(id: $id) {${grids} } regions { code } }`, variables: { id: minorId } });
      expect([one.status, one.json.errors]).toEqual([200, undefined]);
      expect(asked).toHaveBeenCalledTimes(1);
      expect(asked.mock.results[0].value).toBe(true); // the registry's, answered on the fast path
    } finally {
      asked.mockRestore();
    }
  });

  it('plans every operation of a subgraph that declares a field resolved with another subgraph', async () => {
    const policy = buildPolicy();
    const registry = await buildSubgraph(registrySubgraph, policy);
    const document = parse(`{ minor(id: "00000000-0000-0000-0000-000000000000") { id name } }`);
    const source = (sdl: string) => new InProcessDataSource(t.config, { ...registry, sdl }, policy, t.hub.db.ds);
    expect(source(registry.sdl).answersAlone(document)).toBe(true);
    const requiring = `${registry.sdl}\nextend type Minor @key(fields: "id") { schoolName: String @requires(fields: "name") }`;
    expect(source(requiring).answersAlone(document)).toBe(false);
    // A field another subgraph resolves as well (the first `name` of the SDL): the planner may fetch it there.
    const shared = registry.sdl.replace(/(\n\s+name: String)(!?)/, '$1$2 @shareable');
    expect(shared).not.toBe(registry.sdl);
    expect(source(shared).answersAlone(document)).toBe(false);
  });
});
