import { Client } from 'pg';
import type { TestHub } from './test-hub';

/** Adds `n` children aged under 18 to `grid`, straight into the registry (statistics read the summaries, not the API). */
export async function addMinors(t: TestHub, grid: string, n: number): Promise<void> {
  await t.sql(
    `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
     SELECT gen_random_uuid(), '测试', CASE WHEN i % 2 = 0 THEN 'MALE' ELSE 'FEMALE' END, (current_date - INTERVAL '10 years')::date,
            upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1
     FROM generate_series(1, $2::int) i`,
    [grid, n],
  );
}

/** A grid's region chain up to its district (codes of 6, 9, 12 and 15 digits), each added unless there. */
export async function addRegionChain(t: TestHub, grid: string): Promise<void> {
  const levels = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'];
  for (const [i, len] of [6, 9, 12, 15].entries()) {
    await t.sql(
      `INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`,
      [grid.slice(0, len), i ? grid.slice(0, [6, 9, 12][i - 1]) : null, levels[i], `红队${grid.slice(0, len)}`],
    );
  }
}

const Q_RISKS = ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED'];
const Q_AGE_YEARS = [1, 4, 9, 13, 16];
const Q_GENDERS = ['MALE', 'FEMALE'];
// Red team 24's district Q: three streets (one community and grid each), 1,360 children by risk
// level × age band × gender; each row: 50 counts, risk level, then age band, then gender.
const COUNTS_Q: number[][] = [
  [13, 1, 6, 4, 10, 0, 16, 6, 8, 2, 3, 17, 4, 4, 24, 0, 18, 24, 6, 2, 11, 20, 13, 24, 22, 1, 0, 0, 5, 15, 3, 15, 1, 13, 17, 13, 0, 21, 18, 3, 0, 0, 16, 0, 0, 14, 3, 5, 14, 9],
  [21, 23, 4, 12, 21, 6, 0, 22, 13, 6, 15, 0, 7, 6, 3, 15, 1, 0, 22, 23, 0, 23, 0, 20, 0, 16, 12, 13, 4, 0, 12, 0, 19, 11, 18, 15, 0, 3, 0, 0, 11, 0, 6, 6, 2, 23, 0, 0, 8, 17],
  [13, 3, 14, 0, 0, 15, 6, 11, 4, 0, 4, 5, 12, 0, 23, 19, 0, 14, 1, 1, 0, 0, 6, 23, 1, 3, 2, 6, 0, 19, 18, 18, 21, 0, 15, 23, 11, 20, 0, 23, 16, 2, 19, 0, 14, 11, 0, 20, 24, 0],
];

/** Red team 24's district Q under `district`: its children in streets 001–003 (community and grid 001 each). */
export async function addDistrictQ(t: TestHub, district: string): Promise<void> {
  const rows: { grid: string; risk: string | null; years: number; gender: string; n: number }[] = [];
  for (const [s, counts] of COUNTS_Q.entries()) {
    const grid = `${district}00${s + 1}001001`;
    await addRegionChain(t, grid);
    counts.forEach((n, i) => {
      const risk = Q_RISKS[Math.floor(i / 10)];
      if (n) rows.push({ grid, risk: risk === 'UNASSESSED' ? null : risk, years: Q_AGE_YEARS[Math.floor(i / 2) % 5], gender: Q_GENDERS[i % 2], n });
    });
  }
  await t.sql(
    `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
     SELECT gen_random_uuid(), '红队', r.gender, (current_date - make_interval(years => r.years, days => 100))::date,
            upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', r.grid, r.risk
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[]) AS r(grid, risk, years, gender, n), generate_series(1, r.n)`,
    [rows.map((r) => r.grid), rows.map((r) => r.risk), rows.map((r) => r.years), rows.map((r) => r.gender), rows.map((r) => r.n)],
  );
}

/** How many statistics fields wait on the summaries' stamp, read on a connection of its own (the hub's pool is full meanwhile). */
async function waitingOnStamp(monitor: Client): Promise<number> {
  const {
    rows: [{ n }],
  } = await monitor.query(
    `SELECT count(*)::int AS n FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND relation = 'statistics.refresh'::regclass AND NOT granted`,
  );
  return n;
}

/**
 * Sends a request (`send`) while a refresh is held until `held` of its statistics fields have taken
 * their snapshot (they wait on the stamp), then commits the refresh (with `change` made before it)
 * and returns the answer. The hub's pool is then full: the request's later fields start after the
 * refresh has committed.
 */
export async function acrossARefresh<R>(t: TestHub, send: () => Promise<R>, held: number, change: () => Promise<void>): Promise<R> {
  const refresher = new Client({ connectionString: t.databaseUrl });
  const monitor = new Client({ connectionString: t.databaseUrl });
  await refresher.connect();
  await monitor.connect();
  try {
    await change();
    await refresher.query(`BEGIN ISOLATION LEVEL REPEATABLE READ`);
    await refresher.query(`LOCK TABLE statistics.refresh IN ACCESS EXCLUSIVE MODE`);
    const answer = send();
    for (let polls = 0; (await waitingOnStamp(monitor)) < held; polls++) {
      if (polls > 500) throw new Error(`only ${await waitingOnStamp(monitor)} of ${held} fields reached the stamp`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await refresher.query(`SET LOCAL TimeZone = 'UTC'`);
    for (const view of ['minor_cube', 'category_cube', 'monthly_event', 'workflow_cube']) {
      await refresher.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY statistics.${view}`);
    }
    await refresher.query(`UPDATE statistics.refresh SET refreshed_at = now()`);
    await refresher.query(`COMMIT`);
    return await answer;
  } finally {
    await refresher.end();
    await monitor.end();
  }
}
