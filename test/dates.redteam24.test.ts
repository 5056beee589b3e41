import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Regression review (red team 24) of 906a4c1: a pre-employment check is dated no earlier than the
 * registry's latest listing or revocation. The other half of the same order: a listing or a
 * revocation taken after a check (on a gateway behind, or committed after a check read the registry)
 * must not be dated before the check that answered without it. One hub; a gateway ahead or behind is
 * its clock shifted (HUB_CLOCK_OFFSET_MS, `workflow.clockOffsetMs`), as startHubsApart does.
 */
const CHECK = `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer checkedAt } }`;
const ADD = `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id createdAt } }`;
const REVOKE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`;
const BARS = `{ barredPersons(first: 500, includeRevoked: true) { id createdAt revokedAt } }`;
const AHEAD_MS = 10_000;

describe('a listing or revocation after a pre-employment check is not dated before it (redteam24)', () => {
  let t: TestHub;
  let serial = 600;
  const person = () => buildIdNumber('330102', '1982-04-05', serial++);
  const shift = (ms: number) => {
    t.config.workflow.clockOffsetMs = ms;
  };
  const check = async (idNumber: string) =>
    t.gql(await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'kindergarten-24' }), CHECK, { i: { idNumber, name: '应聘者', authorizationReference: '授权书-24' } });
  const list = async (idNumber: string, judgementReference: string) =>
    t.gql(await t.token(Department.POLICE, { user: 'po-24' }), ADD, { i: { idNumber, name: '某某', offence: 'ABUSE', judgementReference } });
  const bar = async (id: string) => {
    const r = await t.gql(await t.token(Department.POLICE), BARS);
    expect(r.errors).toBeUndefined();
    return r.data.barredPersons.find((b: { id: string }) => b.id === id) as { createdAt: string; revokedAt: string | null };
  };

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
  });
  afterEach(() => shift(0));
  afterAll(() => t.stop());

  it('a bar listed on a gateway behind, right after a check on one ahead answered CLEAR, is not dated before that check', async () => {
    const candidate = person();
    shift(AHEAD_MS);
    const clear = await check(candidate);
    expect(clear.errors).toBeUndefined();
    expect(clear.data.employmentCheck.answer).toBe('CLEAR');
    shift(0);
    const listed = await list(candidate, '(rt24)listed-after-check');
    expect(listed.errors).toBeUndefined();
    // The registry now says the person was barred from before the check that answered CLEAR.
    expect(Date.parse(listed.data.addBarredPerson.createdAt)).toBeGreaterThanOrEqual(Date.parse(clear.data.employmentCheck.checkedAt));
  });

  it('a bar revoked on a gateway behind, right after a check on one ahead answered RESTRICTED, is not revoked before that check', async () => {
    const candidate = person();
    const listed = await list(candidate, '(rt24)revoked-after-check');
    expect(listed.errors).toBeUndefined();
    shift(AHEAD_MS);
    const restricted = await check(candidate);
    expect(restricted.data.employmentCheck.answer).toBe('RESTRICTED');
    shift(0);
    const revoked = await t.gql(await t.token(Department.JUSTICE, { user: 'ju-24' }), REVOKE, { id: listed.data.addBarredPerson.id });
    expect(revoked.errors).toBeUndefined();
    const { revokedAt } = await bar(listed.data.addBarredPerson.id);
    // The registry now says the bar was revoked before the check that answered RESTRICTED from it.
    expect(Date.parse(revokedAt!)).toBeGreaterThanOrEqual(Date.parse(restricted.data.employmentCheck.checkedAt));
  });

  it('on one gateway, a revocation that commits after a check read the bar is not dated before that check', async () => {
    const candidate = person();
    const listed = await list(candidate, '(rt24)revoked-while-checked');
    expect(listed.errors).toBeUndefined();
    const id = listed.data.addBarredPerson.id;
    // Another session holds the bar's row (as a concurrent writer would): the revocation, its time
    // already taken, waits for it.
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM workflow.barred_person WHERE id = $1 FOR UPDATE`, [id]);
      const revoking = t.gql(await t.token(Department.JUSTICE, { user: 'ju-24' }), REVOKE, { id });
      // Read on a session of its own: inside the holder's transaction pg_stat_activity is read once.
      const waiting = async () =>
        (await t.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%barred_person%'`))[0].n;
      for (let i = 0; i < 500 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await waiting()).toBe(1);
      // The check taken meanwhile had read the bar in force and answered RESTRICTED, and the revocation
      // was dated before it: it waits for the revocation under way now, and answers after it.
      const checking = check(candidate);
      const advisory = async () =>
        (await t.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`))[0].n;
      for (let i = 0; i < 500 && (await advisory()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await advisory()).toBe(1);
      await holder.query('COMMIT');
      const [revoked, checked] = await Promise.all([revoking, checking]);
      expect(revoked.errors).toBeUndefined();
      const { revokedAt } = await bar(id);
      const { answer, checkedAt } = checked.data.employmentCheck;
      expect([answer, Date.parse(checkedAt) >= Date.parse(revokedAt!)]).toEqual(['CLEAR', true]);
    } finally {
      await holder.end();
    }
  });

  // Pins (pass): the bar's end is compared with the check's day in China, not the UTC day. Last in
  // this hub's tests: the listing dated days ahead dates every later check of its database too.
  it('a bar ending on a day in China restricts until 23:59:59 that day and not at 00:00 the next (China time)', async () => {
    const day = chinaDay(new Date(Date.now() + 3 * 86_400_000));
    const candidate = person();
    const at = (iso: string) => shift(Date.parse(iso) - Date.now());
    const lastSecond = new Date(Date.parse(`${day}T23:59:59+08:00`));
    at(new Date(lastSecond.getTime() - 60_000).toISOString());
    const listed = await t.gql(await t.token(Department.POLICE, { user: 'po-24' }), ADD, {
      i: { idNumber: candidate, name: '某某', offence: 'ABUSE', judgementReference: '(rt24)ends-at-midnight', restrictedUntil: day },
    });
    expect(listed.errors).toBeUndefined();
    at(new Date(lastSecond.getTime() - 500).toISOString());
    expect((await check(candidate)).data.employmentCheck.answer).toBe('RESTRICTED');
    at(new Date(lastSecond.getTime() + 1_500).toISOString());
    const next = await check(candidate);
    expect([next.data.employmentCheck.answer, chinaDay(new Date(next.data.employmentCheck.checkedAt)) > day]).toEqual(['CLEAR', true]);
  });
});

/**
 * Pin (passes) of 48ffe7e and 2cbbb34 on a leap day, in the first half hour of 29 February 2028 in
 * China (still the 28th in UTC): a sentence ends at the latest on 28 February 2053 (no 29th that
 * year), on an update as on a create; a department date of a child is at the earliest 1 March 2010
 * (born on 28 February 2010, a person turns 18 that day).
 */
describe('the 25-year and the 18-year bounds on 29 February in China (redteam24)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });
  afterAll(() => t.stop());

  it('takes a release on 2053-02-28 and an incident on 2010-03-01, and refuses 2053-03-01 (update too) and 2010-02-28 with BAD_USER_INPUT', async () => {
    // Born on 1 March 2010, a minor on 29 February 2028: no record of a child predates its birth.
    const [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const born = await t.gql(
      await t.token(Department.CIVIL_AFFAIRS),
      `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id birthDate } }`,
      { input: { name: '王小雨', idNumber: buildIdNumber('330102', '2010-03-01', 957), householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区1号', gridCode: grid } },
    );
    expect(born.data.createMinor.birthDate).toBe('2010-03-01');
    const { id } = born.data.createMinor;
    t.config.workflow.clockOffsetMs = Date.parse('2028-02-28T16:30:00Z') - Date.now();
    const ju = await t.token(Department.JUSTICE);
    const custody = (e: string) => ({ parent: 'FATHER', kind: 'SERVING_SENTENCE', institution: '第一监狱', since: '2024-05-01', expectedRelease: e, status: 'IN_CUSTODY' });
    const made = await t.gql(ju, `mutation($m: ID!, $i: IncarceratedParentInput!) { createIncarceratedParent(minorId: $m, input: $i) { id expectedRelease } }`, { m: id, i: custody('2053-02-28') });
    expect(made.errors).toBeUndefined();
    const moved = await t.gql(ju, `mutation($id: ID!, $i: IncarceratedParentInput!) { updateIncarceratedParent(id: $id, input: $i) { id } }`, { id: made.data.createIncarceratedParent.id, i: custody('2053-03-01') });
    expect([moved.errors?.[0].extensions?.code, moved.errors?.[0].extensions?.field]).toEqual(['BAD_USER_INPUT', 'expectedRelease']);
    const po = await t.token(Department.POLICE);
    const occurred = (d: string) =>
      t.gql(po, `mutation($m: ID!, $d: String!) { createPoliceIncident(minorId: $m, input: { type: ABUSE, occurredOn: $d, status: REPORTED, handlingUnit: "清波派出所", narrative: "接警" }) { occurredOn } }`, { m: id, d });
    expect((await occurred('2010-03-01')).data.createPoliceIncident).toEqual({ occurredOn: '2010-03-01' });
    const early = await occurred('2010-02-28');
    expect([early.errors?.[0].extensions?.code, early.errors?.[0].extensions?.field]).toEqual(['BAD_USER_INPUT', 'occurredOn']);
  });
});
