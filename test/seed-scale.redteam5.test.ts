import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { seedScale } from '../src/cli/seed-scale.cli';
import { cloneTemplateDatabase, startTestHub } from './support/test-hub';

jest.setTimeout(180_000);

async function withDb<T>(url: string, run: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}
const env = (url: string) => ({ DATABASE_URL: url, HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR });
const minors = (url: string) => withDb(url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM registry.minor`)).rows[0].n as number);

describe('seed:scale (red team 5)', () => {
  let url: string;
  beforeAll(async () => {
    url = await cloneTemplateDatabase();
  });

  it.each(['0', 'abc', '100'])('refuses --districts %s, naming the flag, and leaves the data set as it was', async (districts) => {
    const before = await minors(url);
    expect(before).toBeGreaterThan(0);
    await expect(seedScale(['--minors', '50', '--districts', districts, '--reset', 'true'], env(url))).rejects.toThrow(/--districts/);
    expect(await minors(url)).toBe(before);
  });

  it('refuses more minors than a district has ID numbers for, instead of looking for a free one forever', async () => {
    const before = await minors(url);
    await expect(seedScale(['--minors', '2000001', '--districts', '2', '--reset', 'true'], env(url))).rejects.toThrow(/--minors .*1,000,000 .*district/);
    expect(await minors(url)).toBe(before);
  });

  it('replaces the data set with --reset true in the load’s transaction: a load that fails keeps the old one', async () => {
    const before = await minors(url);
    await withDb(url, (c) =>
      c.query(`CREATE FUNCTION public.fail_load() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'load failed'; END $$;
               CREATE TRIGGER fail_load BEFORE INSERT ON registry.visit FOR EACH ROW EXECUTE FUNCTION public.fail_load()`),
    );
    try {
      await expect(seedScale(['--minors', '200', '--districts', '2', '--reset', 'true'], env(url))).rejects.toThrow(/load failed/);
      expect(await minors(url)).toBe(before);
    } finally {
      await withDb(url, (c) => c.query(`DROP TRIGGER fail_load ON registry.visit; DROP FUNCTION public.fail_load()`));
    }
  });

  it('loads every district, records no later than the hub accepts them, and the hub answers for the children', async () => {
    await seedScale(['--minors', '3000', '--districts', '10', '--reset', 'true'], env(url));
    const facts = await withDb(url, async (c) => (await c.query(`
      SELECT (SELECT count(DISTINCT left(grid_code, 6))::int FROM registry.minor) AS districts,
             (SELECT count(*)::int FROM registry.region WHERE level = 'DISTRICT') AS all_districts,
             (SELECT count(*)::int FROM registry.risk_assessment a JOIN registry.minor m ON m.id = a.minor_id
               WHERE a.assessed_at < (m.birth_date::text || 'T00:00:00+08:00')::timestamptz) AS assessed_before_birth,
             (SELECT count(*)::int FROM registry.minor_category k JOIN registry.minor m ON m.id = k.minor_id
               WHERE k.identified_at < m.birth_date) AS identified_before_birth`)).rows[0]);
    // Each district has children at any size: a district officer of the last one finds hers.
    expect(facts.districts).toBe(facts.all_districts);
    // What recordAssessment and addCategory refuse (before the child was born) is not generated either.
    expect(facts.assessed_before_birth).toBe(0);
    expect(facts.identified_before_birth).toBe(0);

    const t = await startTestHub({ databaseUrl: url });
    try {
      const [child] = await t.sql(`SELECT id, name, id_number, risk_level, next_visit_due, left(grid_code, 6) AS district FROM registry.minor
        WHERE risk_level IS NOT NULL AND left(grid_code, 6) = '330111' ORDER BY id LIMIT 1`);
      const q = `query($id: ID!) { minor(id: $id) { id name idNumber riskLevel nextVisitDue } }`;
      const own = await t.gql(await t.token(Department.POLICE, { region: child.district }), q, { id: child.id });
      expect(own.errors).toBeUndefined();
      expect(own.data.minor).toEqual({ id: child.id, name: child.name, idNumber: child.id_number, riskLevel: child.risk_level, nextVisitDue: child.next_visit_due.toISOString() });
      const other = await t.gql(await t.token(Department.POLICE, { region: '330102' }), q, { id: child.id });
      expect(other.errors).toBeUndefined();
      expect(other.data.minor).toBeNull();
    } finally {
      await t.stop();
    }
  });
});
