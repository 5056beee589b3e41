import { format } from 'node:util';
import { Client } from 'pg';
import { cloneTemplateDatabase } from './support/test-hub';

jest.setTimeout(120_000);

/**
 * A command-line tool's session ended by an administrator (pg_terminate_backend) or a restart.
 * node-postgres emits `error` on the pool (a session idle in it), or on a client the tool holds
 * between statements, and with no listener the process died of an unhandled error event, a stack
 * trace for its message. The tools log one line, the pool opens another session, and a statement
 * that meets the lost session fails as the tool's error.
 */
describe('command-line tools losing their database session (red team 9)', () => {
  let url: string;
  beforeAll(async () => {
    url = await cloneTemplateDatabase();
  });

  /** Ends `pid` as an administrator would, and returns once it has gone and its client heard of it. */
  async function terminate(pid: number): Promise<void> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('SELECT pg_terminate_backend($1, 2000)', [pid]);
    } finally {
      await c.end();
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  /** Runs `module` as its script with `mocked.fn` replaced; what it printed once `done` says it has finished. */
  async function runTool(
    module: string,
    mocked: { module: string; fn: string; impl: (...a: any[]) => unknown },
    done: (lines: string[], exitCode: unknown) => boolean,
    env: Record<string, string> = {},
  ): Promise<{ lines: string[]; exitCode: unknown }> {
    const lines: string[] = [];
    const spies = (['log', 'error', 'warn'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...a) => void lines.push(format(...a))));
    let exitCode: unknown;
    const exitSpy = jest.spyOn(process, 'exit').mockImplementation(((code: unknown) => void (exitCode = code)) as never);
    const saved = { argv: process.argv, env: { ...process.env } };
    process.argv = [saved.argv[0], module];
    Object.assign(process.env, env);
    try {
      jest.isolateModules(() => {
        jest.doMock(mocked.module, () => ({ ...jest.requireActual(mocked.module), [mocked.fn]: mocked.impl }));
        require(module);
      });
      for (let waited = 0; !done(lines, exitCode); waited += 50) {
        if (waited > 30_000) throw new Error(`${module} did not finish: ${lines.join(' | ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // Whatever the lost session still emits (its `end` after the error) has arrived.
      await new Promise((r) => setTimeout(r, 300));
      return { lines, exitCode };
    } finally {
      process.argv = saved.argv;
      process.env = saved.env;
      exitSpy.mockRestore();
      spies.forEach((s) => s.mockRestore());
      jest.dontMock(mocked.module);
    }
  }

  type Query = (text: string, params: unknown[]) => Promise<any[]>;
  const OK = { ok: true, events: 0, headHash: 'h', anchorsChecked: 0, firstBreak: null };
  /** `audit:verify` against the test database, its walk of the chain replaced by `walk`. */
  const runVerify = (walk: (query: Query) => Promise<typeof OK>, done: Parameters<typeof runTool>[2]) =>
    runTool('../src/cli/audit-verify.cli', { module: '../src/audit/audit.verify', fn: 'verifyChain', impl: walk }, done, { DATABASE_URL: url });

  it('audit:verify: a session ended while idle in its pool is logged in one line and replaced; the walk goes on', async () => {
    const { lines, exitCode } = await runVerify(
      async (query) => {
        const [{ pid }] = await query('SELECT pg_backend_pid() AS pid', []);
        await terminate(pid);
        const [{ again }] = await query('SELECT pg_backend_pid() AS again', []);
        expect(again).not.toBe(pid);
        return OK;
      },
      (l) => l.some((x) => x.startsWith('audit chain OK')),
    );
    expect(exitCode).toBeUndefined();
    expect(lines).toEqual([expect.stringMatching(/^audit:verify: database session lost: terminating connection due to administrator command \[code 57P01\]$/), 'audit chain OK: 0 events, head h']);
  });

  it('audit:verify: a statement in flight on the ended session fails the tool (exit 2) with one line, no stack trace', async () => {
    const { lines, exitCode } = await runVerify(
      async (query) => {
        const [{ pid }] = await query('SELECT pg_backend_pid() AS pid', []);
        const slow = query('SELECT pg_sleep(10)', []);
        slow.catch(() => undefined); // awaited below, once the session is ended
        await new Promise((r) => setTimeout(r, 200));
        await terminate(pid);
        await slow;
        return OK;
      },
      (_, code) => code !== undefined,
    );
    expect(exitCode).toBe(2);
    expect(lines.join('\n')).not.toMatch(/^\s+at /m);
    expect(lines.at(-1)).toMatch(/^audit:verify: terminating connection due to administrator command \[code 57P01\]$/);
  });

  /** `seedScale` of `minors` children into the test database, `module`'s `fn` replaced: what it printed, and its error. */
  async function load(minors: number, mocked: { module: string; fn: string; impl: (actual: any) => (...a: any[]) => unknown }): Promise<{ lines: string[]; failure: unknown }> {
    const lines: string[] = [];
    const spies = (['log', 'error', 'warn'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...a) => void lines.push(format(...a))));
    const progress = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let seedScale!: typeof import('../src/cli/seed-scale.cli').seedScale;
    try {
      jest.isolateModules(() => {
        jest.doMock(mocked.module, () => {
          const actual = jest.requireActual(mocked.module);
          return { ...actual, [mocked.fn]: mocked.impl(actual) };
        });
        ({ seedScale } = require('../src/cli/seed-scale.cli'));
      });
      const failure = await seedScale(['--minors', String(minors), '--districts', '1', '--reset', 'true'], { DATABASE_URL: url, HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR! }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // Whatever the lost session still emits (its socket closing after the error) has arrived.
      await new Promise((r) => setTimeout(r, 300));
      return { lines, failure };
    } finally {
      progress.mockRestore();
      spies.forEach((s) => s.mockRestore());
      jest.dontMock(mocked.module);
    }
  }

  async function minorCount(): Promise<number> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(`SELECT count(*)::int AS n FROM registry.minor`)).rows[0].n;
    } finally {
      await c.end();
    }
  }

  it('seed:scale: its held session ended between statements is logged in one line, and the load fails with an error, not a crash', async () => {
    const { lines, failure } = await load(50, {
      module: '../src/subgraphs/statistics/statistics.refresh',
      fn: 'refreshStatistics',
      // The load's session idles, held, while the statistics are refreshed on another: ended then.
      impl: () => async () => {
        const c = new Client({ connectionString: url });
        await c.connect();
        try {
          const rows = (await c.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'VACUUM (ANALYZE)' AND state = 'idle'`)).rows;
          expect(rows).toHaveLength(1);
          await terminate(rows[0].pid);
        } finally {
          await c.end();
        }
        return true;
      },
    });
    expect(String(failure)).toMatch(/connection error/);
    expect(lines.filter((l) => /session lost/.test(l))).toEqual([expect.stringMatching(/^seed:scale: database session lost: terminating connection due to administrator command \[code 57P01\]$/)]);
    // The load had committed before: the data set is the new one.
    expect(await minorCount()).toBe(50);
  });

  it('seed:scale: a session refused right after the database opened closes the database (and so an embedded Postgres) before failing', async () => {
    let closed = false;
    const { failure } = await load(10, {
      module: '../src/server/bootstrap',
      fn: 'openDatabase',
      // Opened as usual, but the tool's own session goes where nothing listens: refused, as a full max_connections would.
      impl: (actual) => async (...a: unknown[]) => {
        const db = await actual.openDatabase(...a);
        return { ...db, url: 'postgres://hub@127.0.0.1:1/none', close: async () => ((closed = true), db.close()) };
      },
    });
    expect(String(failure)).toMatch(/ECONNREFUSED/);
    expect(closed).toBe(true);
  });

  it('seed:scale: a statement in flight on its ended session fails the load, rolled back, not a crash', async () => {
    const before = await minorCount();
    const { failure } = await load(before + 10, {
      module: '../src/db/copy-loader',
      fn: 'copyRows',
      impl: (actual) => async (client: any, table: string, ...rest: unknown[]) => {
        if (table === 'registry.guardian') {
          const [{ pid }] = (await client.query('SELECT pg_backend_pid() AS pid')).rows;
          const slow = client.query('SELECT pg_sleep(10)');
          slow.catch(() => undefined); // awaited below, once the session is ended
          await new Promise((r) => setTimeout(r, 200));
          await terminate(pid);
          await slow;
        }
        return actual.copyRows(client, table, ...rest);
      },
    });
    expect(String(failure)).toMatch(/terminating connection due to administrator command/);
    expect(await minorCount()).toBe(before);
  });
});
