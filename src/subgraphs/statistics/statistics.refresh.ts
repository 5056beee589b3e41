import type { DataSource, EntityManager } from 'typeorm';
import { loggableError } from '../../errors/hub.exception';
import { repeatEvery } from '../../common/repeat';

const VIEWS = ['statistics.minor_cube', 'statistics.category_cube', 'statistics.monthly_event', 'statistics.workflow_cube'];
/** Advisory lock key: one refresh at a time across every hub process on this database. */
export const REFRESH_LOCK = 0x5747_4154; // "STAT"

/**
 * Recomputes the summaries from the registry and the workflow. CONCURRENTLY keeps them readable
 * meanwhile; one transaction makes the views and `refreshed_at` agree on one "now" and one state of the data. Returns false
 * when another process is refreshing already, or, given `unlessNewerThanSeconds`, refreshed
 * within that many seconds (checked under the lock, so two timers never refresh back to back).
 */
export async function refreshStatistics(ds: DataSource, unlessNewerThanSeconds?: number): Promise<boolean> {
  // REPEATABLE READ: under READ COMMITTED each REFRESH read the registry as of its own statement,
  // so a change committed during a refresh was in the later views and not the earlier ones (a
  // category table counting children the counts of children and the screened lacked). One snapshot
  // for all four: a refresh whose snapshot predates one that committed just before it took the lock
  // can fail on the rows that one wrote (could not serialize): logged, and the next tick refreshes.
  return ds.transaction('REPEATABLE READ', async (em) => {
    const [{ locked }] = await em.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [REFRESH_LOCK]);
    if (!locked) return false;
    if (unlessNewerThanSeconds !== undefined) {
      // A stamp ahead of now is of a clock since stepped back: not fresh, or no tick would refresh until the clock caught up.
      const [{ fresh }] = await em.query(
        `SELECT refreshed_at > now() - make_interval(secs => $1::double precision) AND refreshed_at <= now() AS fresh FROM statistics.refresh`,
        [unlessNewerThanSeconds],
      );
      if (fresh) return false;
    }
    // The planner cannot estimate the region chain (grid → community → street → district joins
    // come out as one row) and picks nested loops over the million minors: minutes instead of
    // seconds at city scale. Hash and merge joins over all rows are what a full recompute needs.
    await em.query(`SET LOCAL enable_nestloop = off`);
    await em.query(`SET LOCAL work_mem = '64MB'`);
    // minor_facts counts ages with age(), which takes the two days as midnights in the session's
    // time zone: on a server whose zone has a summer time starting at 00:00 (Brazil's, Chile's,
    // Egypt's), a birthday's skipped midnight was an hour short of the years, and a child 18 that
    // day in China (ageOn, registry.is_minor) still counted. UTC has no summer time.
    await em.query(`SET LOCAL TimeZone = 'UTC'`);
    for (const view of VIEWS) await em.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${view}`);
    await em.query(`UPDATE statistics.refresh SET refreshed_at = now()`);
    return true;
  });
}

/**
 * Summaries older than this many intervals are stale: a timer refreshes at most an interval and a half
 * apart (a tick skips within half an interval of another process's refresh), plus the refresh itself.
 */
export const STALE_INTERVALS = 3;

/**
 * The serving process's refresh timer: at start (the summaries may be old after downtime) and then
 * every `intervalSeconds`. A tick skips when any process refreshed in the last half interval, so
 * several hub processes share the work instead of repeating it. Readers never wait for a refresh.
 * `afterRefresh` runs after each refresh this process made.
 */
export function startStatisticsRefresh(
  ds: DataSource,
  intervalSeconds: number,
  afterRefresh: () => Promise<unknown> = async () => undefined,
  log: (m: string) => void = console.error,
): { stop(): Promise<void> } {
  return repeatEvery(intervalSeconds, () =>
    refreshStatistics(ds, intervalSeconds / 2).then(
      (refreshed) => refreshed && afterRefresh().catch((e) => log(`[hub] after the statistics refresh: ${loggableError(e)}`)),
      // A failed refresh leaves the previous summaries and their honest refreshedAt.
      (e) => log(`[hub] statistics refresh failed: ${loggableError(e)}`),
    ),
  );
}

/**
 * The summaries an answer reads (in its snapshot, through `em`): when they were computed, and their
 * generation, one more at every refresh. Newer summaries are told from older ones by the
 * generation, not the stamp: the database's clock may step back (migration 1795403000000).
 */
export interface Summaries {
  at: Date;
  generation: number;
}

export async function summariesOf(em: EntityManager): Promise<Summaries> {
  const [{ refreshed_at: at, generation }] = await em.query(`SELECT refreshed_at, generation FROM statistics.refresh`);
  return { at: new Date(at), generation: Number(generation) };
}
