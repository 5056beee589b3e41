import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { Department } from '../src/auth/principal';
import { seedScale } from '../src/cli/seed-scale.cli';
import { loadConfig } from '../src/config/hub.config';
import { startHub } from '../src/server/hub.server';
import { identityProvider } from './support/identity-provider';
import { cloneTemplateDatabase, databaseWith, errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * README lines 14–352 (Quick start … Upgrading), read sentence by sentence: the example queries run
 * as printed, configuration and production-mode claims (red team 21, rt216).
 */

const CHILD = '01666e24-a0ad-4f16-8a88-56a9bc69bebc';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; 2026-0042' };

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('README example queries as printed, %s (redteam21)', (_mode, distributed) => {
  let t: TestHub;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('one child, as POLICE: every field served, no error', async () => {
    const police = await t.token(Department.POLICE);
    const r = await t.gql(
      police,
      'query($id: ID!) { minor(id: $id) { name gender age birthDate idNumber currentAddress riskLevel nextVisitDue grid { code name } categories { category identifiedAt } guardians { relationship name phone situation } latestAssessment { level assessedAt reasons } visits { visitedAt visitor notes } } }',
      { id: CHILD },
      PURPOSE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.data.minor.name).toBe('刘子轩');
    expect(r.data.minor.categories.map((c: any) => c.category)).toContain('CRIME_VICTIM');
  });

  it('a list: RED and ORANGE, first 10, totalCount 389 for the whole demo district', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const r = await t.gql(
      civil,
      '{ minors(filter: {riskLevels: [RED, ORANGE]}, first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name age riskLevel nextVisitDue grid { name } } } } }',
      undefined,
      PURPOSE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.minors.totalCount).toBe(389);
    expect(r.data.minors.edges).toHaveLength(10);
    expect(r.data.minors.pageInfo.hasNextPage).toBe(true);
  });

  it('the jurisdiction tree as EDUCATION of 清波街道, with no x-purpose: parent null above the node', async () => {
    const edu = await t.token(Department.EDUCATION, { region: '330102001' });
    const r = await t.gql(edu, '{ regions { code name level parentCode } }', undefined, {});
    expect(r.errors).toBeUndefined();
    const codes = r.data.regions.map((x: any) => x.code);
    expect(codes).toContain('330102001');
    expect(codes.every((c: string) => c.startsWith('330102001'))).toBe(true);
    // README: "by code; `parent` is `null` above your node" (parentCode is the parent's code, whoever may read it).
    expect(codes).toEqual([...codes].sort());
    const tree = await t.gql(edu, '{ regions { code parent { code } } }', undefined, {});
    expect(tree.errors).toBeUndefined();
    for (const x of tree.data.regions) expect([x.code, x.parent]).toEqual([x.code, x.code === '330102001' ? null : { code: expect.stringMatching(/^330102001/) }]);
  });

  it('a list: `first` 1–1000 (0 and 1001 BAD_USER_INPUT), default 20, ordered by id', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const page = async (first?: number) => t.gql(civil, `query($n: Int) { minors(first: $n) { edges { node { id } } } }`, first === undefined ? {} : { n: first }, PURPOSE);
    const dflt = await t.gql(civil, `{ minors { edges { node { id } } } }`, undefined, PURPOSE);
    expect(dflt.errors).toBeUndefined();
    const ids = dflt.data.minors.edges.map((e: any) => e.node.id);
    expect(ids).toHaveLength(20);
    expect(ids).toEqual([...ids].sort());
    expect((await page(1000)).data?.minors?.edges).toHaveLength(1000);
    expect((await page(1)).data?.minors?.edges).toHaveLength(1);
    for (const n of [0, 1001, -1]) {
      const r = await page(n);
      expect([n, errorCodes(r)]).toEqual([n, ['BAD_USER_INPUT']]);
    }
  });

  it('one child: null, no error, for an id of no child — unknown, not a UUID — scalars alone (compiled read) or with a nested field', async () => {
    const police = await t.token(Department.POLICE);
    for (const id of ['01666e24-a0ad-4f16-8a88-56a9bc69bebd', 'not-a-uuid', '']) {
      for (const sel of ['name age', 'name grid { code }']) {
        const r = await t.gql(police, `query($id: ID!) { minor(id: $id) { ${sel} } }`, { id }, PURPOSE);
        expect([id, sel, r.status, r.data, r.errors]).toEqual([id, sel, 200, { minor: null }, undefined]);
      }
    }
  });

  it('what EDUCATION gets: masked values, null plus FORBIDDEN on each denied field, as printed', async () => {
    const edu = await t.token(Department.EDUCATION);
    const r = await t.gql(
      edu,
      'query($id: ID!) { minor(id: $id) { name idNumber birthDate currentAddress categories { category } guardians { relationship name phone situation } visits { visitedAt } } }',
      { id: CHILD },
      PURPOSE,
    );
    expect(r.data.minor).toEqual({
      name: '刘子轩',
      idNumber: '330102************',
      birthDate: null,
      currentAddress: '浙江省杭州市上城区********',
      categories: [{ category: 'NEEDS_SUPPORT' }],
      guardians: [{ relationship: 'FATHER', name: '刘**', phone: '139****1803', situation: null }],
      visits: null,
    });
    const errs = (r.errors ?? []).map((e) => ({ message: e.message, path: e.path, extensions: e.extensions })).sort((a, b) => a.message.localeCompare(b.message));
    expect(errs).toEqual(
      [
        { message: 'Not permitted to read Minor.birthDate', path: ['minor', 'birthDate'], extensions: { code: 'FORBIDDEN', field: 'Minor.birthDate', serviceName: 'registry' } },
        { message: 'Not permitted to read Guardian.situation', path: ['minor', 'guardians', 0, 'situation'], extensions: { code: 'FORBIDDEN', field: 'Guardian.situation', serviceName: 'registry' } },
        { message: 'Not permitted to read Minor.visits', path: ['minor', 'visits'], extensions: { code: 'FORBIDDEN', field: 'Minor.visits', serviceName: 'registry' } },
      ].sort((a, b) => a.message.localeCompare(b.message)),
    );
  });

  // README: "`regions` and `minors { totalCount }` need no purpose, unless the filter tests a child's records …
  // a count that needs one … is refused on its own path, `minors.totalCount`, beside the request's other fields, HTTP 200".
  it('without a purpose: a count by region served; a count testing risk levels refused on minors.totalCount alone, HTTP 200', async () => {
    const police = await t.token(Department.POLICE);
    const byRegion = await t.gql(police, '{ minors(filter: { regionCode: "330102001" }) { totalCount } }', undefined, {});
    expect([byRegion.status, byRegion.errors]).toEqual([200, undefined]);
    expect(byRegion.data.minors.totalCount).toBeGreaterThan(0);
    const tested = await t.gql(police, '{ regions { code } minors(filter: { riskLevels: [RED, ORANGE] }) { totalCount } }', undefined, {});
    expect(tested.status).toBe(200);
    expect(tested.data?.regions?.length).toBeGreaterThan(0);
    expect((tested.errors ?? []).map((e) => [e.extensions?.code, e.extensions?.field, (e.path ?? []).join('.')])).toEqual([['BAD_USER_INPUT', 'x-purpose', 'minors.totalCount']]);
    const both = await t.gql(police, '{ minors(filter: { riskLevels: [RED] }) { totalCount } }', undefined, { 'x-purpose': 'SCREENING' });
    expect([both.status, both.errors]).toEqual([200, undefined]);
  });

  // README: "RED at once (the assessment time), ORANGE +7 days, YELLOW +1 month, BLUE +3 months (months on the
  // calendar in China, to the last day of a shorter month: a month after 31 January is 28 February)".
  it('next visit due by level, months on the China calendar to the last day of a shorter month', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const cases: [string, string, string][] = [
      ['YELLOW', '2026-01-30T16:30:00.000Z', '2026-02-27T16:30:00.000Z'], // 31 Jan 00:30 in China → 28 Feb 00:30
      ['BLUE', '2025-11-30T15:00:00.000Z', '2026-02-28T15:00:00.000Z'], // 30 Nov 23:00 → 28 Feb 23:00
      ['YELLOW', '2024-01-30T17:00:00.000Z', '2024-02-28T17:00:00.000Z'], // 31 Jan 01:00 (leap year) → 29 Feb 01:00
      ['ORANGE', '2026-03-01T03:00:00.000Z', '2026-03-08T03:00:00.000Z'],
      ['RED', '2026-03-01T03:00:00.000Z', '2026-03-01T03:00:00.000Z'],
    ];
    for (const [level, at, due] of cases) {
      const r = await t.gql(
        civil,
        'mutation($id: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $id, input: $i) { level assessedAt nextVisitDue } }',
        { id: CHILD, i: { level, reasons: '复评', assessedAt: at } },
        PURPOSE,
      );
      expect([level, at, r.errors, r.data?.recordAssessment?.nextVisitDue]).toEqual([level, at, undefined, due]);
    }
  });

  it('a write: recordAssessment ORANGE as CIVIL_AFFAIRS, next visit 7 days on, the assessor the token user', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'civil-affairs-officer-1' });
    const r = await t.gql(
      civil,
      'mutation($id: ID!) { recordAssessment(minorId: $id, input: {level: ORANGE, reasons: "结对帮扶: weekly visits"}) { id level assessedAt nextVisitDue assessor } }',
      { id: CHILD },
      PURPOSE,
    );
    expect(r.errors).toBeUndefined();
    const a = r.data.recordAssessment;
    expect(a.level).toBe('ORANGE');
    expect(a.assessor).toBe('civil-affairs-officer-1');
    expect(new Date(a.nextVisitDue).getTime() - new Date(a.assessedAt).getTime()).toBe(7 * 86_400_000);
  });
});

