import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { addDays, chinaDay, yearsBefore } from '../src/common/dates';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startHubsApart, startTestHub, statementsDuring, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const STREET = '330102001';
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;

/**
 * Regression review of recent fixes (red team 18, group 3): each probe goes through the public
 * endpoint and asserts what README / docs promise.
 */
describe('regressions of recent fixes (redteam 18, d)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  it('fileMandatoryReport links a child named by its id (in capitals) and its ID number (lower-case x) alike', async () => {
    const [child] = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor
        WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND trim(id_number) LIKE '%X' ORDER BY id LIMIT 1`,
    );
    expect(child).toBeDefined();
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt18d' });
    const filed = await t.gql(reporter, FILE, {
      input: {
        harmType: 'PHYSICAL_ABUSE', observation: '手臂多处淤青', location: '教室', regionCode: child.grid_code, urgency: 'URGENT',
        childId: child.id.toUpperCase(), childIdNumber: ` ${child.id_number.toLowerCase()} `,
      },
    });
    expect(filed.errors).toBeUndefined();
    const [row] = await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [filed.data.fileMandatoryReport.id]);
    expect(row.minor_id).toBe(child.id);
  });

  it('counts a department page under a filter once however many aliases ask its totalCount, when the count needs the matches read (f78e1c0)', async () => {
    // A filter matching between 2 and 1,000 incidents, on a page of 1: the count reads the matches' children.
    const [pick] = await t.sql(
      `SELECT type, count(*)::int AS n FROM police.incident GROUP BY type HAVING count(*) BETWEEN 3 AND 900 ORDER BY count(*) DESC LIMIT 1`,
    );
    expect(pick).toBeDefined();
    const token = await t.token(Department.POLICE, { user: 'aliases-rt18d' });
    const run = async (n: number) => {
      const fields = Array.from({ length: n }, (_, i) => `c${i}: totalCount`).join(' ');
      let answer: Awaited<ReturnType<typeof post>> | undefined;
      const sent = await statementsDuring(t, async () => {
        answer = await post(t, token, { query: `{ policeIncidents(first: 1, filter: { types: [${pick.type}] }) { ${fields} } }` }, { 'x-purpose': 'CASE_HANDLING; rt18d' });
      });
      expect(answer!.json.errors).toBeUndefined();
      return { sent: sent.length, data: answer!.json.data.policeIncidents };
    };
    const one = await run(1);
    expect(one.data.c0).toBeGreaterThan(1);
    expect(one.data.c0).toBeLessThanOrEqual(1000);
    const many = await run(100);
    expect(many.sent).toBeLessThanOrEqual(one.sent);
  });

  it.each([
    [Department.CIVIL_AFFAIRS, '{ referrals(status: []) { id } }', 'status'],
    [Department.POLICE, '{ mandatoryReports(status: []) { id } }', 'status'],
    [Department.CIVIL_AFFAIRS, '{ overdueVisits(riskLevels: []) { minor { id } } }', 'riskLevels'],
    [Department.YOUTH_LEAGUE, '{ preventionCases(filter: { kinds: [] }) { totalCount } }', 'filter.kinds'],
    [Department.CIVIL_AFFAIRS, '{ minors(filter: { categories: [] }) { totalCount } }', 'filter.categories'],
  ])('%s %s: an empty list filter is refused naming it, nothing read (3f95732)', async (department, query, field) => {
    const r = await post(t, await t.token(department), { query });
    expect(r.json.errors?.map((e: { extensions: { code: string; field?: string } }) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', field]]);
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });

  it('a variable named $representations is refused in a mutation too, nothing written (bae8142)', async () => {
    const police = await t.token(Department.POLICE);
    const r = await post(t, police, {
      query: `mutation($representations: BarredPersonInput!) { addBarredPerson(input: $representations) { id } }`,
      variables: { representations: { idNumber: buildIdNumber('330102', '1982-03-04', 517), name: '钱某', offence: 'SEXUAL_HARM', judgementReference: '(rt18d)repr' } },
    });
    expect(r.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE judgement_reference = '(rt18d)repr'`))[0].n).toBe(0);
  });

  it('addBarredPerson takes a person on their 12th birthday (China day) and refuses one a day short of it', async () => {
    const police = await t.token(Department.POLICE);
    const today = chinaDay(new Date());
    const born12 = yearsBefore(new Date(), 12);
    const r = await t.gql(police, ADD, { input: { idNumber: buildIdNumber('330102', born12, 311), name: '王某', offence: 'SEXUAL_HARM', judgementReference: `(rt18d)${today}-a` } });
    expect(r.errors).toBeUndefined();
    const dayShort = chinaDay(addDays(new Date(`${born12}T12:00:00Z`), 1));
    const s = await t.gql(police, ADD, { input: { idNumber: buildIdNumber('330102', dayShort, 313), name: '王某', offence: 'SEXUAL_HARM', judgementReference: `(rt18d)${today}-b` } });
    expect(errorCodes(s)).toEqual(['BAD_USER_INPUT']);
  });
});

