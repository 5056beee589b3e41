import { Department } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { daysAgo, expectMaskedFailure, recordSuite, withFailingTrigger } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** 25 years from today in China, the longest fixed term, and the day after it. */
const LONGEST_TERM_ENDS = yearsBefore(new Date(), -25);
const PAST_LONGEST_TERM = new Date(Date.parse(`${LONGEST_TERM_ENDS}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** 司法: incarcerated parents, community correction, legal aid — writes, visibility, lists. */
describe('justice subgraph', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  const hub = () => t;
  const JU = Department.JUSTICE;

  recordSuite(hub, {
    owner: JU,
    type: 'IncarceratedParent',
    table: 'justice.incarcerated_parent',
    create: 'createIncarceratedParent',
    update: 'updateIncarceratedParent',
    input: { parent: 'FATHER', kind: 'SERVING_SENTENCE', institution: '浙江省第一监狱', since: '2024-05-01', expectedRelease: '2027-05-01', status: 'IN_CUSTODY' },
    updated: { parent: 'FATHER', kind: 'SERVING_SENTENCE', institution: '浙江省第一监狱', since: '2024-05-01', expectedRelease: daysAgo(1), status: 'RELEASED' },
    invalid: [
      ['a release before custody began', { expectedRelease: '2024-04-30' }, 'expectedRelease'],
      ['a release past the longest fixed term from today (25 years)', { expectedRelease: PAST_LONGEST_TERM }, 'expectedRelease'],
      ['a release in a mistyped century', { expectedRelease: '2207-05-01' }, 'expectedRelease'],
      ['an empty institution', { institution: '' }, 'institution'],
    ],
  });
  recordSuite(hub, {
    owner: JU,
    type: 'CommunityCorrection',
    table: 'justice.community_correction',
    create: 'createCommunityCorrection',
    update: 'updateCommunityCorrection',
    input: { startedOn: daysAgo(30), endsOn: daysAgo(-335), status: 'ACTIVE', supervisingOffice: '清波司法所', notes: null },
    updated: { startedOn: daysAgo(30), endsOn: daysAgo(-335), status: 'REVOKED', supervisingOffice: '清波司法所', notes: '撤销缓刑' },
    invalid: [
      ['an end before the start', { endsOn: daysAgo(40) }, 'endsOn'],
      ['an end past the longest fixed term from today (25 years)', { endsOn: PAST_LONGEST_TERM }, 'endsOn'],
    ],
  });
  recordSuite(hub, {
    owner: JU,
    type: 'LegalAidCase',
    table: 'justice.legal_aid_case',
    create: 'createLegalAidCase',
    update: 'updateLegalAidCase',
    input: { openedOn: daysAgo(7), matter: 'CHILD_SUPPORT', status: 'OPEN', provider: '上城区法律援助中心', details: '追索抚养费' },
    updated: { openedOn: daysAgo(7), matter: 'CHILD_SUPPORT', status: 'CLOSED', provider: '上城区法律援助中心', details: '调解结案' },
    invalid: [['empty details', { details: '  ' }, 'details']],
  });

  it('takes a release and a correction ending on the last day of the longest fixed term from today', async () => {
    // A child old enough to be sentenced (no child under 12 is).
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`);
    const ju = await t.token(JU);
    const custody = await t.gql(ju, `mutation($m: ID!, $e: String!) { createIncarceratedParent(minorId: $m, input: { parent: FATHER, kind: SERVING_SENTENCE, institution: "第一监狱", since: "2024-05-01", expectedRelease: $e, status: IN_CUSTODY }) { expectedRelease } }`, { m: id, e: LONGEST_TERM_ENDS });
    expect(custody.errors).toBeUndefined();
    expect(custody.data.createIncarceratedParent.expectedRelease).toBe(LONGEST_TERM_ENDS);
    const correction = await t.gql(ju, `mutation($m: ID!, $e: String!) { createCommunityCorrection(minorId: $m, input: { startedOn: "${daysAgo(1)}", endsOn: $e, status: ACTIVE, supervisingOffice: "清波司法所" }) { endsOn } }`, { m: id, e: LONGEST_TERM_ENDS });
    expect(correction.errors).toBeUndefined();
    expect(correction.data.createCommunityCorrection.endsOn).toBe(LONGEST_TERM_ENDS);
  });

  it('writes nothing when the insert fails in the database, and masks the error', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const before = await t.sql(`SELECT count(*)::int AS n FROM justice.legal_aid_case`);
    await withFailingTrigger(t, 'justice.legal_aid_case', 'INSERT', async () => {
      const r = await t.gql(await t.token(JU), `mutation($m: ID!) { createLegalAidCase(minorId: $m, input: { openedOn: "${daysAgo(1)}", matter: OTHER, status: OPEN, provider: "x", details: "x" }) { id } }`, { m: id });
      expectMaskedFailure(r);
    });
    expect(await t.sql(`SELECT count(*)::int AS n FROM justice.legal_aid_case`)).toEqual(before);
  });

  it('shows custody to civil affairs and police without the institution; legal-aid details to justice only; nothing to schools', async () => {
    const [p] = await t.sql(`SELECT minor_id, kind, institution FROM justice.incarcerated_parent ORDER BY minor_id LIMIT 1`);
    const q = `query($id: ID!) { minor(id: $id) { incarceratedParents { kind institution } legalAidCases { matter details } communityCorrections { status } } }`;
    const ju = await t.gql(await t.token(JU), q, { id: p.minor_id });
    expect(ju.errors).toBeUndefined();
    expect(ju.data.minor.incarceratedParents).toContainEqual({ kind: p.kind, institution: p.institution });
    for (const d of [Department.CIVIL_AFFAIRS, Department.POLICE]) {
      const r = await t.gql(await t.token(d), q, { id: p.minor_id });
      expect(r.data.minor.incarceratedParents).toContainEqual({ kind: p.kind, institution: null });
    }
    const [aid] = await t.sql(`SELECT minor_id, matter FROM justice.legal_aid_case ORDER BY minor_id LIMIT 1`);
    const ca = await t.gql(await t.token(Department.CIVIL_AFFAIRS), q, { id: aid.minor_id });
    expect(ca.data.minor.legalAidCases).toContainEqual({ matter: aid.matter, details: null });
    const po = await t.gql(await t.token(Department.POLICE), q, { id: aid.minor_id });
    expect(po.data.minor.legalAidCases).toBeNull();
    for (const d of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(d), q, { id: p.minor_id });
      expect(r.data.minor).toEqual({ incarceratedParents: null, legalAidCases: null, communityCorrections: null });
      expect(errorCodes(r)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    }
  });

  it('lists parents due for release within 60 days, for justice and civil affairs only', async () => {
    const expected = await t.sql(`SELECT id FROM justice.incarcerated_parent WHERE expected_release BETWEEN statistics.china_day(now()) AND statistics.china_day(now()) + 60 AND status = 'IN_CUSTODY' ORDER BY id`);
    expect(expected.length).toBeGreaterThan(0);
    const LIST = `query($f: IncarceratedParentFilter) { incarceratedParents(filter: $f, first: 1000) { totalCount nodes { id expectedRelease minor { id name } } } }`;
    const r = await t.gql(await t.token(JU), LIST, { f: { releaseWithinDays: 60, statuses: ['IN_CUSTODY'] } });
    expect(r.errors).toBeUndefined();
    expect(r.data.incarceratedParents.nodes.map((n: any) => n.id)).toEqual(expected.map((e: any) => e.id));
    expect(r.data.incarceratedParents.nodes[0].minor.name).toEqual(expect.any(String));
    expect(errorCodes(await t.gql(await t.token(Department.POLICE), LIST, {}))).toEqual(['FORBIDDEN']);
  });
});
