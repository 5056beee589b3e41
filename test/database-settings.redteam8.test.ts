import { Client } from 'pg';
import { loadConfig } from '../src/config/hub.config';
import { openDataSource } from '../src/db/data-source';
import { databaseWith } from './support/test-hub';

/** Whether another session could take the migrations' advisory lock now (data-source.ts PREPARE_LOCK). */
async function lockFree(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const [{ got }] = (await c.query(`SELECT pg_try_advisory_lock(${0x6875625f6d6967n}) AS got`)).rows;
    return got;
  } finally {
    await c.end();
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Idle limits set for the database, the role or the cluster (a common hardening): migrations and the
 * demo seed run for minutes at city scale while the session holding the migrations' lock waits idle,
 * and the maintenance sessions wait between the statements of their transactions.
 */
describe('idle limits set for the database', () => {
  it('do not end the session holding the migrations’ lock while migrations and the seed run', async () => {
    const url = await databaseWith([`ALTER DATABASE DB SET idle_session_timeout = '200ms'`]);
    let freeDuring: boolean | undefined;
    const ds = await openDataSource(url, undefined, 1, async (d) => {
      await pause(800);
      freeDuring = await lockFree(url);
      await d.query('SELECT 1');
    });
    await ds.destroy();
    // Released at the end, taken by no one while it ran: a second replica waited.
    expect(freeDuring).toBe(false);
  });

  it('do not end a maintenance transaction waiting between its statements', async () => {
    const url = await databaseWith([`ALTER DATABASE DB SET idle_in_transaction_session_timeout = '200ms'`]);
    const ds = await openDataSource(url, undefined, 1);
    try {
      const n = await ds.transaction(async (em) => {
        await em.query('SELECT 1');
        await pause(800);
        const [{ n }] = await em.query('SELECT count(*)::int AS n FROM registry.region');
        return n;
      });
      expect(n).toBeGreaterThan(0);
    } finally {
      await ds.destroy();
    }
  });
});

/**
 * node-postgres takes a parameter of the connection URL over the same option given beside it: an
 * `options` in DATABASE_URL replaced every `-c` the hub sets (DateStyle, search_path, the requests'
 * time limits, the audit writer's role and synchronous_commit), and a `statement_timeout` there,
 * sent to the server after them, undid the requests' bound.
 */
describe('a DATABASE_URL carrying session settings', () => {
  it('is refused at start-up, naming what it sets; other parameters pass', async () => {
    const base = 'postgres://hub:secret@db.internal:5432/hub';
    for (const [query, named] of [
      ['options=-c%20search_path%3Dhub', 'options'],
      ['sslmode=require&statement_timeout=0', 'statement_timeout'],
      ['lock_timeout=0&idle_in_transaction_session_timeout=0', 'lock_timeout, idle_in_transaction_session_timeout'],
      ['query_timeout=0', 'query_timeout'],
      // The hub names its sessions (hub, hub audit writer) for pg_stat_activity.
      ['sslmode=verify-full&application_name=hub-a', 'application_name'],
    ]) {
      expect(() => loadConfig({ DATABASE_URL: `${base}?${query}` })).toThrow(`DATABASE_URL sets ${named}, which the hub sets on its sessions itself`);
    }
    for (const url of [base, `${base}?sslmode=verify-full`, 'postgres://hub@/hub?host=/var/run/postgresql']) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });
});
