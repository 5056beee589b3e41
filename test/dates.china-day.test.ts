import { Department } from '../src/auth/principal';
import { addMonths, ageOn, chinaDay, yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const HOUR = 3_600_000;
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 24 * HOUR).toISOString().slice(0, 10);

describe('the calendar day is the day in China (UTC+8)', () => {
  it('chinaDay turns at 16:00 UTC', () => {
    expect(chinaDay(new Date('2026-03-01T15:59:59.999Z'))).toBe('2026-03-01');
    expect(chinaDay(new Date('2026-03-01T16:00:00Z'))).toBe('2026-03-02');
    expect(chinaDay(new Date('2026-12-31T20:00:00Z'))).toBe('2027-01-01');
  });

  it('addMonths counts months on the calendar in China, to the last day of a shorter month, never into the month after', () => {
    const cases: [string, number, string][] = [
      // 10:00 on 31 January in China: a month on is 28 February, not 3 March.
      ['2026-01-31T02:00:00.000Z', 1, '2026-02-28T02:00:00.000Z'],
      // 01:00 on 1 February in China (still 31 January in UTC): 1 March, not 4 March in China.
      ['2026-01-31T17:00:00.000Z', 1, '2026-02-28T17:00:00.000Z'],
      ['2027-11-30T04:00:00.000Z', 3, '2028-02-29T04:00:00.000Z'],
      ['2026-11-30T04:00:00.000Z', 3, '2027-02-28T04:00:00.000Z'],
      ['2026-08-31T04:00:00.000Z', 3, '2026-11-30T04:00:00.000Z'],
      ['2026-12-15T04:00:00.000Z', 1, '2027-01-15T04:00:00.000Z'],
      ['2026-12-31T16:30:00.000Z', 1, '2027-01-31T16:30:00.000Z'],
    ];
    for (const [at, months, due] of cases) expect([at, addMonths(new Date(at), months).toISOString()]).toEqual([at, due]);
    // Never earlier than a month of 28 days, never later than one of 31.
    for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2029-01-01T00:00:00Z'); t += 7 * HOUR) {
      const days = (addMonths(new Date(t), 1).getTime() - t) / (24 * HOUR);
      expect(days >= 28 && days <= 31).toBe(true);
      expect(chinaDay(addMonths(new Date(t), 1)).slice(8) <= chinaDay(new Date(t)).slice(8)).toBe(true);
    }
  });

  it('a child is at least n years old (ageOn) exactly when born on or before yearsBefore(n), 29 February included', () => {
    const instants = ['2028-02-28T20:00:00Z', '2028-02-29T03:00:00Z', '2028-02-29T17:00:00Z', '2027-02-28T04:00:00Z', '2027-02-28T16:30:00Z', '2026-12-01T20:00:00Z'];
    const births: string[] = [];
    for (let t = Date.parse('2010-02-20T00:00:00Z'); t <= Date.parse('2028-03-05T00:00:00Z'); t += 24 * HOUR) {
      const d = new Date(t).toISOString().slice(0, 10);
      if (d.slice(5, 7) === '02' || d.slice(5, 7) === '03' || d.slice(5, 7) === '12') births.push(d);
    }
    const disagreements: string[] = [];
    for (const at of instants.map((s) => new Date(s))) {
      for (let n = 0; n <= 17; n++) {
        const bound = yearsBefore(at, n);
        for (const b of births) if (ageOn(b, at) >= n !== b <= bound) disagreements.push(`${at.toISOString()} ${n} ${b}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});

/** At 04:00 in Beijing the UTC date is still yesterday's: the hub must answer and check by Beijing's. */
describe('at 04:00 Beijing time (20:00 UTC the day before)', () => {
  let t: TestHub;
  let beijingToday: string;
  let grid: string;
  beforeAll(async () => {
    t = await startTestHub();
    const now = new Date();
    const target = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 20, 0, 0));
    t.config.workflow.clockOffsetMs = target.getTime() - Date.now();
    beijingToday = new Date(target.getTime() + 8 * HOUR).toISOString().slice(0, 10);
    [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    t.config.workflow.clockOffsetMs = 0;
    await t.stop();
  });

  /** A child whose 12th birthday is today in Beijing (12: a 29 February twelve years back exists too). */
  const createBirthdayChild = async (sequence: number) => {
    const birthDate = `${Number(beijingToday.slice(0, 4)) - 12}${beijingToday.slice(4)}`;
    const r = await t.gql(
      await t.token(Department.CIVIL_AFFAIRS),
      `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id birthDate } }`,
      { input: { name: '王小雨', idNumber: buildIdNumber('330102', birthDate, sequence), householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区1号', gridCode: grid } },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.createMinor.birthDate).toBe(birthDate);
    return r.data.createMinor.id as string;
  };

  it('accepts a dropout report and an incident dated today in Beijing and refuses ones dated tomorrow, writing nothing', async () => {
    // A child old enough to drop out (no child under 6 does).
    const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '6 years' ORDER BY id LIMIT 1`, [grid]);
    const ed = await t.token(Department.EDUCATION);
    const police = await t.token(Department.POLICE);
    const dropout = (d: string) =>
      t.gql(ed, `mutation($id: ID!, $d: String!) { createDropoutReport(minorId: $id, input: { school: "湖滨小学", reportedOn: $d, daysAbsent: 3 }) { id reportedOn } }`, { id: minorId, d });
    const incident = (d: string) =>
      t.gql(police, `mutation($id: ID!, $d: String!) { createPoliceIncident(minorId: $id, input: { type: ABUSE, occurredOn: $d, status: INVESTIGATING, handlingUnit: "紫阳派出所", narrative: "测试" }) { id occurredOn } }`, { id: minorId, d });

    const ok = await dropout(beijingToday);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.createDropoutReport.reportedOn).toBe(beijingToday);
    const okIncident = await incident(beijingToday);
    expect(okIncident.errors).toBeUndefined();
    expect(okIncident.data.createPoliceIncident.occurredOn).toBe(beijingToday);

    const count = async () => (await t.sql(`SELECT (SELECT count(*) FROM education.dropout_report)::int + (SELECT count(*) FROM police.incident)::int AS n`))[0].n;
    const before = await count();
    const tomorrow = nextDay(beijingToday);
    for (const [r, field] of [[await dropout(tomorrow), 'reportedOn'], [await incident(tomorrow), 'occurredOn']] as const) {
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions!.field).toBe(field);
      expect(r.errors![0].message).toMatch(/future/);
    }
    expect(await count()).toBe(before);
  });

  it('addCategory without identifiedAt stores today in Beijing', async () => {
    const id = await createBirthdayChild(611);
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY) { categories { category identifiedAt } } }`, { id });
    expect(r.errors).toBeUndefined();
    expect(r.data.addCategory.categories).toEqual([{ category: 'POVERTY', identifiedAt: beijingToday }]);
    expect(await t.sql(`SELECT to_char(identified_at, 'YYYY-MM-DD') AS d FROM registry.minor_category WHERE minor_id = $1`, [id])).toEqual([{ d: beijingToday }]);
  });

  it('a child whose birthday is today in Beijing is a year older, in minor { age } and in the age filter alike', async () => {
    const id = await createBirthdayChild(613);
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const age = await t.gql(civil, `query($id: ID!) { minor(id: $id) { age } }`, { id });
    expect(age.errors).toBeUndefined();
    expect(age.data.minor.age).toBe(12);
    const listed = async (ageMin: number, ageMax: number) => {
      const r = await t.gql(civil, `query($f: MinorFilter) { minors(filter: $f, first: 100) { edges { node { id } } } }`, { f: { regionCode: grid, ageMin, ageMax } });
      expect(r.errors).toBeUndefined();
      return (r.data.minors.edges as { node: { id: string } }[]).some((e) => e.node.id === id);
    };
    expect(await listed(12, 12)).toBe(true);
    expect(await listed(11, 11)).toBe(false);
  });

  it('the statistics views count the day as the hub does (statistics.china_day)', async () => {
    const instants = ['2026-03-01T15:59:59.999Z', '2026-03-01T16:00:00Z', '2026-12-31T20:00:00Z', new Date(Date.now() + t.config.workflow.clockOffsetMs).toISOString()];
    for (const at of instants) {
      const [{ d }] = await t.sql(`SELECT to_char(statistics.china_day($1::timestamptz), 'YYYY-MM-DD') AS d`, [at]);
      expect([at, d]).toEqual([at, chinaDay(new Date(at))]);
    }
    const [{ def }] = await t.sql(`SELECT pg_get_viewdef('statistics.minor_facts'::regclass) AS def`);
    expect(def).toContain('china_day(now())');
  });
});
