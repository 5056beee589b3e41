import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Department } from '../src/auth/principal';
import { parseArgs } from '../src/cli/args';
import { loadConfig } from '../src/config/hub.config';
import { DATA, refusalOf } from './support/config-refusal';
import { eventsOf, post } from './support/audit-helpers';
import { postWithStalledBody } from './support/raw-socket';
import { cloneTemplateDatabase, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 22 (rt222): regression review of 0e550ff (DATABASE_URL forms, application_name,
 * HUB_SUBGRAPH_URLS query strings, HUB_STATISTICS_FINEST_LEVELS, parseArgs twice), 645db24
 * (parseArgs empty values), b98b1ee (HttpAudit.instant's event of an expired token) and 5e921a1
 * (token subjects: kana marks, Bopomofo tone marks, tatweel after a letter of their script).
 */


describe('DATABASE_URL forms node-postgres reads (0e550ff, red team 22)', () => {
  // Each is read by pg-connection-string 2.x as the host/database written (checked against parse()).
  it.each([
    ['IPv6 host', 'postgres://hub:pw@[::1]:5432/hub'],
    ['percent-encoded socket directory as host', 'postgres://hub:pw@%2Fvar%2Frun%2Fpostgresql/hub'],
    ['percent-encoded @ / ? # in the password', 'postgres://hub:p%40ss%2Fw%3Fo%23rd@db/hub'],
    ['an unencoded @ in the password', 'postgres://hub:p@ss@db/hub'],
    ['a space in the password', 'postgres://hub:p ss@db/hub'],
    ['a % not followed by hex in the password', 'postgres://hub:100%@db/hub'],
    ['{ } | ^ " < > \\ [ ] in the password', 'postgres://hub:p{w}|^"<>\\[]@db/hub'],
    ['postgresql:// and nothing else', 'postgresql://'],
    ['postgresql:/// with the database only', 'postgresql:///hub'],
    ['no host, ?host=socket directory', 'postgresql:///hub?host=/var/run/postgresql'],
    ['user and empty host', 'postgres://user:pw@/hub?host=/tmp&port=5433'],
    ['socket: URL', 'socket:/var/run/postgresql?db=hub'],
    ['socket:// with credentials', 'socket://user:pw@/var/run/pg?db=hub'],
    ['upper-case scheme', 'POSTGRESQL://hub:pw@db:5432/hub'],
    ['a Unix socket directory and database', '/var/run/postgresql hub'],
    ['IDN host', 'postgres://hub:pw@bücher.example/hub'],
    ['non-ASCII user and password', 'postgres://hüb:pwö@db/hub'],
    ['sslmode and no database', 'postgres://hub:pw@db.example:5432?sslmode=verify-full'],
  ])('%s is accepted', (_what, url) => {
    expect([url, refusalOf({ DATABASE_URL: url })]).toEqual([url, null]);
  });

  it.each([
    ['no scheme', 'hub:s3cr3t-PW@db/hub'],
    ['leading space', ' postgres://hub:s3cr3t-PW@db/hub'],
    ['unencoded / in the password', 'postgres://hub:s3cr3t/PW@db/hub'],
    ['unencoded # in the password', 'postgres://hub:s3cr3t#PW@db/hub'],
    ['empty host with a port', 'postgres://hub:s3cr3t-PW@:5432/hub'],
    ['IPv6 with a zone id', 'postgres://hub:s3cr3t-PW@[fe80::1%25eth0]:5432/hub'],
    ['mysql scheme', 'mysql://hub:s3cr3t-PW@db/hub'],
  ])('%s is refused without echoing the password', (_what, url) => {
    const refused = refusalOf({ DATABASE_URL: url });
    expect(refused).toMatch(/DATABASE_URL/);
    expect(refused).not.toMatch(/s3cr3t/);
  });

  // README: "The URL may not set what the hub sets on its sessions itself — options,
  // statement_timeout, … application_name — (the hub refuses to start, naming it)". node-postgres
  // reads the URL with WHATWG's parser, which drops every tab and newline before parsing: a
  // parameter name with one inside is the setting itself to node-postgres, and no name the hub knows.
  it.each([
    ['options (tab inside)', 'postgres://hub:pw@db/hub?opt\tions=-c%20statement_timeout%3D0', 'options'],
    ['statement_timeout (newline inside)', 'postgres://hub:pw@db/hub?statement_time\nout=0', 'statement_timeout'],
    ['application_name (newline before)', 'postgres://hub:pw@db/hub?sslmode=disable&\napplication_name=x', 'application_name'],
  ])('a hub session parameter the URL sets to node-postgres is refused: %s', (_what, url, name) => {
    // What node-postgres reads of it: the parameter set.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pgReads = require('pg-connection-string').parse(url);
    expect(pgReads[name]).toBeDefined();
    // Refused for what it hides: a control character node-postgres's URL parser drops.
    expect(refusalOf({ DATABASE_URL: url })).toMatch(/DATABASE_URL must be .* no control characters/);
  });
});

// End to end: the same URL with a tab inside application_name's name, loaded as the hub loads it,
// then used: README, "application_name `hub` and `hub audit writer` in pg_stat_activity".
it('a DATABASE_URL with a tab inside "application_name" is refused, or the hub\'s sessions keep their name (red team 22)', async () => {
  const url = await cloneTemplateDatabase();
  const withName = `${url}${url.includes('?') ? '&' : '?'}application\t_name=intruder`;
  const refused = refusalOf({ DATABASE_URL: withName });
  if (refused) return expect(refused).toMatch(/no control characters/);
  const t = await startTestHub({ databaseUrl: loadConfig({ ...DATA, DATABASE_URL: withName }).databaseUrl });
  try {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    expect((await t.gql(civil, '{ regions { code } }', undefined, {})).errors).toBeUndefined();
    const names = await t.sql(`SELECT DISTINCT application_name AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY 1`);
    expect(names.map((r: { n: string }) => r.n)).not.toContain('intruder');
  } finally {
    await t.stop();
  }
});

// Sibling of the parameters the hub refuses: node-postgres takes `client_encoding` from the URL as
// the encoding it decodes every text column with (pg Client: `encoding: client_encoding || 'utf8'`),
// without telling Postgres, which sends UTF-8: the README's example child, read as printed.
it('a DATABASE_URL setting client_encoding is refused, or the hub still reads names as written (red team 22)', async () => {
  const url = await cloneTemplateDatabase();
  const withEncoding = `${url}${url.includes('?') ? '&' : '?'}client_encoding=latin1`;
  const refused = refusalOf({ DATABASE_URL: withEncoding });
  if (refused) return expect(refused).toMatch(/client_encoding/);
  const t = await startTestHub({ databaseUrl: withEncoding });
  try {
    const police = await t.token(Department.POLICE);
    const r = await t.gql(police, 'query($id: ID!) { minor(id: $id) { name } }', { id: '01666e24-a0ad-4f16-8a88-56a9bc69bebc' }, { 'x-purpose': 'CASE_HANDLING; rt22' });
    expect([r.errors ?? null, r.data?.minor?.name]).toEqual([null, '刘子轩']);
  } finally {
    await t.stop();
  }
});

// End to end: the test cluster, reached over its Unix socket, in the other forms README names.
it.each([
  ['a percent-encoded socket directory as host', (u: URL) => `postgres://${u.username}:${u.password}@${encodeURIComponent(u.searchParams.get('host')!)}:${u.port || 5432}${u.pathname}`],
  ['postgresql:/// with host, port, user, password as parameters', (u: URL) => `postgresql://${u.pathname}?host=${u.searchParams.get('host')}&port=${u.port || 5432}&user=${u.username}&password=${u.password}`],
  ['a socket: URL', (u: URL) => `socket://${u.username}:${u.password}@${u.searchParams.get('host')}?db=${u.pathname.slice(1)}&port=${u.port || 5432}`],
])('DATABASE_URL as %s: accepted, and the hub serves from it (red team 22)', async (_what, form) => {
  const u = new URL(await cloneTemplateDatabase());
  expect(u.searchParams.get('host')).toMatch(/^\//);
  const url = form(u);
  expect([url, refusalOf({ DATABASE_URL: url })]).toEqual([url, null]);
  const t = await startTestHub({ databaseUrl: loadConfig({ ...DATA, DATABASE_URL: url }).databaseUrl });
  try {
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), '{ regions { code } }', undefined, {});
    expect([r.status, r.errors ?? null]).toEqual([200, null]);
  } finally {
    await t.stop();
  }
});

describe('HUB_SUBGRAPH_URLS and HUB_STATISTICS_FINEST_LEVELS still take their valid forms (0e550ff, red team 22)', () => {
  it.each([
    ['IPv6 host', 'registry=http://[::1]:4001/graphql'],
    ['no path', 'registry=http://registry.internal:4001'],
    ['an encoded ? in the path', 'registry=http://registry.internal:4001/g%3Fraphql'],
    ['two entries with spaces', ' registry = http://a:4001/graphql , police=http://b:4002/graphql '],
  ])('HUB_SUBGRAPH_URLS %s accepted', (_what, raw) => {
    expect(refusalOf({ HUB_SUBGRAPH_URLS: raw })).toBeNull();
  });

  it('HUB_STATISTICS_FINEST_LEVELS with spaces around "=" accepted; a second "=" refused', () => {
    expect(refusalOf({ HUB_STATISTICS_FINEST_LEVELS: ' DASHBOARD = DISTRICT ' })).toBeNull();
    expect(refusalOf({ HUB_STATISTICS_FINEST_LEVELS: 'DASHBOARD=DISTRICT=GRID' })).toMatch(/HUB_STATISTICS_FINEST_LEVELS/);
  });
});

describe('parseArgs (0e550ff, 645db24, red team 22)', () => {
  const known = ['department', 'region', 'user', 'port'];
  it.each([
    [['--department', 'POLICE', '--region', '330102001'], { department: 'POLICE', region: '330102001' }],
    [['--department=POLICE', '--user=a=b'], { department: 'POLICE', user: 'a=b' }],
    [['--user', '-x'], { user: '-x' }],
    [['--user=--x'], { user: '--x' }],
  ])('%j is read as written', (argv, flags) => {
    expect(parseArgs(argv, known).flags).toEqual(flags);
  });
  it.each([
    [['--region', '330102001', '--region', '330102']],
    [['--region=330102001', '--region', '330102001']],
    [['--user=']],
    [['--user', '']],
    [['--user']],
    [['--user', '--region', '330102']],
  ])('%j is refused', (argv) => {
    expect(() => parseArgs(argv, known)).toThrow(/--(region|user)/);
  });
});

describe('the hub, red team 22', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  // 5e921a1: user ids accepted / refused through the public endpoint.
  it.each([
    ['ali-عَـلي', 200],
    ['kochi-コ゚ーチ', 200],
    ['police-ｺｰﾁ', 200],
    ['police-ｶﾞｰ', 200],
    ['police-らーめん', 200],
    ['police-ㄨㄤˊ', 200],
    ['police-ゝー', 200],
    ['police-١_1', 401],
    ['police:1', 200],
    ['police-١ـ1', 401],
    ['police-ـ1', 401],
    ['police-中ｰ1', 401],
    ['police-㋐ー', 401],
    ['police-、ｰ1', 401],
    // Same class as police-١ـ1 (5e921a1), beside Latin: characters of other scripts that are no
    // letters but are drawn as ASCII punctuation — Devanagari's visarga (a spacing mark, which
    // readsAsHub itself lists as a colon), Tibetan's rnam bcad, Hebrew's sof pasuq — pass for
    // `police:1`, an id the hub accepts too.
    ['police\u09031', 401],
    ['police\u0F7F1', 401],
    ['police\u05C31', 401],
  ])('a token for %s is answered %d', async (user, status) => {
    const token = await t.token(Department.POLICE, { user });
    const r = await post(t, token, { query: '{ __typename }' });
    expect([user, r.status]).toEqual([user, status]);
  });

  // b98b1ee: the expired-token refusal now parses the body; a body the bound refuses, or with a
  // variable nested past the depth the hash takes, must still be refused 401 and audited once.
  const expiring = async (user: string, body: string) => {
    const token = await t.token(Department.POLICE, { user, expiresIn: 2 });
    const raw = await postWithStalledBody(t.hub.port, token, body, 'CASE_HANDLING; rt22', 5);
    const requestId = /x-request-id: ([0-9a-f-]+)/i.exec(raw)?.[1];
    return { status: raw.split('\r\n')[0], requestId, raw };
  };

  // Each is compared with the event of the same body sent with a live token (served or refused):
  // the expired token's event names the same operation and hashes the same variables.
  it.each([
    ['a compiled-read candidate', JSON.stringify({ query: 'query One($id: ID!) { minor(id: $id) { id name } }', variables: { id: '01666e24-a0ad-4f16-8a88-56a9bc69bebc' } })],
    ['a mutation', JSON.stringify({ query: 'mutation Ack($id: ID!) { acknowledge(id: $id) { id } }', variables: { id: '0195b3d2-0000-7000-8000-000000000000', extra: 'x' } })],
    ['a variable nested past the depth bound', JSON.stringify({ query: 'query Deep($f: ID, $g: ID) { __typename }', variables: { g: 'x', f: JSON.parse('['.repeat(80) + ']'.repeat(80)) } })],
    ['a document past the validation bound', JSON.stringify({ query: `query Big { ${Array.from({ length: 3000 }, (_, i) => `a${i}: __typename`).join(' ')} }` })],
    ['a document that does not parse', JSON.stringify({ query: 'query Broken($id: ID!) { minor(id: $id) { id ', variables: { id: 'x' } })],
    ['a batch', JSON.stringify([{ query: 'query A { __typename }' }])],
    ['an unknown operationName', JSON.stringify({ query: 'query A { __typename } query B { __typename }', operationName: 'C' })],
    ['a non-string operationName', JSON.stringify({ query: 'query A { __typename }', operationName: { x: 1 } })],
    ['variables an array', JSON.stringify({ query: 'query A($x: Int) { __typename }', variables: [1] })],
  ])('expired while the body came, %s: 401, one UNAUTHENTICATED event naming what a live token\'s event names', async (what, body) => {
    const user = `rt222-exp-${what.replace(/[^a-z]/g, '')}`;
    const r = await expiring(user, body);
    expect(r.status).toBe('HTTP/1.1 401 Unauthorized');
    expect(r.requestId).toBeDefined();
    const events = await eventsOf(t, r.requestId!);
    expect(events.map((e) => e.outcome)).toEqual(['UNAUTHENTICATED']);
    const e = events[0].body;
    const live = await post(t, await t.token(Department.POLICE, { user }), body, { 'x-purpose': 'CASE_HANDLING; rt22' });
    const c = (await eventsOf(t, live.requestId)).at(-1)!.body;
    const shape = (x: Record<string, any>) => [x.operationName ?? null, x.operationType ?? null, x.variables ?? null];
    expect([live.status, shape(e)]).toEqual([live.status, shape(c)]);
  });

  // README Scripts: `npm run token -- --department D [...]`, as a client would then use the token.
  it('npm run token signs for a user id 5e921a1 accepts (ali-عَـلي), refuses one given twice or empty, and the hub serves the token', async () => {
    const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const cli = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
    const env = { ...process.env, HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR };
    const tool = (args: string[]) =>
      promisify(execFile)(tsx, [cli, ...args], { env }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e) => ({ code: e.code as number, stdout: String(e.stdout), stderr: String(e.stderr) }),
      );
    const ok = await tool(['--department', 'police', '--user', 'ali-عَـلي', '--region', '330102001']);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const r = await post(t, ok.stdout.trim(), { query: '{ __typename }' });
    expect(r.status).toBe(200);
    const twice = await tool(['--department', 'POLICE', '--department', 'POLICE']);
    expect([twice.code, twice.stdout, twice.stderr]).toEqual([2, '', expect.stringMatching(/--department is given twice/)]);
    const empty = await tool(['--department', 'POLICE', '--user=']);
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([2, '', expect.stringMatching(/--user needs a value/)]);
  });
});
