import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addMinors } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * The summaries of one refresh describe one state of the registry: a change committed while a
 * refresh runs is in all of them or in none.
 */
const DISTRICT = '330166';
const STREET = `${DISTRICT}001`;
const COMMUNITY = `${STREET}001`;
const GRID = `${COMMUNITY}001`;
const CELL = 'value suppressed';

describe('statistics: one refresh, one snapshot', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
    const regions: [string, string | null, string][] = [[DISTRICT, null, 'DISTRICT'], [STREET, DISTRICT, 'STREET'], [COMMUNITY, STREET, 'COMMUNITY'], [GRID, COMMUNITY, 'GRID']];
    for (const [code, parent, level] of regions) {
      await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [code, parent, level, `测试${code.slice(-3)}`]);
    }
    await addMinors(t, GRID, 20);
    await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) SELECT id, 'ORPHAN', now() FROM registry.minor WHERE grid_code = $1`, [GRID]);
    await addMinors(t, GRID, 20);
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t.stop());

  it('counts children registered during a refresh in every summary or in none', async () => {
    // Holds minor_cube's refresh back (its statement's snapshot already taken) until the registry has changed.
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query(`BEGIN`);
      // A matview takes no LOCK TABLE; an index being built holds the SHARE lock the refresh waits for.
      await holder.query(`CREATE INDEX held ON statistics.minor_cube (grid_code)`);
      const refresh = refreshStatistics(t.hub.db.ds);
      for (let waited = 0; ; waited += 20) {
        const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND relation = 'statistics.minor_cube'::regclass AND NOT granted`);
        if (n > 0) break;
        if (waited > 10_000) throw new Error('the refresh never reached minor_cube');
        await new Promise((r) => setTimeout(r, 20));
      }
      await t.sql(
        `WITH added AS (
           INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
           SELECT gen_random_uuid(), '测试', 'FEMALE', (current_date - INTERVAL '10 years')::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市', '浙江省杭州市测试路1号', $1
           FROM generate_series(1, 10) RETURNING id)
         INSERT INTO registry.minor_category (minor_id, category, identified_at) SELECT id, 'POVERTY', now() FROM added`,
        [GRID],
      );
      await holder.query(`ROLLBACK`);
      expect(await refresh).toBe(true);
    } finally {
      await holder.end();
    }

    const civil = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const children = await t.gql(civil, `{ minorCounts(level: DISTRICT) { total { ${CELL} } } }`);
    const categories = await t.gql(civil, `{ minorCounts(level: DISTRICT, by: [CATEGORY]) { cells { category count { ${CELL} } } } }`);
    const rates = await t.gql(civil, `{ statisticsRates(level: DISTRICT) { total { screening { numerator { ${CELL} } } } } }`);
    const poverty = categories.data.minorCounts.cells.find((c: { category: string }) => c.category === 'POVERTY').count;
    const total = children.data.minorCounts.total;
    const screened = rates.data.statisticsRates.total.screening.numerator;
    // The ten are counted with their category, as children and as screened children, or not at all.
    expect({ poverty: poverty.value, total: total.value, screened: screened.value }).toEqual(
      poverty.value === 10 ? { poverty: 10, total: 50, screened: 30 } : { poverty: null, total: 40, screened: 20 },
    );
  });
});
