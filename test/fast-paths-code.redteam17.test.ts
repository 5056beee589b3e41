import { Department, POLICY_SUBJECTS, PolicySubject } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, subjectToken, TestHub, TokenOptions } from './support/test-hub';

/**
 * Red team 17: the shortcuts (compiled reads, the single-subgraph fast path) against the general
 * path. Each probe sends a request a shortcut takes and the same request made ineligible for it
 * (another subgraph's field beside it, or a hub without compiled reads), and expects the same
 * answer for the shared part and the same audit of it.
 */
describe('fast paths against the general path (red team 17)', () => {
  let fast: TestHub;
  let general: TestHub;
  let minorId: string;
  let sparseId: string;
  let outsideId: string;
  const STREET = '330102001';

  beforeAll(async () => {
    fast = await startTestHub();
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    [{ id: minorId }] = await fast.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due IS NOT NULL AND risk_level IS NOT NULL ORDER BY id LIMIT 1`,
    );
    [{ id: sparseId }] = await fast.sql(`SELECT id FROM registry.minor WHERE risk_level IS NULL OR school IS NULL OR next_visit_due IS NULL ORDER BY id LIMIT 1`);
    [{ id: outsideId }] = await fast.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 1`);
  }, 120_000);
  afterAll(async () => {
    await general?.stop();
    await fast?.stop();
  });

  const tokenFor = (subject: PolicySubject, opts: TokenOptions = {}) => subjectToken(fast, subject, opts);

  /** The part of an answer and its event about the registry's fields of Minor. */
  async function minorPart(t: TestHub, token: string, query: string, variables: Record<string, unknown>, headers?: Record<string, string>) {
    const r = await post(t, token, { query, variables }, headers);
    const event = await storedEventOf(t, r.requestId);
    const minor = r.json?.data?.minor;
    const data = minor && typeof minor === 'object' ? Object.fromEntries(Object.entries(minor).filter(([k]) => k !== 'referrals')) : minor;
    const errors = (r.json?.errors ?? [])
      .filter((e: any) => !(e.path ?? []).includes('referrals'))
      .map((e: any) => ({ message: e.message, path: e.path, code: e.extensions?.code, locations: e.locations }));
    const reads = (event.reads ?? []).map((g: any) => ({
      ...g,
      fields: Object.fromEntries(Object.entries(g.fields ?? {}).filter(([k]) => k.startsWith('Minor.') && k !== 'Minor.referrals')),
    }));
    return { status: r.status, data, errors, reads, outcome: event.outcome, errorCodes: event.errorCodes };
  }

  it('answers the registry’s fields of a child alike on the fast path and planned beside another subgraph’s field, for every subject', async () => {
    const type = await general.gql(await fast.token(Department.CIVIL_AFFAIRS), `{ __type(name: "Minor") { fields { name type { kind ofType { kind } } } } }`);
    const leaf = (t: { kind: string; ofType?: { kind: string } }) => ['SCALAR', 'ENUM'].includes(t.kind === 'NON_NULL' ? t.ofType!.kind : t.kind);
    const fields: string[] = type.data.__type.fields.filter((f: any) => leaf(f.type)).map((f: any) => f.name);
    const mismatches: unknown[] = [];
    for (const subject of POLICY_SUBJECTS) {
      const token = await tokenFor(subject);
      for (const selection of [fields.join(' '), fields.filter((f) => f !== 'id').join(' ')]) {
        for (const id of [minorId, sparseId, outsideId]) {
          const a = await minorPart(fast, token, `query C($id: ID!) { minor(id: $id) { ${selection} } }`, { id });
          const b = await minorPart(fast, token, `query C($id: ID!) { minor(id: $id) { ${selection} referrals { id } } }`, { id });
          // The planner fetches the key (Minor.id) to go to the next subgraph: not compared when the client did not ask for it.
          const noKey = (reads: any[]) => reads.map((g) => ({ ...g, fields: Object.fromEntries(Object.entries(g.fields).filter(([k]) => selection.split(' ').includes('id') || k !== 'Minor.id')) }));
          const strip = (x: typeof a) => ({ data: x.data, errors: x.errors.map((e: any) => ({ ...e, locations: undefined })), reads: noKey(x.reads) });
          if (JSON.stringify(strip(a)) !== JSON.stringify(strip(b))) mismatches.push({ subject, selection, id, fastPath: strip(a), planned: strip(b) });
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 600_000);

  it('answers a child’s nested registry records alike on the fast path and planned, for every subject', async () => {
    const [{ id: rich }] = await fast.sql(
      `SELECT m.id FROM registry.minor m WHERE EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) AND EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category IN ('CRIME_VICTIM','DOMESTIC_VIOLENCE','INCARCERATED_PARENT')) ORDER BY m.id LIMIT 1`,
    );
    const nested = `id grid { code name level parentCode } categories { category identifiedAt } guardians { id relationship name phone address situation situationNote } latestAssessment { id level reasons assessor assessedAt nextVisitDue } assessments(first: 3) { id level reasons } visits(first: 3) { id visitedAt visitor notes }`;
    const mismatches: unknown[] = [];
    for (const subject of POLICY_SUBJECTS) {
      const token = await tokenFor(subject);
      for (const id of [rich, minorId]) {
        for (const purpose of ['CASE_HANDLING', 'SCREENING']) {
          const a = await minorPart(fast, token, `query C($id: ID!) { minor(id: $id) { ${nested} } }`, { id }, { 'x-purpose': purpose });
          const b = await minorPart(fast, token, `query C($id: ID!) { minor(id: $id) { ${nested} referrals { id } } }`, { id }, { 'x-purpose': purpose });
          const strip = (x: typeof a) => ({ status: x.status, data: x.data, errors: x.errors.map((e: any) => ({ ...e, locations: undefined })), outcome: x.outcome });
          if (JSON.stringify(strip(a)) !== JSON.stringify(strip(b))) mismatches.push({ subject, id, purpose, fastPath: strip(a), planned: strip(b) });
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 600_000);

  it('answers under a referral’s grant alike on the fast path and planned, for every receiving department and kind', async () => {
    const [{ id: rich }] = await fast.sql(
      `SELECT m.id FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) AND EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category IN ('CRIME_VICTIM','DOMESTIC_VIOLENCE','INCARCERATED_PARENT')) ORDER BY m.id LIMIT 1`,
    );
    const nested = `id name currentAddress householdRegistration idNumber categories { category } guardians { name phone address situation situationNote } latestAssessment { level reasons }`;
    const mismatches: unknown[] = [];
    const civil = await fast.token(Department.CIVIL_AFFAIRS);
    for (const type of ['PLACEMENT', 'COUNSELLING', 'EDUCATION_AID']) {
      for (const department of Object.values(Department).filter((d) => d !== Department.CIVIL_AFFAIRS)) {
        const created = await fast.gql(civil, `mutation { createReferral(input: { minorId: "${rich}", type: ${type}, toDepartment: "${department}", need: "n" }) { id } }`);
        expect(created.errors).toBeUndefined();
        const referral = created.data.createReferral.id;
        const token = await fast.token(department);
        for (const id of [rich, minorId]) {
          const headers = { 'x-purpose': `REFERRAL; ${referral}` };
          const a = await minorPart(fast, token, `query C($id: ID!) { minor(id: $id) { ${nested} } }`, { id }, headers);
          const b = await minorPart(fast, token, `query C($id: ID!) { minor(id: $id) { ${nested} referrals { id } } }`, { id }, headers);
          const strip = (x: typeof a) => ({ status: x.status, data: x.data, errors: x.errors.map((e: any) => ({ ...e, locations: undefined })), outcome: x.outcome, reads: x.reads });
          if (JSON.stringify(strip(a)) !== JSON.stringify(strip(b))) mismatches.push({ type, department, child: id === rich ? 'referred' : 'other', fastPath: strip(a), planned: strip(b) });
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 600_000);

  it('answers as a hub whose registry is served remotely does (no compiled read, no fast path), for every subject', async () => {
    const remote = await startDistributedTestHub();
    try {
      const [{ id: rich }] = await fast.sql(
        `SELECT m.id FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) AND EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category IN ('CRIME_VICTIM','DOMESTIC_VIOLENCE','INCARCERATED_PARENT')) ORDER BY m.id LIMIT 1`,
      );
      const docs = [
        `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`,
        `query Child($id: ID!) { minor(id: $id) { name age school updatedAt currentAddress householdRegistration } }`,
        `query Child($id: ID!) { minor(id: $id) { __typename } }`,
        `query Child($id: ID!) { minor(id: $id) { id categories { category identifiedAt } guardians { relationship name phone address situation situationNote } latestAssessment { level reasons assessor } visits(first: 2) { visitedAt visitor notes } grid { code name } } }`,
        `query Child($id: ID!) { minor(id: $id) { id policeIncidents { id } } }`,
      ];
      const mismatches: unknown[] = [];
      const ask = async (t: TestHub, token: string, query: string, id: string) => {
        const r = await post(t, token, { query, variables: { id } });
        const event = await storedEventOf(t, r.requestId);
        const errors = (r.json?.errors ?? []).map((e: any) => ({ message: e.message, path: e.path, code: e.extensions?.code }));
        return { status: r.status, data: r.json?.data, errors, outcome: event.outcome, errorCodes: event.errorCodes, reads: event.reads, purpose: event.purpose };
      };
      for (const subject of POLICY_SUBJECTS) {
        const tokens = [await tokenFor(subject), await subjectToken(remote, subject)];
        for (const query of docs) {
          for (const id of [minorId, rich, outsideId, '00000000-0000-4000-8000-000000000000']) {
            const a = await ask(fast, tokens[0], query, id);
            const b = await ask(remote, tokens[1], query, id);
            if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ subject, query: query.slice(0, 80), id, inProcess: a, distributed: b });
          }
        }
      }
      // Under a referral's grant: the grant settled by the gateway and carried to the subgraph in its assertion.
      const nested = `query Child($id: ID!) { minor(id: $id) { id name currentAddress idNumber categories { category } guardians { name phone address situation situationNote } latestAssessment { level reasons } } }`;
      for (const type of ['PLACEMENT', 'COUNSELLING', 'LEGAL_AID']) {
        for (const department of [Department.EDUCATION, Department.POLICE, Department.YOUTH_LEAGUE]) {
          const refs: string[] = [];
          for (const t of [fast, remote]) {
            const created = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation { createReferral(input: { minorId: "${rich}", type: ${type}, toDepartment: "${department}", need: "n" }) { id } }`);
            expect(created.errors).toBeUndefined();
            refs.push(created.data.createReferral.id);
          }
          for (const id of [rich, minorId]) {
            const ra = await post(fast, await fast.token(department), { query: nested, variables: { id } }, { 'x-purpose': `REFERRAL; ${refs[0]}` });
            const rb = await post(remote, await remote.token(department), { query: nested, variables: { id } }, { 'x-purpose': `REFERRAL; ${refs[1]}` });
            const shape = async (t: TestHub, r: typeof ra) => {
              const ev = await storedEventOf(t, r.requestId);
              return { status: r.status, data: r.json?.data, errors: (r.json?.errors ?? []).map((e: any) => ({ path: e.path, code: e.extensions?.code })), outcome: ev.outcome, reads: ev.reads };
            };
            const a = await shape(fast, ra);
            const b = await shape(remote, rb);
            if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ type, department, id, inProcess: a, distributed: b });
          }
        }
      }
      expect(mismatches).toEqual([]);
    } finally {
      await remote.stop();
    }
  }, 600_000);

  it('refuses variables alike on the fast path and planned (input objects, lists, enums, scalars)', async () => {
    const token = await fast.token(Department.CIVIL_AFFAIRS);
    const cases: [string, string, Record<string, unknown>][] = [
      ['unknown input field', 'MinorFilter', { f: { bogus: 1 } }],
      ['enum in lower case', 'MinorFilter', { f: { riskLevels: ['red'] } }],
      ['a list for a single value', 'MinorFilter', { f: { ageMin: [1] } }],
      ['a single value for a list', 'MinorFilter', { f: { riskLevels: 'RED' } }],
      ['null in a non-null list item', 'MinorFilter', { f: { riskLevels: [null] } }],
      ['a date that is no date', 'MinorFilter', { f: { nextVisitDueBefore: 'tomorrow' } }],
      ['a date out of range', 'MinorFilter', { f: { nextVisitDueBefore: '+275760-09-14T00:00:00.001Z' } }],
      ['a float for an Int', 'MinorFilter', { f: { ageMin: 1.5 } }],
      ['an Int beyond 32 bits', 'MinorFilter', { f: { ageMin: 2 ** 31 } }],
      ['a string for an Int', 'MinorFilter', { f: { ageMax: '3' } }],
      ['an object for a string', 'MinorFilter', { f: { regionCode: { a: 1 } } }],
      ['an array for the object', 'MinorFilter', { f: [{ ageMin: 1 }] }],
      ['a negative age', 'MinorFilter', { f: { ageMin: -1 } }],
      ['ageMin over ageMax', 'MinorFilter', { f: { ageMin: 10, ageMax: 2 } }],
      ['a region code of letters', 'MinorFilter', { f: { regionCode: 'abc' } }],
      ['empty lists', 'MinorFilter', { f: { riskLevels: [], categories: [] } }],
    ];
    const mismatches: unknown[] = [];
    for (const [label, type, variables] of cases) {
      const asked = async (extra: string) => {
        const r = await post(fast, token, { query: `query L($f: ${type}) { minors(first: 2, filter: $f) { edges { node { id ${extra} } } } }`, variables });
        const ev = await storedEventOf(fast, r.requestId);
        const errors = (r.json?.errors ?? []).map((e: any) => ({ message: e.message, code: e.extensions?.code }));
        const ids = r.json?.data?.minors?.edges?.map((e: any) => e.node.id) ?? r.json?.data?.minors ?? null;
        return { status: r.status, errors, ids, outcome: ev.outcome, errorCodes: ev.errorCodes };
      };
      const a = await asked('');
      const b = await asked('referrals { id }');
      if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ label, fastPath: a, planned: b });
    }
    expect(mismatches).toEqual([]);
  }, 300_000);

  it('answers a variable only the registry’s DateTimeISO refuses with the same status and body on the fast path, planned, and with the registry served remotely', async () => {
    // Same request, same refusal, same event (INVALID): the shortcut answered HTTP 400 without data, the
    // planned path (a sibling field of another subgraph makes it planned) HTTP 200 with `data: { minors: null }`.
    const remote = await startDistributedTestHub();
    try {
      const answers: unknown[] = [];
      for (const [t, extra] of [[fast, ''], [fast, 'referrals { id }'], [remote, '']] as const) {
        const r = await post(t, await t.token(Department.CIVIL_AFFAIRS), {
          query: `query L($d: DateTimeISO) { minors(first: 2, filter: { nextVisitDueBefore: $d }) { edges { node { id ${extra} } } } }`,
          variables: { d: 'tomorrow' },
        });
        const event = await storedEventOf(t, r.requestId);
        answers.push({
          status: r.status,
          hasData: 'data' in (r.json ?? {}),
          errors: r.json.errors.map((e: any) => [e.message, e.extensions.code]),
          outcome: event.outcome,
        });
      }
      expect({ planned: answers[1], remote: answers[2] }).toEqual({ planned: answers[0], remote: answers[0] });
    } finally {
      await remote.stop();
    }
  }, 300_000);

  it('answers the statistics alike on the fast path and planned beside a registry field, for every subject', async () => {
    const docs = [
      `{ statisticsScope { regionCode level finestLevel suppressionK } }`,
      `{ minorCounts(level: STREET, by: [RISK_LEVEL, CATEGORY]) { level dimensions categoriesFolded total cells { regionCode riskLevel category count } } }`,
      `{ minorCounts(level: GRID, measure: OVERDUE_VISITS, by: [AGE_BAND, GENDER]) { total cells { regionCode ageBand gender count } } }`,
      `{ statisticsRates(level: STREET) { level total { __typename } } }`,
    ];
    const mismatches: unknown[] = [];
    for (const subject of POLICY_SUBJECTS) {
      for (const region of [undefined, STREET]) {
        const token = await tokenFor(subject, { region });
        for (const doc of docs) {
          const ask = async (query: string) => {
            const r = await post(fast, token, { query }, { 'x-purpose': 'CASE_HANDLING' });
            const ev = await storedEventOf(fast, r.requestId);
            const { regions: _r, ...data } = r.json?.data ?? {};
            const errors = (r.json?.errors ?? []).filter((e: any) => e.path?.[0] !== 'regions').map((e: any) => [e.message, e.path, e.extensions?.code]);
            return { data, errors, outcome: ev.outcome };
          };
          const a = await ask(doc);
          const b = await ask(doc.replace(/}$/, ' regions { code } }'));
          if (a.outcome === 'DENIED' && b.outcome === 'PARTIAL') b.outcome = 'DENIED'; // regions served beside a refusal
          if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ subject, region, doc, fastPath: a, planned: b });
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 600_000);

  it('answers aliases named after the gateway’s own fields alike on the fast path and planned', async () => {
    const token = await fast.token(Department.CIVIL_AFFAIRS);
    const mismatches: unknown[] = [];
    for (const alias of ['_entities', '_service', 'representations', 'data', 'errors', 'extensions', '__proto__', 'constructor', 'minorId', 'node']) {
      const ask = async (extra: string) => {
        const r = await post(fast, token, { query: `query L($id: ID!) { ${alias}: minor(id: $id) { name ${extra} } }`, variables: { id: minorId } });
        const d = r.json?.data ? JSON.parse(JSON.stringify(r.json.data)) : null;
        if (d?.[alias]) delete d[alias].referrals;
        return { status: r.status, data: d, keys: r.json?.data ? Object.keys(r.json.data) : null, errors: (r.json?.errors ?? []).map((e: any) => [e.message, e.extensions?.code]) };
      };
      const a = await ask('');
      const b = await ask('referrals { id }');
      if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ alias, fastPath: a, planned: b });
    }
    expect(mismatches).toEqual([]);
  }, 300_000);
});
