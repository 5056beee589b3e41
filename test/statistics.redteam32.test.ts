import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addDistrictQ, addRegionChain } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 32: review of 96488fa (the bound pass hides one complement a line per pass), on regions
 * loaded ahead of their children.
 */
type Cell = { regionCode: string; count: { value: number | null; suppressed: boolean } };
const BY_STREET = `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode count { value suppressed } } total { value suppressed } } }`;

describe('statistics (redteam32)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
    // 330177: Q and a community without children in streets 001 and 002 (no empty street).
    await addDistrictQ(t, '330177');
    await addRegionChain(t, '330177001002001');
    await addRegionChain(t, '330177002002001');
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t?.stop());

  it('pins: empty communities inside populated streets leave the streets\' counts by risk level published', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: '330177' });
    const r = await t.gql(dash, BY_STREET);
    expect(r.errors).toBeUndefined();
    const cells = r.data.minorCounts.cells as Cell[];
    expect(cells.filter((c) => !c.count.suppressed).length).toBe(15);
  });
});
