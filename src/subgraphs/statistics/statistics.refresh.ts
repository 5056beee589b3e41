import type { DataSource, EntityManager } from 'typeorm';

const VIEWS = ['statistics.minor_cube', 'statistics.category_cube', 'statistics.monthly_event', 'statistics.workflow_cube'];
/** Advisory lock key: one refresh at a time across every hub process on this database. */
const REFRESH_LOCK = 0x5747_4154; // "STAT"

/**
 * Recomputes the summaries from the registry. CONCURRENTLY keeps them readable meanwhile; one
 * transaction makes the views and `refreshed_at` agree on one "now". Returns false when
 * another process is refreshing already.
 */
export async function refreshStatistics(ds: DataSource): Promise<boolean> {
  return ds.transaction(async (em) => {
    const [{ locked }] = await em.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [REFRESH_LOCK]);
    if (!locked) return false;
    // The planner cannot estimate the region chain (grid → community → street → district joins
    // come out as one row) and picks nested loops over the million minors: minutes instead of
    // seconds at city scale. Hash and merge joins over all rows are what a full recompute needs.
    await em.query(`SET LOCAL enable_nestloop = off`);
    await em.query(`SET LOCAL work_mem = '64MB'`);
    for (const view of VIEWS) await em.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${view}`);
    await em.query(`UPDATE statistics.refresh SET refreshed_at = now()`);
    return true;
  });
}

const running = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Freshness on demand: an answer is computed from the summaries as they are (read through `em`,
 * in the answer's snapshot), and when they are older than the interval a refresh starts in the
 * background (one per process), so no reader waits for it. The first read after start-up
 * therefore starts one too if the last is old.
 */
export async function refreshedAt(em: EntityManager, ds: DataSource, intervalSeconds: number): Promise<Date> {
  const [{ refreshed_at: at }] = await em.query(`SELECT refreshed_at FROM statistics.refresh`);
  const refreshed = new Date(at);
  if (Date.now() - refreshed.getTime() > intervalSeconds * 1000 && !running.has(ds)) {
    const job = refreshStatistics(ds)
      .catch((e) => {
        // A failed refresh leaves the previous summaries and their honest refreshedAt.
        if (ds.isInitialized) console.error('[hub] statistics refresh failed', e);
      })
      .finally(() => running.delete(ds));
    running.set(ds, job);
  }
  return refreshed;
}
