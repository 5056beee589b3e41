import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Red-team probes (round 4) of refused fields and their side channels: what a subject may not read
 * must not change what it is served.
 */
describe('refused fields and their side channels (red team 4)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  /**
   * The counts of children were protected in one lattice with the children's visit status (on
   * time, overdue), whoever asked: which counts a school, the Youth League or a dashboard was shown
   * and which hidden followed the overdue and on-time counts beside them, which those subjects may
   * not read. Visits alone — the same children, levels, ages and genders — then turned a school's
   * published 6 RED children of a grid into a hidden one, and a hidden 8 into a published one: the
   * school learnt that the grid's children had been visited, from statistics it is refused.
   */
  it('serves the same statistics before and after visits to every subject that may not read visits', async () => {
    const SHAPES = [
      `minorCounts(level: GRID, by: [RISK_LEVEL])`,
      `minorCounts(level: GRID, by: [GENDER])`,
      `minorCounts(level: COMMUNITY, by: [RISK_LEVEL, GENDER])`,
      `minorCounts(level: COMMUNITY, by: [RISK_LEVEL, AGE_BAND])`,
      `minorCounts(level: STREET, by: [RISK_LEVEL, AGE_BAND, GENDER])`,
    ];
    const COUNT = `cells { regionCode riskLevel ageBand gender count { value suppressed display } } total { value suppressed display }`;
    const RATES = `statisticsRates(level: GRID) { regions { regionCode screening { numerator { display } denominator { display } display } } total { screening { display } } }`;
    const readers = {
      education: await t.token(Department.EDUCATION),
      youthLeague: await t.token(Department.YOUTH_LEAGUE),
      // A dashboard is served down to streets only.
      dashboard: await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD }),
    };
    const served = async () => {
      const out: Record<string, unknown> = {};
      for (const [who, token] of Object.entries(readers)) {
        for (const shape of who === 'dashboard' ? SHAPES.slice(-1) : SHAPES) {
          const r = await t.gql(token, `{ ${shape} { ${COUNT} } }`);
          expect(r.errors).toBeUndefined();
          out[`${who} ${shape}`] = r.data;
        }
        const level = who === 'dashboard' ? 'STREET' : 'GRID';
        const r = await t.gql(token, `{ ${RATES.replace('GRID', level)} }`);
        expect(r.errors).toBeUndefined();
        out[`${who} rates`] = r.data;
      }
      return out;
    };

    await refreshStatistics(t.hub.db.ds);
    const before = await served();
    // Visits of children whose visit is overdue: their visit status changes, nothing else of them.
    const due: { id: string }[] = await t.sql(
      `SELECT id FROM registry.minor WHERE risk_level IN ('ORANGE', 'YELLOW', 'BLUE') AND next_visit_due < now() AND registry.is_minor(birth_date, now()) ORDER BY id`,
    );
    expect(due.length).toBeGreaterThan(100);
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    for (const { id } of due) {
      const r = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "走访" }) { id } }`, { id });
      expect(r.errors).toBeUndefined();
    }
    await refreshStatistics(t.hub.db.ds);
    // The visits did move the visit statistics of those who read them.
    const police = await t.token(Department.POLICE);
    const overdue = await t.gql(police, `{ minorCounts(level: GRID, by: [RISK_LEVEL], measure: OVERDUE_VISITS) { total { display } } }`);
    expect(overdue.errors).toBeUndefined();

    expect(await served()).toEqual(before);
  }, 240_000);
});
