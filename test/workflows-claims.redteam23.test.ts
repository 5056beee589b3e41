import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { chinaDay, yearsBefore } from '../src/common/dates';
import { Client } from 'pg';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * docs/workflows.md, sentences added or changed since red team 20 (red team 23): the pre-employment
 * check's date and the numbers it refuses, an escalation item's row held by another session, a grant
 * settled once per request, and CHILD_RED's "a grid not yet told of it at the RED it is at".
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const DAY = 86_400_000;
const STREET = '330102001';
const policy = buildPolicy();
const CHECK = `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer checkedAt } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "授权书2026-23") { checkedAt answers { index answer } } }`;
const ADD = `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id createdAt } }`;

describe('workflows.md claims (redteam23, in-process)', () => {
  let t: TestHub;
  let serial = 100;
  const person = (birth: string) => buildIdNumber('330102', birth, serial++);
  const employer = (user: string) => t.token(ED, { role: Role.EMPLOYER, user });

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
  });
  afterAll(() => t.stop());

  it('a check is dated no earlier than the registry’s latest listing, and a listing of a number under 12 or born in the future is refused on input.idNumber', async () => {
    const police = await t.token(PO);
    const adult = person('1980-03-04');
    const listed = await t.gql(police, ADD, { i: { idNumber: adult, name: '张某', offence: 'ABUSE', judgementReference: '(2026)浙0102刑初2301号' } });
    expect(listed.errors).toBeUndefined();
    // A listing taken on a gateway ahead of this one: dated a minute past now.
    const ahead = new Date(Date.now() + 60_000);
    await t.sql(`UPDATE workflow.barred_person SET created_at = $2 WHERE id = $1`, [listed.data.addBarredPerson.id, ahead]);
    const r = await t.gql(await employer('employer-23a'), CHECK, { i: { idNumber: person('1990-01-01'), name: '李某', authorizationReference: '授权书2026-23' } });
    expect(r.errors).toBeUndefined();
    expect(r.data.employmentCheck.answer).toBe('CLEAR');
    expect(new Date(r.data.employmentCheck.checkedAt).getTime()).toBeGreaterThanOrEqual(ahead.getTime());

    const eleven = person(yearsBefore(new Date(Date.now() + 2 * DAY), 12));
    const child = await t.gql(police, ADD, { i: { idNumber: eleven, name: '王某', offence: 'ABUSE', judgementReference: '(2026)浙0102刑初2302号' } });
    expect([child.data?.addBarredPerson ?? null, errorCodes(child), child.errors?.[0].extensions?.field ?? child.errors?.[0].message]).toEqual([null, ['BAD_USER_INPUT'], expect.stringContaining('idNumber')]);
    const unborn = person(chinaDay(new Date(Date.now() + 3 * DAY)));
    const rs = await t.gql(await employer('employer-23b'), RESCREEN, { c: [{ idNumber: adult, name: '张某' }, { idNumber: unborn, name: '赵某' }] });
    expect([rs.data?.employmentRescreen ?? null, errorCodes(rs)]).toEqual([null, ['BAD_USER_INPUT']]);
    expect(JSON.stringify(rs.errors)).toContain('candidates[1].idNumber');
  });

  it('an overdue visit whose child a registry write holds locked is left for the next pass, the run going on, and told once the lock is let go', async () => {
    const [kid] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '400 days') ORDER BY id OFFSET 7 LIMIT 1`);
    await t.sql(`UPDATE registry.minor SET risk_level = 'ORANGE', next_visit_due = now() - interval '5 days' WHERE id = $1`, [kid.id]);
    const told = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND minor_id = $1`, [kid.id]))[0].n;
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [kid.id]);
      const first = await runEscalations(t.hub.db.ds, t.config, policy, new Date());
      expect(first.failed).toBeGreaterThanOrEqual(1);
      expect(await told()).toBe(0);
      expect(errors.mock.calls.map((c) => c.join(' ')).join('\n')).toContain('held locked by another session');
      await holder.query('COMMIT');
      await runEscalations(t.hub.db.ds, t.config, policy, new Date());
      expect(await told()).toBeGreaterThan(0);
    } finally {
      errors.mockRestore();
      await holder.end();
    }
  });
  it('CHILD_RED: a grid told of the child at the RED it is at, by a late entry dated before it, is not told again at the next RED assessment', async () => {
    const [kid] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() - interval '2 days') ORDER BY id OFFSET 15 LIMIT 1`);
    const [other] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${STREET}%' AND code <> $1 AND length(code) = length($1) ORDER BY code LIMIT 1`, [kid.grid_code]);
    const ca = await t.token(CA);
    const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id } }`;
    const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    expect((await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'BLUE', reasons: '红队二三 平稳', assessedAt: ago(5) } })).errors).toBeUndefined();
    expect((await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二三 危险', assessedAt: ago(1) } })).errors).toBeUndefined();
    expect((await t.gql(ca, `mutation($id: ID!, $i: UpdateMinorInput!) { updateMinor(id: $id, input: $i) { id } }`, { id: kid.id, i: { gridCode: other.code } })).errors).toBeUndefined();
    // A late entry, here: RED before the BLUE, the child RED all along since the RED of an hour ago. The new grid is told (naming it).
    const late = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二三 补录', assessedAt: ago(6) } });
    expect(late.errors).toBeUndefined();
    const toldThere = async () => (await t.sql(`SELECT subject_id FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1 AND region_code = $2 AND department = 'CIVIL_AFFAIRS'`, [kid.id, other.code])).map((r) => r.subject_id);
    expect(await toldThere()).toEqual([late.data.recordAssessment.id]);
    // The child still at the same RED, assessed RED again in the grid already told of it: no one is told again.
    expect((await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二三 仍危险' } })).errors).toBeUndefined();
    expect(await toldThere()).toEqual([late.data.recordAssessment.id]);
  });
});


describe('workflows.md claims (redteam23, distributed)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(() => t.stop());

  it('a completion made under the referral’s purpose is answered with the granted fields (the grant settled once and carried in the assertion)', async () => {
    const [kid] = await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${STREET}%' AND registry.is_minor(m.birth_date, now() + interval '400 days')
      AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) ORDER BY m.id OFFSET 3 LIMIT 1`);
    const made = await t.gql(await t.token(CA), `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
      i: { minorId: kid.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' },
    });
    expect(made.errors).toBeUndefined();
    const id: string = made.data.createReferral.id;
    const ed = await t.token(ED);
    const purpose = { 'x-purpose': `REFERRAL; ${id}` };
    expect((await t.gql(ed, `mutation($id: ID!) { acceptReferral(id: $id) { status } }`, { id }, purpose)).errors).toBeUndefined();
    const done = await t.gql(ed, `mutation($id: ID!) { completeReferral(id: $id, outcome: "已安排资助") { status minor { id currentAddress guardians { name phone address } } } }`, { id }, purpose);
    expect(done.errors).toBeUndefined();
    expect(done.data.completeReferral.status).toBe('COMPLETED');
    const [{ current_address }] = await t.sql(`SELECT current_address FROM registry.minor WHERE id = $1`, [kid.id]);
    expect(done.data.completeReferral.minor.currentAddress).toBe(current_address);
  });
});
