import { Department } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team, round 13, of the gateway's public endpoint: federation internals not reachable, the
 * fast path (one subgraph answers alone) and the planner (the same operation beside another one the
 * registry cannot answer) answering and auditing the same operation alike, and variables named
 * after Object.prototype members answered alike by the compiled and the general path.
 */
describe('federation boundary (redteam13)', () => {
  let t: TestHub;
  const STREET = '330102001';
  let own: string;
  let other: string;
  beforeAll(async () => {
    t = await startTestHub();
    [{ id: own }] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(m.birth_date, now())
         AND EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category IN ('DOMESTIC_VIOLENCE','CRIME_VICTIM','INCARCERATED_PARENT')) ORDER BY id LIMIT 1`,
    );
    [{ id: other }] = await t.sql(`SELECT m.id FROM registry.minor m WHERE grid_code NOT LIKE '${STREET}%' AND registry.is_minor(m.birth_date, now()) ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  const ask = async (dep: Department, query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const r = await post(t, await t.token(dep, { region: STREET }), { query, variables, ...extra });
    const ev = await storedEventOf(t, r.requestId);
    return { status: r.status, json: r.json, ev: { outcome: ev.outcome, errorCodes: ev.errorCodes, reads: ev.reads } };
  };

  it('keeps _service, _entities and the federation types out of the client schema, audited as invalid', async () => {
    for (const [q, v] of [
      [`{ _service { sdl } }`, undefined],
      [`query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, { r: [{ __typename: 'Minor', id: other }] }],
      [`query($id: ID!) { minor(id: $id) { ... @defer { schoolEnrollments { __typename } } } }`, { id: own }],
    ] as const) {
      const r = await ask(Department.EDUCATION, q, v as Record<string, unknown> | undefined);
      expect([r.status, r.json.data, r.ev.outcome, r.ev.reads]).toEqual([400, undefined, 'INVALID', []]);
    }
    const types = await ask(Department.EDUCATION, `{ a: __type(name: "_Entity") { name } b: __type(name: "_Any") { name } c: __type(name: "_Service") { name } }`);
    expect(types.json.data).toEqual({ a: null, b: null, c: null });
  });

  it('tells nothing of a child of another street, whether one subgraph or the planner answers', async () => {
    for (const q of [
      `query($id: ID!) { minor(id: $id) { __typename } }`,
      `query($id: ID!) { minor(id: $id) { birthDate } }`,
      `query($id: ID!) { minor(id: $id) { birthDate schoolEnrollments { __typename } } }`,
      `query($id: ID!) { minor(id: $id) { schoolEnrollments { __typename } } }`,
    ]) {
      const r = await ask(Department.EDUCATION, q, { id: other });
      expect([r.status, r.json, r.ev]).toEqual([200, { data: { minor: null } }, { outcome: 'SUCCESS', errorCodes: [], reads: [] }]);
    }
  });

  it('answers and audits an operation alike whether the registry answers it alone or the planner does (beside another operation)', async () => {
    const EXTRA = ` query Z { policeIncidents(first: 1) { nodes { id } } }`;
    const qs: [Department, string, Record<string, unknown>][] = [
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { id birthDate } }`, { id: own }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { name idNumber categories { category } } }`, { id: own }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { name } }`, { id: other }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { name } }`, { id: 'not-a-uuid' }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { __typename } }`, { id: own }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { guardians { name situation } } }`, { id: own }],
      [Department.EDUCATION, `query A($id: String!) { minorByIdNumber(idNumber: $id) { name } }`, { id: 'x' }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { name } }`, {}],
      [Department.POLICE, `query A($id: ID!) { minor(id: $id) { name birthDate idNumber } }`, { id: own }],
      [Department.EDUCATION, `query A($id: ID!) { minor(id: $id) { riskAssessments { reasons level } } }`, { id: own }],
      [Department.EDUCATION, `query A($id: ID!, $s: Boolean!) { minor(id: $id) { id ... @include(if: $s) { birthDate } } }`, { id: own, s: false }],
    ];
    // The gateway drops a subgraph error's locations (test/fast-path.redteam6.test.ts): not compared.
    const strip = (r: Awaited<ReturnType<typeof ask>>) => {
      for (const e of r.json?.errors ?? []) delete e.locations;
      return r;
    };
    for (const [d, q, v] of qs) {
      const a = strip(await ask(d, q, v, { operationName: 'A' }));
      const b = strip(await ask(d, q + EXTRA, v, { operationName: 'A' }));
      expect({ q, ...b }).toEqual({ q, ...a });
    }
  });

  it('serves a variable named after an Object.prototype member alike on the compiled and the general path', async () => {
    const general = await startTestHub({ databaseUrl: t.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    try {
      for (const [q, raw] of [
        [`query Child($__proto__: ID!) { minor(id: $__proto__) { id name } }`, `{"__proto__":"${own}"}`],
        [`query Child($__proto__: ID!) { minor(id: $__proto__) { id name schoolEnrollments { __typename } } }`, `{"__proto__":"${own}"}`],
        [`query Child($constructor: ID!) { minor(id: $constructor) { id name } }`, `{"constructor":"${own}"}`],
        [`query Child($hasOwnProperty: ID!) { minor(id: $hasOwnProperty) { id name } }`, `{"hasOwnProperty":"${own}"}`],
        [`query Child($id: ID! = "${own}") { minor(id: $id) { id name } }`, `{"__proto__":{"id":"${other}"}}`],
      ]) {
        const answers = [];
        for (const hub of [t, general]) {
          const token = await hub.token(Department.EDUCATION, { region: STREET });
          const res = await postRaw(hub, token, q, raw);
          const text = await res.text();
          const { requestId, time, durationMs, clientAddress, hash, prevHash, ...ev } = await storedEventOf(hub, res.headers.get('x-request-id')!);
          answers.push({ status: res.status, text, ev });
        }
        expect({ q, ...answers[0] }).toEqual({ q, ...answers[1] });
        expect(JSON.parse(answers[0].text).data.minor.id).toBe(own);
      }
    } finally {
      await general.stop();
    }
  });

  describe('with every subgraph served alone', () => {
    let d: TestHub;
    beforeAll(async () => {
      d = await startDistributedTestHub();
    });
    afterAll(() => d?.stop());

    it('answers and audits fields left out by @skip/@include, and children answered with nothing selected, as in process', async () => {
      for (const [dep, q, v] of [
        [Department.EDUCATION, `query($id: ID!) { minor(id: $id) { id @skip(if: true) } }`, { id: own }],
        [Department.EDUCATION, `query($id: ID!) { minor(id: $id) { id @skip(if: true) } }`, { id: other }],
        [Department.EDUCATION, `query($id: ID!) { minor(id: $id) { schoolEnrollments @skip(if: true) { __typename } } }`, { id: own }],
        [Department.EDUCATION, `query($id: ID!, $v: Boolean!) { minor(id: $id) { id @include(if: $v) name schoolEnrollments { __typename } } }`, { id: own, v: false }],
        [Department.POLICE, `{ policeIncidents(first: 3) { nodes { minor { name @skip(if: true) } } } }`, {}],
        [Department.POLICE, `{ policeIncidents(first: 3) { nodes { id minor @skip(if: true) { name } } } }`, {}],
        [Department.CIVIL_AFFAIRS, `{ referrals(first: 3) { minor { name @skip(if: true) } } }`, {}],
        [Department.EDUCATION, `{ minors(first: 2) { edges { node { name @skip(if: true) } } } }`, {}],
        [Department.POLICE, `query($id: ID!) { minor(id: $id) { policeIncidents(first: 0) { id } } }`, { id: own }],
        [Department.POLICE, `query($id: ID!) { minor(id: $id) { policeIncidents(after: "garbage") { id } } }`, { id: own }],
      ] as const) {
        const out = [];
        for (const hub of [t, d]) {
          const r = await post(hub, await hub.token(dep, { region: STREET }), { query: q, variables: v });
          for (const e of r.json.errors ?? []) delete e.locations;
          const ev = await storedEventOf(hub, r.requestId);
          out.push({ status: r.status, json: r.json, ev: { outcome: ev.outcome, errorCodes: ev.errorCodes, reads: ev.reads } });
        }
        expect({ q, ...out[1] }).toEqual({ q, ...out[0] });
        // A child answered, even with nothing of it selected, is named in the event.
        if (JSON.stringify(out[0].json.data ?? null).includes('{}')) expect(out[0].ev.reads.length).toBeGreaterThan(0);
      }
    });

    it('serves a variable named after an Object.prototype member as in process', async () => {
      for (const [q, raw] of [
        [`query Child($__proto__: ID!) { minor(id: $__proto__) { id name } }`, `{"__proto__":"${own}"}`],
        [`query Child($__proto__: ID!) { minor(id: $__proto__) { id name schoolEnrollments { __typename } } }`, `{"__proto__":"${own}"}`],
        [`query Child($constructor: ID!) { minor(id: $constructor) { id name schoolEnrollments { __typename } } }`, `{"constructor":"${own}"}`],
        [`query Child($toString: ID!) { minor(id: $toString) { id name } }`, `{"toString":"${own}"}`],
        [`query Child($id: ID!, $__proto__: Int) { minor(id: $id) { id name policeIncidents(first: $__proto__) { id } } }`, `{"id":"${own}","__proto__":1}`],
      ]) {
        const answers = [];
        for (const hub of [t, d]) {
          const token = await hub.token(Department.CIVIL_AFFAIRS, { region: STREET });
          const res = await postRaw(hub, token, q, raw);
          const json = (await res.json()) as { errors?: { locations?: unknown }[] };
          for (const e of json.errors ?? []) delete e.locations;
          const ev = await storedEventOf(hub, res.headers.get('x-request-id')!);
          answers.push({ status: res.status, json, ev: { outcome: ev.outcome, errorCodes: ev.errorCodes, reads: ev.reads, variables: ev.variables } });
        }
        expect({ q, ...answers[1] }).toEqual({ q, ...answers[0] });
      }
    });
  });
});

/** Variables sent as written, so that keys such as `__proto__` reach the server as keys. */
function postRaw(hub: TestHub, token: string, query: string, rawVariables: string): Promise<Response> {
  return fetch(hub.hub.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' },
    body: `{"query":${JSON.stringify(query)},"variables":${rawVariables}}`,
  });
}
