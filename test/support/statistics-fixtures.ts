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
