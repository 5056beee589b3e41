import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { HubConfig } from '../config/hub.config';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { MAINTENANCE_POOL } from '../db/session-format';
import { loggableSummary } from '../errors/hub.exception';

/**
 * The database sessions of a command-line tool (`seed:scale`, `audit:verify`,
 * `employment:confirm-key`). A session an administrator ends (pg_terminate_backend), a restart or
 * a network loss makes node-postgres emit `error` on the pool, for a session idle in it, or on a
 * client the tool holds between its statements; with no listener the tool died of an unhandled
 * error event, a stack trace where a line was due, and a load's ROLLBACK never ran. Now the loss is
 * one line, as the hub's own pools log it: the pool opens another session for the next statement,
 * a held client's next statement fails, and so does a statement in flight — the tool's error, which
 * it reports and exits non-zero on.
 */
export function maintenancePool(tool: string, config: PoolConfig): Pool {
  const pool = new Pool({ max: 1, ...MAINTENANCE_POOL, ...config });
  pool.on('error', (e) => logLoss(tool, e));
  return pool;
}

/**
 * Runs `work` on a maintenance pool to the configured database — or to the embedded one, started
 * for it and stopped after — and closes both whatever `work` does.
 */
export async function withMaintenancePool<T>(tool: string, config: HubConfig, extra: PoolConfig, work: (pool: Pool) => Promise<T>): Promise<T> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort);
  const pool = maintenancePool(tool, { connectionString: config.databaseUrl ?? embedded!.url, ...extra });
  try {
    return await work(pool);
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

/**
 * A client of `pool` held through several statements (a transaction): pg-pool listens only to the
 * clients idle in it. A lost session emits twice (the server's message, then its socket closing):
 * logged once. `release` gives it back, and the pool drops it if its session was lost.
 */
export async function holdClient(tool: string, pool: Pool): Promise<{ client: PoolClient; release: () => void }> {
  const client = await pool.connect();
  let logged = false;
  const lost = (e: Error) => {
    if (!logged) logLoss(tool, e);
    logged = true;
  };
  client.on('error', lost);
  return {
    client,
    release: () => {
      client.removeListener('error', lost);
      client.release();
    },
  };
}

const logLoss = (tool: string, e: unknown) => console.error(`${tool}: database session lost: ${loggableSummary(e)}`);