describe('README Getting a token / Configuration (redteam21)', () => {
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const cli = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
  const token = (args: string[]) =>
    promisify(execFile)(tsx, [cli, ...args], { env: { ...process.env, HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR } }).then(
      (r) => ({ claims: decodeJwt(r.stdout.trim()) as Record<string, unknown>, stderr: null as string | null }),
      (e) => ({ claims: null as Record<string, unknown> | null, stderr: e.stderr as string }),
    );

  // src/cli/args.ts: "What it cannot read as asked is refused, never taken for something else:
  // … `--user --region 330102001` one for the user `--region` at the default region, a whole district."
  // A flag given twice is as ambiguous: the street officer's token came out for the whole district.
  it('npm run token refuses a flag given twice rather than sign for whichever came last', async () => {
    for (const args of [
      ['--department', 'CIVIL_AFFAIRS', '--region', '330102001', '--region', '330102'],
      ['--department', 'EDUCATION', '--department', 'POLICE'],
      ['--department', 'EDUCATION', '--role', 'REPORTER', '--role=OFFICER'],
    ]) {
      const r = await token(args);
      expect([args, r.claims && { department: r.claims.department, region: r.claims.region, role: r.claims.role }, r.stderr]).toEqual([args, null, expect.stringMatching(/twice|more than once|repeated/i)]);
    }
  });

  it('npm run seed:scale refuses a flag given twice, before it opens the database', async () => {
    const env = { HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    await expect(seedScale(['--minors', '10', '--districts', '1', '--reset', 'false', '--reset', 'true'], env)).rejects.toThrow(/twice|more than once|repeated/i);
  });

  it('npm run token prints the token alone, for the README table\'s 清波街道 officer', async () => {
    const r = await token(['--department', 'CIVIL_AFFAIRS', '--region', '330102001', '--user', 'qingbo-1']);
    expect(r.claims).toMatchObject({ department: 'CIVIL_AFFAIRS', region: '330102001', role: 'OFFICER', sub: 'qingbo-1', iss: 'minor-protection-hub', aud: 'minor-protection-hub' });
    expect((r.claims!.exp as number) - (r.claims!.iat as number)).toBe(28_800);
  });

  // README, Configuration: "a malformed value stops the boot"; HUB_STATISTICS_FINEST_LEVELS entries look like DASHBOARD=DISTRICT.
  it('HUB_STATISTICS_FINEST_LEVELS refuses an entry with a second "=", rather than read its first two parts', () => {
    for (const raw of ['DASHBOARD=DISTRICT=GRID', 'EDUCATION=STREET=', 'DASHBOARD=DISTRICT=STREET,EDUCATION=STREET']) {
      let got: unknown;
      try {
        got = loadConfig({ HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR, HUB_STATISTICS_FINEST_LEVELS: raw }).statistics.finestLevels;
      } catch (e) {
        got = (e as Error).message;
      }
      expect([raw, got]).toEqual([raw, expect.stringMatching(/^HUB_STATISTICS_FINEST_LEVELS/)]);
    }
  });

  // README, Configuration: "Everything is read once, at start-up, by src/config/hub.config.ts; a malformed value
  // stops the boot." DATABASE_URL is checked for its query parameters only: node-postgres reads a URL without
  // `://` (a typo, or libpq's `user:password@host/db` habit) relative to a dummy base, as a database whose NAME
  // holds the rest of the text — password included — on host `base`, or on the default host and port.
  it('DATABASE_URL that is no postgres:// URL is refused at start-up, naming the setting and not the password', () => {
    for (const url of ['abc', 'postgres//hub:s3cret@db.internal:5432/hub', 'hub:s3cret@db.internal/hub', 'mysql://hub:s3cret@db.internal/hub', 'postgres://hub:s3cret@db.internal:99999/hub']) {
      let refused: string | null = null;
      try {
        loadConfig({ HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR, DATABASE_URL: url });
      } catch (e) {
        refused = (e as Error).message;
      }
      expect([url, refused]).toEqual([url, expect.stringMatching(/DATABASE_URL/)]);
      expect(refused).not.toContain('s3cret');
    }
    // The forms the README and the tests use stay accepted.
    for (const url of ['postgres://hub:s3cret@db.internal:5432/hub', 'postgresql://hub@localhost/hub?host=%2Fvar%2Frun%2Fpostgresql', process.env.HUB_TEST_PG_URL!]) {
      expect(loadConfig({ HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR, DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });

  it('a DATABASE_URL missing its "://" sends no part of its password to whatever listens on the default host and port', async () => {
    const received: Buffer[] = [];
    const listener = net.createServer((socket) => {
      socket.on('data', (chunk) => {
        received.push(chunk);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const saved = { PGHOST: process.env.PGHOST, PGPORT: process.env.PGPORT };
    // The operator's libpq defaults (or none: localhost:5432, any local user's server).
    process.env.PGHOST = '127.0.0.1';
    process.env.PGPORT = String((listener.address() as net.AddressInfo).port);
    try {
      const config = loadConfig({ HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR, DATABASE_URL: 'hub:s3cret-pw@db.internal/hub', PORT: '0' });
      const hub = await startHub(config).catch(() => null);
      await hub?.stop();
    } catch {
      // refused at start-up: what the README says
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await new Promise((resolve) => listener.close(resolve));
    }
    expect(Buffer.concat(received).toString('latin1')).not.toMatch(/cret-pw/);
  });

  // README, DATABASE_URL: "The URL may not set what the hub sets on its sessions itself … (the hub
  // refuses to start, naming it): node-postgres takes the URL's over the hub's"; "`application_name`
  // `hub` and `hub audit writer` in `pg_stat_activity`". The hub sets application_name itself, and
  // node-postgres takes the URL's over it.
  it('a DATABASE_URL setting application_name is refused, or the hub\'s sessions keep their names', async () => {
    const url = await cloneTemplateDatabase();
    const withName = `${url}${url.includes('?') ? '&' : '?'}application_name=intruder`;
    let refused: string | null = null;
    try {
      loadConfig({ DATABASE_URL: withName, HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR });
    } catch (e) {
      refused = (e as Error).message;
    }
    if (refused) return expect(refused).toMatch(/application_name/);
    const t = await startTestHub({ databaseUrl: withName });
    try {
      const civil = await t.token(Department.CIVIL_AFFAIRS);
      expect((await t.gql(civil, '{ regions { code } }', undefined, {})).errors).toBeUndefined();
      const names = await t.sql(`SELECT DISTINCT application_name AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY 1`);
      const own = await t.sql(`SELECT current_setting('application_name') AS n`);
      expect({ own: own[0].n, others: names.map((r: { n: string }) => r.n) }).toEqual({ own: 'hub', others: expect.arrayContaining(['hub audit writer']) });
    } finally {
      await t.stop();
    }
  });
});

// README, Getting a token: "For the non-officer roles the department does not change what they may read."
describe('non-officer roles read the same whatever their department (redteam21)', () => {
  let t: TestHub;
  let fields: { name: string; leaf: boolean }[];
  beforeAll(async () => {
    t = await startTestHub();
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const r = await t.gql(civil, '{ __schema { queryType { fields { name args { type { kind } } type { kind ofType { kind ofType { kind ofType { kind } } } } } } } }', undefined, {});
    const leafKinds = new Set(['SCALAR', 'ENUM']);
    const named = (ty: any): string => (ty.ofType ? named(ty.ofType) : ty.kind);
    fields = r.data.__schema.queryType.fields
      .filter((f: any) => !f.args.some((a: any) => a.type.kind === 'NON_NULL'))
      .map((f: any) => ({ name: f.name, leaf: leafKinds.has(named(f.type)) }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each(['AUDITOR', 'DASHBOARD', 'REPORTER', 'EMPLOYER'])('%s: every root field without required arguments answers alike for each department', async (role) => {
    const answers: Record<string, Record<string, unknown>> = {};
    for (const department of Object.values(Department)) {
      const token = await t.token(department, { role: role as never, user: `${role.toLowerCase()}-same-1` });
      for (const f of fields) {
        const r = await t.gql(token, `{ ${f.name}${f.leaf ? '' : ' { __typename }'} }`, undefined, PURPOSE);
        const seen = { status: r.status, codes: errorCodes(r), data: r.data };
        (answers[f.name] ??= {})[department] = seen;
      }
    }
    const differing = Object.entries(answers)
      .filter(([, byDept]) => new Set(Object.values(byDept).map((v) => JSON.stringify(v))).size > 1)
      .map(([name, byDept]) => ({ name, byDept }));
    expect(differing).toEqual([]);
  });
});

// README, Production mode: "drops every \"Did you mean …\" suggestion from errors (the hub's error formatting,
// for validation errors and a variable's input field or enum value alike), on the hub and on subgraph servers".
describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('production: no near-miss suggestion in any error, %s (redteam21)', (_mode, distributed) => {
  const { env, sign } = identityProvider();
  let t: TestHub;
  let token: string;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub(env) : await startTestHub({ env });
    expect(t.config.production).toBe(true);
    token = await sign(t.config, 'prod-civil-1', { department: 'CIVIL_AFFAIRS', role: 'OFFICER', region: '330102' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const cases: [string, string, Record<string, unknown> | undefined][] = [
    ['an argument', '{ minors(firstt: 1) { totalCount } }', undefined],
    ['a variable\'s type', 'query($f: MinorFiltr) { minors(filter: $f) { totalCount } }', undefined],
    ['an inline fragment\'s type', '{ regions { ... on Regio { code } } }', undefined],
    ['a fragment definition\'s type', 'fragment F on Regio { code } { regions { ...F } }', undefined],
    ['a directive\'s argument', '{ regions { code @include(iff: true) } }', undefined],
    ['an enum literal', '{ minors(filter: { riskLevels: [RE] }) { totalCount } }', undefined],
    ['an input field literal', '{ minors(filter: { riskLevelz: [RED] }) { totalCount } }', undefined],
    ['a mutation', 'mutation { recordVisitt(minorId: "x") { id } }', undefined],
    ['a meta field', '{ __typenam }', undefined],
    ['a nested input field of a variable', `mutation($i: VisitInput!) { recordVisit(minorId: "${CHILD}", input: $i) { id } }`, { i: { notez: '走访' } }],
    ['an enum value of a variable', 'mutation($l: RiskLevel!) { recordAssessment(minorId: "x", input: { level: $l, reasons: "r" }) { id } }', { l: 'ORANG' }],
  ];
  it.each([
    ['__schema', '{ __schema { queryType { name } } }'],
    ['__type', '{ __type(name: "Minor") { fields { name } } }'],
    ['__type under an alias', '{ t: __type(name: "MinorFilter") { inputFields { name } } }'],
    ['__schema through a fragment', '{ ...F } fragment F on Query { __schema { types { name } } }'],
    ['__type inside an inline fragment', '{ ... on Query { __type(name: "RiskLevel") { enumValues { name } } } }'],
  ])('introspection is off: %s', async (_what, query) => {
    const r = await t.gql(token, query, undefined, PURPOSE);
    expect(r.data ?? null).toBeNull();
    expect(JSON.stringify(r)).not.toMatch(/"(MinorFilter|fields|enumValues|inputFields|types)":\s*\[/);
    expect(JSON.stringify(r)).not.toMatch(/riskLevels|ORANGE|idNumber/);
  });

  // README, HUB_WEBHOOK_ALLOWED_HOSTS: "production tells the client only `url: is not an allowed destination` and logs why".
  it.each(['https://127.0.0.1/hook', 'https://10.1.2.3/hook', 'https://localhost/hook', 'https://169.254.169.254/latest', 'https://[::ffff:10.0.0.1]/hook', 'https://no-such-host.invalid/hook'])(
    'a webhook to %s is refused saying only that it is not an allowed destination',
    async (url) => {
      const r = await t.gql(token, 'mutation($u: String!) { registerWebhook(url: $u) { secret } }', { u: url }, {});
      expect((r.errors ?? []).map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'url: is not an allowed destination']]);
      expect(JSON.stringify(r)).not.toMatch(/resolves|loopback|private|link-local|does not resolve/);
    },
  );

  it.each(cases)('%s misspelt', async (_what, query, variables) => {
    const r = await t.gql(token, query, variables, PURPOSE);
    expect(r.errors?.length).toBeGreaterThan(0);
    const text = JSON.stringify(r.errors);
    expect(text).not.toMatch(/Did you mean/i);
  });
});

// README, DATABASE_URL: "Every session of the hub starts with DateStyle=ISO, search_path=public and
// gin_fuzzy_search_limit=0 … under a DateStyle set for the database, the role or the cluster it had read every
// instant as null". node-postgres reads and writes text in UTF-8 only, and sends no client_encoding: one set for
// the database or the login role (GBK, as Chinese systems often use) is the sessions' encoding too.
describe('a client_encoding set for the database (redteam21)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ databaseUrl: await databaseWith([`ALTER DATABASE DB SET client_encoding = 'GBK'`]) });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves a child\'s name as stored, and stores a new one as written', async () => {
    const police = await t.token(Department.POLICE);
    const read = await t.gql(police, 'query($id: ID!) { minor(id: $id) { name } }', { id: CHILD }, PURPOSE);
    const readNested = await t.gql(police, 'query($id: ID!) { minor(id: $id) { name guardians { name } } }', { id: CHILD }, PURPOSE);
    expect([read.errors, read.data?.minor?.name]).toEqual([undefined, '刘子轩']);
    expect([readNested.errors, readNested.data?.minor?.name]).toEqual([undefined, '刘子轩']);
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const visit = await t.gql(civil, 'mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访：监护人在家" }) { id notes } }', { id: CHILD }, PURPOSE);
    expect([visit.errors, visit.data?.recordVisit?.notes]).toEqual([undefined, '入户走访：监护人在家']);
  });
});