/**
 * 6f4a731 records a bar's revocation never before its listing (GREATEST(created_at, now)), as report
 * steps, referral answers and acknowledgements are (`stepTime`): a gateway may run seconds behind
 * the one that made the step before (distributed mode accepts 15 s). Two hubs on one database, one
 * of them 10 s behind the other, stand for two gateways of one deployment.
 */
describe('a write taken on a gateway whose clock runs behind the one before it, a time given or none (redteam 18, d)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart());
  });
  afterAll(() => stopHubs?.());

  it('revokes a bar listed on the gateway ahead no earlier than it was listed (6f4a731 itself)', async () => {
    const police = await ahead.token(Department.POLICE, { user: 'po-ahead' });
    const listed = await ahead.gql(police, `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id createdAt } }`, {
      input: { idNumber: buildIdNumber('330102', '1981-02-03', 415), name: '赵某', offence: 'SEXUAL_HARM', judgementReference: '(rt18d)skew-1' },
    });
    expect(listed.errors).toBeUndefined();
    const id = listed.data.addBarredPerson.id;
    const r = await behind.gql(await behind.token(Department.POLICE, { user: 'po-behind' }), `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判") }`, { id });
    expect(r.errors).toBeUndefined();
    const [row] = await ahead.sql(`SELECT revoked_at >= created_at AS ordered FROM workflow.barred_person WHERE id = $1`, [id]);
    expect(row.ordered).toBe(true);
  });

  it('keeps a child’s updatedAt from moving back when the change after another is taken on a gateway behind', async () => {
    const [child] = await ahead.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 7 LIMIT 1`);
    const UPDATE = `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { id updatedAt } }`;
    const first = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), UPDATE, { id: child.id, input: { currentAddress: '上城区某路1号' } });
    expect(first.errors).toBeUndefined();
    const second = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), UPDATE, { id: child.id, input: { currentAddress: '上城区某路2号' } });
    expect(second.errors).toBeUndefined();
    // The later change is the record's latest: its updatedAt is not before the one it follows.
    expect(Date.parse(second.data.updateMinor.updatedAt)).toBeGreaterThanOrEqual(Date.parse(first.data.updateMinor.updatedAt));
  });

  // Registry writes given no time, taken right after another on the gateway behind.
  it('makes the later assessment (no time given) the child’s level: a RED after an ORANGE leaves the child RED and tells it', async () => {
    const [child] = await ahead.sql(
      `SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET 11 LIMIT 1`,
    );
    const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id level assessedAt } }`;
    const orange = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), ASSESS, { id: child.id, input: { level: 'ORANGE', reasons: '家庭监护薄弱' } });
    expect(orange.errors).toBeUndefined();
    const red = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), ASSESS, { id: child.id, input: { level: 'RED', reasons: '发现遭受侵害迹象，立即升级' } });
    expect(red.errors).toBeUndefined();
    const [now] = await ahead.sql(`SELECT risk_level FROM registry.minor WHERE id = $1`, [child.id]);
    expect(now.risk_level).toBe('RED');
    const told = await ahead.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1`, [red.data.recordAssessment.id]);
    expect(told[0].n).toBeGreaterThan(0);
  });

  it('lists a visit (no time given) taken right after another as the newest', async () => {
    const [child] = await ahead.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 13 LIMIT 1`);
    const VISIT = `mutation($id: ID!, $notes: String!) { recordVisit(minorId: $id, input: { notes: $notes }) { id visitedAt } }`;
    expect((await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), VISIT, { id: child.id, notes: '第一次入户走访' })).errors).toBeUndefined();
    expect((await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), VISIT, { id: child.id, notes: '随后再次走访' })).errors).toBeUndefined();
    const r = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), `query($id: ID!) { minor(id: $id) { visits(first: 2) { notes } } }`, { id: child.id });
    expect(r.errors).toBeUndefined();
    expect(r.data.minor.visits.map((v: { notes: string }) => v.notes)).toEqual(['随后再次走访', '第一次入户走访']);
  });
});
