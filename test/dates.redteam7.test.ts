import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { ageOn, chinaDay, yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { cloneTemplateDatabase, errorCodes, startTestHub, TestHub } from './support/test-hub';

const DAY = 86_400_000;
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);

/**
 * The day a child turns 18 is the day in China, whatever the zone of the hub's process (run this
 * file with TZ=America/Los_Angeles too) or of its Postgres sessions (here UTC+14, a day ahead of
 * UTC for half of it, so a session-zone day would age children out up to 6 hours early).
 */
describe('the age-out at 18 does not depend on the server’s time zones', () => {
  let t: TestHub;
  let grid: string;
  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const name = new URL(databaseUrl).pathname.slice(1);
    const c = new Client({ connectionString: databaseUrl });
    await c.connect();
    await c.query(`ALTER DATABASE ${name} SET TimeZone = 'Pacific/Kiritimati'`);
    await c.end();
    t = await startTestHub({ databaseUrl });
    [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    t.config.workflow.clockOffsetMs = 0;
    await t.stop();
  });

  it('the sessions really run in another zone', async () => {
    expect(await t.sql(`SHOW TimeZone`)).toEqual([{ TimeZone: 'Pacific/Kiritimati' }]);
  });

  it('registry.is_minor turns at 00:00 in Beijing on the 18th birthday, 29 February included, in any session zone', async () => {
    const cases: [string, string, boolean][] = [
      ['2008-12-05', '2026-12-04T15:59:59.999Z', true],
      ['2008-12-05', '2026-12-04T16:00:00Z', false],
      ['2008-12-04', '2026-12-03T15:59:59Z', true],
      ['2008-12-04', '2026-12-03T16:00:00Z', false],
      // Born 29 February: 17 through 28 February of a common year, 18 on 1 March.
      ['2008-02-29', '2026-02-28T15:59:59Z', true],
      ['2008-02-29', '2026-02-28T16:00:00Z', false],
      ['2008-02-29', '2026-02-27T16:00:00Z', true],
      // ... and on the 29th itself in a leap year.
      ['2010-02-28', '2028-02-27T16:00:00Z', false],
      ['2010-03-01', '2028-02-28T16:00:00Z', true],
    ];
    for (const zone of ['Pacific/Kiritimati', 'America/Los_Angeles', 'Pacific/Pago_Pago', 'UTC', 'America/Santiago']) {
      const got = await t.hub.db.ds.transaction(async (em) => {
        await em.query(`SET LOCAL TimeZone = '${zone}'`);
        const out: [string, string, boolean][] = [];
        for (const [birth, at] of cases) {
          const [{ m }] = await em.query(`SELECT registry.is_minor($1::date, $2::timestamptz) AS m`, [birth, at]);
          out.push([birth, at, m]);
        }
        return out;
      });
      expect([zone, got]).toEqual([zone, cases]);
      for (const [birth, at, minor] of cases) expect([birth, at, ageOn(birth, new Date(at)) < 18]).toEqual([birth, at, minor]);
    }
  });

  it('createMinor refuses a child whose 18th birthday is today in Beijing and takes one a day younger, 17', async () => {
    const now = new Date();
    const eighteenToday = yearsBefore(now, 18);
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const create = (birthDate: string, seq: number) =>
      t.gql(civil, `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id birthDate age } }`, {
        input: { name: '王小雨', idNumber: buildIdNumber('330102', birthDate, seq), householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区1号', gridCode: grid },
      });
    const adult = await create(eighteenToday, 731);
    expect(errorCodes(adult)).toEqual(['BAD_USER_INPUT']);
    const minor = await create(nextDay(eighteenToday), 733);
    expect(minor.errors).toBeUndefined();
    expect(minor.data.createMinor.age).toBe(17);
  });

  it('departments see a child through minor_jurisdiction until the 18th birthday in Beijing, not the session zone’s', async () => {
    const now = new Date();
    const eighteenToday = yearsBefore(now, 18);
    const [{ id: existing }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT 1`, [grid]);
    const twin = async (birthDate: string, seq: number) => {
      const [{ id }] = await t.sql(
        `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, created_at, updated_at)
         SELECT gen_random_uuid(), name, gender, $2::date, $3, household_registration, current_address, grid_code, now(), now() FROM registry.minor WHERE id = $1 RETURNING id`,
        [existing, birthDate, buildIdNumber('330102', birthDate, seq)],
      );
      return id as string;
    };
    const adult = await twin(eighteenToday, 741);
    const young = await twin(nextDay(eighteenToday), 743);
    const seen = await t.sql(`SELECT minor_id FROM registry.minor_jurisdiction WHERE minor_id = ANY($1)`, [[adult, young]]);
    expect(seen.map((r: { minor_id: string }) => r.minor_id)).toEqual([young]);
    const police = await t.token(Department.POLICE);
    for (const [id, visible] of [[adult, false], [young, true]] as const) {
      const r = await t.gql(police, `query($id: ID!) { minor(id: $id) { id } }`, { id });
      expect(r.errors).toBeUndefined();
      expect([id, r.data.minor?.id ?? null]).toEqual([id, visible ? id : null]);
    }
    // The unrefreshed statistics view counts the same children.
    const facts = await t.sql(`SELECT id FROM statistics.minor_facts WHERE id = ANY($1)`, [[adult, young]]);
    expect(facts.map((r: { id: string }) => r.id)).toEqual([young]);
    expect(chinaDay(now) >= now.toISOString().slice(0, 10)).toBe(true);
  });
});

/**
 * node-postgres reads dates and times only in the ISO output style: under another DateStyle set for
 * the database, the role or the cluster ('SQL, DMY' say), every timestamptz came back null and every
 * date as '17/10/2021' — served as a child's birth date, `age` an internal error, deadlines null and
 * every report overdue, next visits computed from nulls. The hub's sessions ask for ISO themselves.
 */
describe('a database whose DateStyle is not ISO', () => {
  let t: TestHub;
  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const c = new Client({ connectionString: databaseUrl });
    await c.connect();
    await c.query(`ALTER DATABASE ${new URL(databaseUrl).pathname.slice(1)} SET DateStyle = 'SQL, DMY'`);
    await c.end();
    t = await startTestHub({ databaseUrl });
  });
  afterAll(() => t.stop());

  it('serves dates as YYYY-MM-DD and instants as instants', async () => {
    const [{ id, birth, due }] = await t.sql(
      `SELECT id, to_char(birth_date, 'YYYY-MM-DD') AS birth, to_json(next_visit_due) #>> '{}' AS due FROM registry.minor m
        WHERE grid_code LIKE '330102001%' AND next_visit_due IS NOT NULL AND EXISTS (SELECT 1 FROM police.incident i WHERE i.minor_id = m.id) ORDER BY id LIMIT 1`,
    );
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `query($id: ID!) { minor(id: $id) { birthDate age nextVisitDue updatedAt policeIncidents { occurredOn } } }`, { id });
    expect(r.errors).toBeUndefined();
    expect(r.data.minor.birthDate).toBe(birth);
    expect(r.data.minor.age).toBe(ageOn(birth, new Date()));
    expect(Date.parse(r.data.minor.nextVisitDue)).toBe(Date.parse(due));
    expect(r.data.minor.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(r.data.minor.policeIncidents.length).toBeGreaterThan(0);
    for (const i of r.data.minor.policeIncidents) expect(i.occurredOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const reports = await t.gql(await t.token(Department.POLICE), `{ mandatoryReports(first: 5) { receivedAt verifyDueAt } }`);
    expect(reports.errors).toBeUndefined();
    expect(reports.data.mandatoryReports.length).toBeGreaterThan(0);
    for (const m of reports.data.mandatoryReports) expect([m.receivedAt, m.verifyDueAt].every((v: string | null) => v !== null && !Number.isNaN(Date.parse(v)))).toBe(true);
  });

  it('computes the next visit from the recorded instants', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date < now() - interval '2 years' ORDER BY id LIMIT 1`);
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const assessedAt = new Date(Date.now() - 3 * DAY).toISOString();
    const a = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordAssessment(minorId: $id, input: { level: ORANGE, reasons: "测试", assessedAt: $at }) { id } }`, { id, at: assessedAt });
    expect(a.errors).toBeUndefined();
    const visitedAt = new Date(Date.now() - DAY).toISOString();
    const v = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "入户走访", visitedAt: $at }) { id } }`, { id, at: visitedAt });
    expect(v.errors).toBeUndefined();
    const [{ due }] = await t.sql(`SELECT to_json(next_visit_due) #>> '{}' AS due FROM registry.minor WHERE id = $1`, [id]);
    expect(Date.parse(due)).toBe(Date.parse(visitedAt) + 7 * DAY);
  });

  it('the audit trail reads and verifies as written', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    const events = await t.gql(auditor, `{ auditEvents(first: 5) { edges { node { time } } } }`, undefined, {});
    expect(events.errors).toBeUndefined();
    expect(events.data.auditEvents.edges.length).toBeGreaterThan(0);
    for (const e of events.data.auditEvents.edges) expect(Number.isNaN(Date.parse(e.node.time))).toBe(false);
    const chain = await t.gql(auditor, `{ auditVerify { ok } }`, undefined, {});
    expect(chain.errors).toBeUndefined();
    expect(chain.data.auditVerify.ok).toBe(true);
  });
});
