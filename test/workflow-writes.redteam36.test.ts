import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { birthYearsAgo } from './support/birth-dates';
import { errorCodes, GqlResult, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 36 (rt36-writes): the workflow's and the departments' writes — mandatory reports,
 * referrals, notifications, assessments (its judgement-number test is in employment.redteam28).
 */
const CREATE = `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id } }`;
const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id level assessedAt } }`;

describe('workflow writes (rt36-writes)', () => {
  let t: TestHub;
  let civil: string;
  let grid: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt36-civil' });
    [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`);
  });
  afterAll(() => t?.stop());

  let sequence = 361;
  const newChild = async () => {
    const r = await t.gql(civil, CREATE, {
      input: {
        name: '李小明',
        idNumber: buildIdNumber('330102', birthYearsAgo(9), sequence++),
        householdRegistration: '浙江省杭州市上城区清波街道',
        currentAddress: '浙江省杭州市上城区清波街道清波东社区1号',
        gridCode: grid,
      },
    });
    expect(errorCodes(r)).toEqual([]);
    return r.data.createMinor.id as string;
  };
  const refusal = (r: GqlResult) => [errorCodes(r), r.errors?.[0]?.extensions?.field];

  // Bug: the DateTimeISO scalar (src/schema/date-time.scalar.ts) tells a time given finer than the
  // millisecond by the number `Number("<digits 4-9>.<digits 10 on>")`, and a fraction whose first
  // non-zero digit lies some 320 places past the ninth makes that number underflow to 0: the time
  // passes as given to the millisecond (requireNotFuture), is cut to it, and the red team 33 bug is
  // back — an ORANGE given after a RED is stored at the RED's instant, the tie goes to the graver,
  // and the child stays RED though its latest assessment, as given, is ORANGE.
  it('refuses an ORANGE given a fraction past the millisecond after a RED, however far past the ninth digit that fraction lies', async () => {
    const id = await newChild();
    expect(errorCodes(await t.gql(civil, ASSESS, { id, input: { level: 'RED', reasons: '复核', assessedAt: '2026-01-01T00:00:00.742Z' } }))).toEqual([]);
    // Held: 300 zeros past the millisecond is still told finer; 400 is not.
    const near = await t.gql(civil, ASSESS, { id, input: { level: 'ORANGE', reasons: '复核', assessedAt: `2026-01-01T00:00:00.742${'0'.repeat(300)}1Z` } });
    expect(refusal(near)).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    const later = await t.gql(civil, ASSESS, { id, input: { level: 'ORANGE', reasons: '复核', assessedAt: `2026-01-01T00:00:00.742${'0'.repeat(400)}1Z` } });
    expect(refusal(later)).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    expect(await t.sql(`SELECT level FROM registry.risk_assessment WHERE minor_id = $1`, [id])).toEqual([{ level: 'RED' }]);
  });
});
