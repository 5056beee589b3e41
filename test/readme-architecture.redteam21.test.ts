import { randomBytes } from 'node:crypto';
import { Department, Role } from '../src/auth/principal';
import { idNumberProblem, idNumberBirthDate, idNumberGender } from '../src/common/id-number';
import { ageOn } from '../src/common/dates';
import { Client } from 'pg';
import { openDatabase, seedDemo } from '../src/server/bootstrap';
import { openDataSource } from '../src/db/data-source';
import { cloneTemplateDatabase } from './support/test-hub';
import { startSubgraphServer } from '../src/server/subgraph.server';
import { SUBGRAPHS } from '../src/subgraphs';
import { startDistributedTestHub, startTestHub, TestHub, postGraphQL, sendRaw, testConfig } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * README, Architecture and Demo data / Scripts: each sentence that promises a behaviour, checked
 * at the public endpoint (or against the seeded database the demo promises).
 */
describe('README Demo data (redteam21)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('one district 330102 浙江省杭州市上城区, 4 streets (清波街道 330102001, 湖滨, 小营, 紫阳), 12 communities, 36 grids', async () => {
    const levels: { level: string; n: number }[] = await t.sql(`SELECT level, count(*)::int AS n FROM registry.region GROUP BY level ORDER BY level`);
    expect(Object.fromEntries(levels.map((r) => [r.level, r.n]))).toEqual({ DISTRICT: 1, STREET: 4, COMMUNITY: 12, GRID: 36 });
    const [district] = await t.sql(`SELECT code, name FROM registry.region WHERE level = 'DISTRICT'`);
    expect(district).toEqual({ code: '330102', name: '浙江省杭州市上城区' });
    const streets: { code: string; name: string }[] = await t.sql(`SELECT code, name FROM registry.region WHERE level = 'STREET' ORDER BY code`);
    expect(streets.map((s) => s.name)).toEqual(['清波街道', '湖滨街道', '小营街道', '紫阳街道']);
    expect(streets[0].code).toBe('330102001');
  });

  it('2,400 minors with valid ID numbers: address code 330102, the birth date, gender parity, MOD 11-2 check; every one under 17 on the day of seeding', async () => {
    const rows: { id_number: string; birth_date: string; gender: string; created_at: Date }[] = await t.sql(
      `SELECT id_number, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, gender, created_at FROM registry.minor`,
    );
    expect(rows).toHaveLength(2400);
    const bad = rows.filter(
      (r) =>
        idNumberProblem(r.id_number) !== null ||
        !r.id_number.startsWith('330102') ||
        idNumberBirthDate(r.id_number) !== r.birth_date ||
        idNumberGender(r.id_number) !== r.gender ||
        ageOn(r.birth_date, r.created_at) >= 17,
    );
    expect(bad).toEqual([]);
    expect(new Set(rows.map((r) => r.id_number)).size).toBe(2400);
  });

  it('children without a category have no assessment and no risk level; the others one to three rounds, covering all four levels', async () => {
    const [uncategorised] = await t.sql(`
      SELECT count(*)::int AS n,
             count(*) FILTER (WHERE m.risk_level IS NOT NULL)::int AS with_level,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM registry.risk_assessment a WHERE a.minor_id = m.id))::int AS assessed
      FROM registry.minor m WHERE NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id)`);
    expect(uncategorised.n).toBeGreaterThan(0);
    expect(uncategorised).toMatchObject({ with_level: 0, assessed: 0 });
    const rounds: { n: number }[] = await t.sql(`
      SELECT (SELECT count(*) FROM registry.risk_assessment a WHERE a.minor_id = m.id)::int AS n
      FROM registry.minor m WHERE EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id)`);
    expect(rounds.filter((r) => r.n < 1 || r.n > 3)).toEqual([]);
    const levels: { level: string }[] = await t.sql(`SELECT DISTINCT level FROM registry.risk_assessment ORDER BY 1`);
    expect(levels.map((l) => l.level).sort()).toEqual(['BLUE', 'ORANGE', 'RED', 'YELLOW']);
    // The child's risk level is its latest assessment's.
    const [mismatch] = await t.sql(`
      SELECT count(*)::int AS n FROM registry.minor m
      WHERE m.risk_level IS DISTINCT FROM (SELECT a.level FROM registry.risk_assessment a WHERE a.minor_id = m.id ORDER BY a.assessed_at DESC LIMIT 1)`);
    expect(mismatch.n).toBe(0);
  });

  it('a child too young for school is neither dropped out nor idle, none under 14 is married early, and its assessments name the categories it has', async () => {
    const young: { category: string; n: number }[] = await t.sql(`
      SELECT c.category, count(*)::int AS n FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id
      WHERE m.school IS NULL GROUP BY c.category ORDER BY c.category`);
    expect(young.length).toBeGreaterThan(0);
    expect(young.filter((r) => ['DROPOUT', 'IDLE'].includes(r.category))).toEqual([]);
    const married: { born: string; seeded: Date }[] = await t.sql(`
      SELECT to_char(m.birth_date, 'YYYY-MM-DD') AS born, m.created_at AS seeded FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id
      WHERE c.category = 'EARLY_MARRIAGE'`);
    expect(married.length).toBeGreaterThan(0);
    expect(married.filter((r) => ageOn(r.born, r.seeded) < 14)).toEqual([]);
    const [older] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id WHERE m.school IS NOT NULL AND c.category = 'DROPOUT'`);
    expect(older.n).toBeGreaterThan(0);
    const [stale] = await t.sql(`
      SELECT count(*)::int AS n FROM registry.risk_assessment a
      WHERE (SELECT array_agg(x ORDER BY x) FROM unnest(string_to_array(split_part(a.reasons, ':', 1), ', ')) x)
        IS DISTINCT FROM (SELECT array_agg(c.category::text ORDER BY c.category::text) FROM registry.minor_category c WHERE c.minor_id = a.minor_id)`);
    expect(stale.n).toBe(0);
  });

  it('guardians follow the categories: INCARCERATED_PARENT has a father serving a sentence (or in compulsory rehab)', async () => {
    const [r] = await t.sql(`
      SELECT count(*)::int AS n,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = c.minor_id AND g.relationship = 'FATHER' AND g.situation IN ('SERVING_SENTENCE', 'COMPULSORY_REHAB')))::int AS ok
      FROM registry.minor_category c WHERE c.category = 'INCARCERATED_PARENT'`);
    expect(r.n).toBeGreaterThan(0);
    expect(r.ok).toBe(r.n);
  });

  it('a district officer sees the 2,400 minors through the API', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS, { role: Role.OFFICER });
    const r = await t.gql(token, `{ minors(first: 1) { totalCount } }`);
    expect(r.errors).toBeUndefined();
    expect((r.data as any).minors.totalCount).toBe(2400);
  });
});

describe('README Architecture, Data: one statement per relation per request, whatever the page sizes (redteam21)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });
  const SIZES = Array.from({ length: 100 }, (_, i) => i + 1).filter((n) => n % 2 || n === 100);
  async function run(token: string, query: string) {
    const before = t.hub.db.statements.count;
    const r = await t.gql(token, query);
    expect(r.errors).toBeUndefined();
    return { data: r.data as any, statements: t.hub.db.statements.count - before };
  }
  const page = (lists: string) => `{ minors(first: 40) { edges { node { id ${lists} } } } }`;

  it.each(['mandatoryReports', 'referrals'])('a workflow list of a child (%s): 51 sizes under a page of 40 children cost what one does', async (list) => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const ids = (await run(civil, page(''))).data.minors.edges.map((e: any) => e.node.id);
    await run(civil, page(`${list}(first: 100) { id }`)); // warm-up
    const one = await run(civil, page(`${list}(first: 100) { id }`));
    const many = await run(civil, page(SIZES.map((n) => `l${n}: ${list}(first: ${n}) { id }`).join(' ')));
    expect(many.statements).toBe(one.statements);
    expect(ids.length).toBe(40);
  });
});

describe('README Architecture, distributed mode: a subgraph server at its HTTP edge (redteam21)', () => {
  let t: TestHub;
  let subgraphUrl: string;
  beforeAll(async () => {
    t = await startDistributedTestHub();
    subgraphUrl = t.config.subgraphUrls.registry;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves GET /health', async () => {
    const r = await fetch(subgraphUrl.replace(/\/graphql$/, '/health'));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', subgraph: 'registry' });
  });

  it('a client calling it directly, with or without a client token: UNAUTHENTICATED 401, WWW-Authenticate naming the assertion header, no-store', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const auth of [{}, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
      const r = await fetch(subgraphUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query: '{ regions { code } }' }) });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('HubGatewayAssertion header="x-hub-gateway-assertion"');
      expect(r.headers.get('cache-control')).toBe('no-store');
      const body = (await r.json()) as any;
      expect([body.data, body.errors.map((e: any) => e.extensions.code)]).toEqual([undefined, ['UNAUTHENTICATED']]);
    }
    log.mockRestore();
  });

  it('any other method than POST: 405 BAD_REQUEST, Allow: POST; a query string: 400; both before the assertion', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET']) {
        const r = await sendRaw(subgraphUrl, method, { 'content-type': 'application/json' }, JSON.stringify({ query: '{ regions { code } }' }));
        expect([method, r.status, r.allow, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([method, 405, 'POST', ['BAD_REQUEST']]);
      }
      const q = await sendRaw(`${subgraphUrl}?x=1`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ query: '{ regions { code } }' }));
      expect([q.status, q.json.errors.map((e: any) => e.extensions.code)]).toEqual([400, ['BAD_REQUEST']]);
    } finally {
      log.mockRestore();
    }
  });

  it('a body that is not JSON, or over the limit: typed refusals, no stack or parser text', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const bad = await sendRaw(subgraphUrl, 'POST', { 'content-type': 'application/json' }, '{"query": ');
      expect(bad.status).toBe(400);
      expect(bad.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_REQUEST']);
      expect(JSON.stringify(bad.json)).not.toMatch(/\bat [A-Za-z.]+ \(|node_modules|SyntaxError/);
      const big = await sendRaw(subgraphUrl, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ query: '{ regions { code } }', variables: { x: 'a'.repeat(1024 * 1024) } }));
      expect(big.status).toBe(413);
      expect(big.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_REQUEST']);
    } finally {
      log.mockRestore();
    }
  });

  it('the hub in front answers a client as in process', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const r = await postGraphQL(t.hub.url, token, `{ minors(first: 1) { totalCount } }`, undefined, { 'x-purpose': 'CASE_HANDLING; rt21' });
    expect(r.errors).toBeUndefined();
    expect((r.data as any).minors.totalCount).toBe(2400);
  });
});

describe('README Adding a department: afterSeedDemo is work on the seeded data once it has committed (redteam21)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });
  const refreshedAt = async () => ((await t.sql(`SELECT refreshed_at FROM statistics.refresh`)) as { refreshed_at: Date }[])[0].refreshed_at.getTime();

  it('a demo hub started on a registry already seeded seeds nothing, and so refreshes no statistics (no timer: HUB_STATISTICS_REFRESH_SECONDS=0)', async () => {
    const before = await refreshedAt();
    const again = await startTestHub({ databaseUrl: t.databaseUrl, env: { HUB_SEED_DEMO: 'true', HUB_STATISTICS_REFRESH_SECONDS: '0' } });
    await again.stop();
    expect(await refreshedAt()).toBe(before);
  });

  it('a registry subgraph process (npm run subgraph -- registry) started on a seeded database refreshes no statistics', async () => {
    const before = await refreshedAt();
    const server = await startSubgraphServer('registry', testConfig({ databaseUrl: t.databaseUrl, env: { HUB_SEED_DEMO: 'true' } }), 0);
    await server.stop();
    expect(await refreshedAt()).toBe(before);
  });
});

describe('README Architecture, Data: each slice\'s tables live in the Postgres schema named after the slice (redteam21)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('every entity of a slice maps to a table of the slice\'s schema; no table outside the slices\' schemas and public; hub_migrations keeps the migrations', async () => {
    const wrong: string[] = [];
    for (const slice of SUBGRAPHS) {
      for (const entity of slice.entities) {
        const meta = t.hub.db.ds.getMetadata(entity);
        if (meta.schema !== slice.name) wrong.push(`${slice.name}: ${meta.name} in ${meta.schema}`);
      }
    }
    expect(wrong).toEqual([]);
    const schemas: { s: string }[] = await t.sql(
      `SELECT DISTINCT table_schema AS s FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const names = SUBGRAPHS.map((s) => s.name);
    expect(schemas.map((r) => r.s).filter((s) => !names.includes(s) && s !== 'public')).toEqual([]);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM hub_migrations`);
    expect(n).toBeGreaterThan(0);
  });
});

describe('README Architecture, distributed mode: the gateway\'s subgraph URL and the subgraph\'s "bare path" rule (redteam21)', () => {
  it('a HUB_SUBGRAPH_URLS entry with a query string (which the config reads as part of the URL) is refused at start, or served: never every request an internal error', async () => {
    const base = await startTestHub();
    const secret = randomBytes(32).toString('hex');
    const server = await startSubgraphServer('registry', testConfig({ databaseUrl: base.databaseUrl, gatewaySecret: secret }), 0);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let hub: TestHub | undefined;
    try {
      try {
        hub = await startTestHub({ databaseUrl: base.databaseUrl, gatewaySecret: secret, env: { HUB_SUBGRAPH_URLS: `registry=${server.url}?v=1` } });
      } catch (e) {
        // Refused at start: the configuration can never be served by `npm run subgraph`.
        expect(String(e)).toMatch(/HUB_SUBGRAPH_URLS/);
        return;
      }
      const r = await hub.gql(await hub.token(Department.CIVIL_AFFAIRS), `{ regions { code } }`);
      expect([r.status, r.errors?.map((e) => e.message)]).toEqual([200, undefined]);
    } finally {
      log.mockRestore();
      await hub?.stop();
      await server.stop();
      await base.stop();
    }
  });
});

describe('README Demo data: a seeded PRNG, so the data are the same on every machine (redteam21)', () => {
  const on = (database: string) => {
    const u = new URL(process.env.HUB_TEST_PG_URL!);
    u.pathname = `/${database}`;
    return u.toString();
  };
  /** Each slice table's rows, ordered, as one digest per table; columns a clock fills (defaults of now()) left out. */
  async function digests(url: string): Promise<Record<string, string>> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const tables = (await c.query(`SELECT table_schema || '.' || table_name AS t, table_schema AS s, table_name AS n FROM information_schema.tables WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' AND table_schema NOT IN ('audit', 'statistics') ORDER BY 1`, [SUBGRAPHS.map((s) => s.name)])).rows;
      const out: Record<string, string> = {};
      for (const { t, s, n } of tables) {
        const cols = (await c.query(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND coalesce(column_default, '') NOT LIKE '%now()%' AND coalesce(column_default, '') NOT LIKE '%CURRENT_TIMESTAMP%' AND coalesce(column_default, '') NOT LIKE '%gen_random_uuid%' ORDER BY ordinal_position`, [s, n])).rows.map((r) => `"${r.c}"`);
        const [{ d }] = (await c.query(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS d FROM (SELECT ${cols.join(', ')} FROM ${t}) x`)).rows;
        out[t] = d;
      }
      return out;
    } finally {
      await c.end();
    }
  }

  async function createDatabase(): Promise<string> {
    const name = `fresh_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: on('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return name;
  }

  it('a new database seeded the same day holds the same rows as the template seeded by the test set-up', async () => {
    // The demo seed is anchored on the UTC day it runs: a run crossing midnight seeds the template
    // on one day and this database on the next, so it is held to a seed of its own day, made as the
    // set-up made the template; and a seed that itself crossed midnight is made again.
    const day = () => new Date().toISOString().slice(0, 10);
    let name = '';
    let seededOn: string | undefined;
    for (let attempt = 0; attempt < 2 && !seededOn; attempt++) {
      name = await createDatabase();
      const before = day();
      const db = await openDatabase(testConfig({ databaseUrl: on(name), env: { HUB_SEED_DEMO: 'true' } }));
      await db.close();
      if (day() === before) seededOn = before;
    }
    expect(seededOn).toBeDefined();
    const fresh = await digests(on(name));
    let reference: string;
    if (seededOn === process.env.HUB_TEST_SEED_DAY) reference = await cloneTemplateDatabase();
    else {
      reference = on(await createDatabase());
      const ds = await openDataSource(reference);
      await seedDemo(ds, new Date(`${seededOn}T00:00:00Z`));
      await ds.destroy();
    }
    const template = await digests(reference);
    const differing = Object.keys(template).filter((t) => template[t] !== fresh[t]);
    expect(differing).toEqual([]);
  });
});
