import { Department, POLICY_SUBJECTS, Role } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, subjectToken, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * src/compiled-read/README.md and src/subgraphs/audit/README.md, sentence by sentence (red team 24).
 * No claim was found false in behaviour; these pin the two most important ones, as verified:
 * a compiled read answers and audits as the general path does for a randomised sweep of subjects,
 * jurisdictions, field sets and orders, ids in capitals and purposes; and a data officer sees such a
 * read in a child's history, only within their jurisdiction, their own look-ups recorded as reads.
 */
const STREET = '330102001';
const FIELDS = ['id', 'name', 'idNumber', 'gender', 'birthDate', 'riskLevel', 'nextVisitDue', 'age', 'school', 'updatedAt', 'householdRegistration', 'currentAddress'];

describe('compiled reads and the audit subgraph, README claims (redteam24)', () => {
  let fast: TestHub;
  let general: TestHub;
  let kids: string[];
  let grid: string;

  beforeAll(async () => {
    fast = await startTestHub();
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    const rows = await fast.sql(
      `(SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due IS NOT NULL ORDER BY id LIMIT 3)
       UNION ALL (SELECT id, grid_code FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 2)`,
    );
    kids = rows.map((r: { id: string }) => r.id);
    grid = rows[0].grid_code;
  });
  afterAll(async () => {
    await general?.stop();
    await fast?.stop();
  });

  async function ask(t: TestHub, token: string, body: unknown, headers: Record<string, string>) {
    const r = await post(t, token, body, headers);
    const { requestId, time, durationMs, ...event } = await storedEventOf(t, r.requestId);
    expect([requestId, typeof time, typeof durationMs]).toEqual([r.requestId, 'string', 'number']);
    return { status: r.status, json: r.json, contentType: r.headers.get('content-type'), cacheControl: r.headers.get('cache-control'), event };
  }

  it('answers and audits a randomised sweep of look-ups the same with compiled reads as without', async () => {
    let seed = 24;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    let compiled = 0;
    const diffs: string[] = [];
    for (let i = 0; i < 150; i++) {
      const subject = POLICY_SUBJECTS[rnd(POLICY_SUBJECTS.length)];
      const region = ['330102', STREET, grid, '330102002'][rnd(4)];
      const token = await subjectToken(fast, subject, { region, user: `rt24-${subject}-${region}` });
      const fields = FIELDS.filter(() => rnd(3) === 0).sort(() => rnd(3) - 1);
      const variable = ['id', 'child'][rnd(2)];
      const id = kids[rnd(kids.length)];
      const body = {
        query: `query ${['Child', 'Look'][rnd(2)]}($${variable}: ID!) { minor(id: $${variable}) { ${(fields.length ? fields : ['id']).join(' ')} } }`,
        variables: { [variable]: rnd(4) === 0 ? id.toUpperCase() : id },
      };
      const headers = { 'x-purpose': ['CASE_HANDLING', 'SCREENING; 2026-24', 'assistance'][rnd(3)] };
      const before = fast.hub.compiledReadsServed()!;
      const a = await ask(fast, token, body, headers);
      compiled += fast.hub.compiledReadsServed()! - before;
      const b = await ask(general, token, body, headers);
      if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${subject} ${region} ${JSON.stringify(body)}: ${JSON.stringify({ a, b })}`);
    }
    expect(diffs).toEqual([]);
    expect(compiled).toBeGreaterThan(20);
  });

  it('shows a compiled read in the child’s history to a data officer of its jurisdiction only, and records the look-up as a read of the child', async () => {
    const [child] = kids;
    const police = await fast.token(Department.POLICE, { region: STREET, user: 'rt24-police' });
    const before = fast.hub.compiledReadsServed()!;
    const read = await post(fast, police, { query: `query Child($id: ID!) { minor(id: $id) { id name idNumber } }`, variables: { id: child } });
    expect([read.status, fast.hub.compiledReadsServed()! - before]).toEqual([200, 1]);
    const history = `query($m: ID!) { minorAccessHistory(minorId: $m) { requestId userId fields { field access } } }`;

    const district = await fast.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102', user: 'rt24-auditor' });
    const seen = await post(fast, district, { query: history, variables: { m: child.toUpperCase() } });
    expect(seen.json.data.minorAccessHistory).toContainEqual({
      requestId: read.requestId,
      userId: 'rt24-police',
      fields: ['Minor.id', 'Minor.idNumber', 'Minor.name'].map((field) => ({ field, access: 'ALLOW' })),
    });
    expect((await storedEventOf(fast, seen.requestId)).reads).toEqual([{ fields: { 'Query.minorAccessHistory': 'ALLOW' }, minorIds: [child] }]);

    const otherStreet = await fast.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102002', user: 'rt24-auditor-2' });
    const unseen = await post(fast, otherStreet, { query: history, variables: { m: child } });
    expect(unseen.json.data.minorAccessHistory.map((e: { requestId: string }) => e.requestId)).not.toContain(read.requestId);
    expect((await storedEventOf(fast, unseen.requestId)).reads).toEqual([{ fields: { 'Query.minorAccessHistory': 'ALLOW' }, minorIds: [child] }]);
  });
});
