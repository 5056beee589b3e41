import { Client } from 'pg';
import { seedScale } from '../src/cli/seed-scale.cli';
import { cloneTemplateDatabase } from './support/test-hub';

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
});
