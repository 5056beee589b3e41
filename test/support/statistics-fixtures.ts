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
