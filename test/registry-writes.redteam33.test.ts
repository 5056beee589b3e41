import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, GqlResult, startTestHub, TestHub } from './support/test-hub';
import { birthYearsAgo } from './support/birth-dates';

jest.setTimeout(300_000);

/**
 * Red team 33 (rt33-writes): the registry's writes (src/subgraphs/registry/resolvers/minor-mutation.resolver.ts).
 *
 * The DateTimeISO scalar (src/schema/date-time.scalar.ts) cuts a time given finer than a millisecond
 * to its millisecond ("harmless for a time recorded"), and Postgres, which keeps microseconds, stores
 * the cut value. For an assessment it is not harmless: two assessments given in one order are stored
 * at one instant, and the tie rule (`assessmentsNewestFirst`: of two at one instant, the graver)
 * then decides the child's level instead of the times given — a later ORANGE or BLUE leaves the
 * child RED, and a RED given before an ORANGE makes the child RED and tells four departments.
 */
const CREATE = `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id } }`;
const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id level assessedAt } }`;
const MINOR = `query($id: ID!) { minor(id: $id) { riskLevel latestAssessment { level } } }`;

describe('registry writes: assessments given finer than a millisecond (rt33-writes)', () => {
  let t: TestHub;
  let civil: string;
  let grid: string;
  let sequence = 733;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt33-civil' });
    [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`);
  });
  afterAll(() => t?.stop());

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
  const assess = (id: string, level: string, assessedAt: string) => t.gql(civil, ASSESS, { id, input: { level, reasons: '复核', assessedAt } });
  const levelOf = async (id: string) => {
    const r = await t.gql(civil, MINOR, { id });
    expect(errorCodes(r)).toEqual([]);
    return [r.data.minor.riskLevel, r.data.minor.latestAssessment.level];
  };
  const refusal = (r: GqlResult) => [errorCodes(r), r.errors?.[0]?.extensions?.field];

  // Bug: ORANGE given at …00.7425Z, half a millisecond after a RED at …00.742Z, was stored at
  // …00.742Z (the answer echoed it so) and the tie went to the graver RED: the child stayed RED.
  // A time finer than the hub keeps is now refused.
  it('refuses an ORANGE given half a millisecond after a RED: the child stays as recorded', async () => {
    const id = await newChild();
    expect(errorCodes(await assess(id, 'RED', '2026-01-01T00:00:00.742Z'))).toEqual([]);
    expect(refusal(await assess(id, 'ORANGE', '2026-01-01T00:00:00.7425Z'))).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    expect(await levelOf(id)).toEqual(['RED', 'RED']);
    expect(await t.sql(`SELECT level FROM registry.risk_assessment WHERE minor_id = $1`, [id])).toEqual([{ level: 'RED' }]);
  });

  // Bug: a RED given at …00.7421Z, before an ORANGE at …00.7429Z, was stored at the ORANGE's instant and
  // taken as the later (graver first): the child became RED, and CHILD_RED went to civil affairs,
  // police, education and the women's federation, of a RED that an ORANGE had already followed.
  it('refuses a RED given a fraction of a millisecond before an ORANGE, telling no one', async () => {
    const id = await newChild();
    expect(errorCodes(await assess(id, 'ORANGE', '2026-01-01T00:00:00.742Z'))).toEqual([]);
    expect(refusal(await assess(id, 'RED', '2026-01-01T00:00:00.7421Z'))).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    expect(await levelOf(id)).toEqual(['ORANGE', 'ORANGE']);
    expect(await t.sql(`SELECT department FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1`, [id])).toEqual([]);
  });

  it('refuses a visit given finer than a millisecond, and takes one given to the millisecond', async () => {
    const id = await newChild();
    const VISIT = `mutation($id: ID!, $input: VisitInput!) { recordVisit(minorId: $id, input: $input) { id visitedAt } }`;
    expect(refusal(await t.gql(civil, VISIT, { id, input: { notes: '家访', visitedAt: '2026-01-02T08:00:00.123456Z' } }))).toEqual([['BAD_USER_INPUT'], 'visitedAt']);
    const visit = await t.gql(civil, VISIT, { id, input: { notes: '家访', visitedAt: '2026-01-02T08:00:00.123Z' } });
    expect([errorCodes(visit), visit.data?.recordVisit.visitedAt]).toEqual([[], '2026-01-02T08:00:00.123Z']);
    expect(await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [id])).toEqual([{ n: 1 }]);
  });

  // Bug: `marked` (src/schema/date-time.scalar.ts) read the fraction's digits 4 to 9 only: a time given
  // past the nanosecond (`…00.7420000000001Z`) was not marked finer, passed requireNotFuture and was cut to
  // …00.742Z: an ORANGE given after a RED stood at the RED's instant, where the graver counts.
  it('refuses an assessment time finer than the millisecond past the ninth digit', async () => {
    const id = await newChild();
    expect(errorCodes(await assess(id, 'RED', '2026-01-01T00:00:00.742Z'))).toEqual([]);
    expect(refusal(await assess(id, 'ORANGE', '2026-01-01T00:00:00.7420000000001Z'))).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    expect(await levelOf(id)).toEqual(['RED', 'RED']);
  });

  // Red team 36. Bug: the DateTimeISO scalar (src/schema/date-time.scalar.ts) tells a time given finer than the
  // millisecond by the number `Number("<digits 4-9>.<digits 10 on>")`, and a fraction whose first
  // non-zero digit lies some 320 places past the ninth makes that number underflow to 0: the time
  // passes as given to the millisecond (requireNotFuture), is cut to it, and the red team 33 bug is
  // back — an ORANGE given after a RED is stored at the RED's instant, the tie goes to the graver,
  // and the child stays RED though its latest assessment, as given, is ORANGE.
  it('refuses an ORANGE given a fraction past the millisecond after a RED, however far past the ninth digit that fraction lies', async () => {
    const id = await newChild();
    expect(errorCodes(await assess(id, 'RED', '2026-01-01T00:00:00.742Z'))).toEqual([]);
    // Held: 300 zeros past the millisecond is still told finer; 400 is not.
    const near = await assess(id, 'ORANGE', `2026-01-01T00:00:00.742${'0'.repeat(300)}1Z`);
    expect(refusal(near)).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    const later = await assess(id, 'ORANGE', `2026-01-01T00:00:00.742${'0'.repeat(400)}1Z`);
    expect(refusal(later)).toEqual([['BAD_USER_INPUT'], 'assessedAt']);
    expect(await t.sql(`SELECT level FROM registry.risk_assessment WHERE minor_id = $1`, [id])).toEqual([{ level: 'RED' }]);
  });
});
