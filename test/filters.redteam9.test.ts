import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;

/**
 * Every list-valued filter, sent empty. A client that builds its filter from a user's selection
 * of nothing sent `riskLevels: []`: taken for no filter, it answered the whole jurisdiction and
 * recorded every child as read. Each is refused BAD_USER_INPUT naming the argument; left out it is
 * no filter, and a list of values still filters.
 */
const CASES: { argument: string; department: Department; query: string; some: unknown[] }[] = [
  { argument: 'filter.riskLevels', department: CA, query: `query($v: [RiskLevel!]) { minors(filter: { riskLevels: $v }, first: 5) { totalCount edges { node { id } } } }`, some: ['RED'] },
  { argument: 'filter.categories', department: CA, query: `query($v: [DifficultyCategory!]) { minors(filter: { categories: $v }, first: 5) { totalCount edges { node { id } } } }`, some: ['LEFT_BEHIND'] },
  { argument: 'filter.statuses', department: ED, query: `query($v: [DropoutStatus!]) { dropoutReports(filter: { statuses: $v }, first: 5) { totalCount nodes { id } } }`, some: ['OPEN'] },
  { argument: 'filter.types', department: PO, query: `query($v: [IncidentType!]) { policeIncidents(filter: { types: $v }, first: 5) { totalCount nodes { id } } }`, some: ['MISSING'] },
  { argument: 'filter.statuses', department: PO, query: `query($v: [IncidentStatus!]) { policeIncidents(filter: { statuses: $v }, first: 5) { totalCount nodes { id } } }`, some: ['CLOSED'] },
  { argument: 'filter.statuses', department: JU, query: `query($v: [CustodyStatus!]) { incarceratedParents(filter: { statuses: $v }, first: 5) { totalCount nodes { id } } }`, some: ['IN_CUSTODY'] },
  { argument: 'filter.kinds', department: YL, query: `query($v: [PreventionKind!]) { preventionCases(filter: { kinds: $v }, first: 5) { totalCount nodes { id } } }`, some: ['GENERAL_PREVENTION'] },
  { argument: 'filter.statuses', department: YL, query: `query($v: [PreventionCaseStatus!]) { preventionCases(filter: { statuses: $v }, first: 5) { totalCount nodes { id } } }`, some: ['OPEN'] },
  { argument: 'filter.kinds', department: WF, query: `query($v: [CarePlanKind!]) { carePlans(filter: { kinds: $v }, first: 5) { totalCount nodes { id } } }`, some: ['LEFT_BEHIND'] },
  { argument: 'filter.statuses', department: WF, query: `query($v: [CarePlanStatus!]) { carePlans(filter: { statuses: $v }, first: 5) { totalCount nodes { id } } }`, some: ['ACTIVE'] },
  { argument: 'status', department: CA, query: `query($v: [ReportStatus!]) { mandatoryReports(status: $v, first: 5) { id } }`, some: ['RECEIVED'] },
  { argument: 'status', department: CA, query: `query($v: [ReferralStatus!]) { referrals(status: $v, first: 5) { id } }`, some: ['PENDING'] },
  { argument: 'riskLevels', department: CA, query: `query($v: [RiskLevel!]) { overdueVisits(riskLevels: $v, first: 5) { minor { id } } }`, some: ['RED'] },
];

describe('empty list filters (red team 9)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  describe.each(CASES)('$argument of $query', ({ argument, department, query, some }) => {
    it('refuses an empty list BAD_USER_INPUT naming the argument, answering nothing', async () => {
      const r = await t.gql(await t.token(department), query, { v: [] });
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toBe(`${argument}: must name at least one value, or be left out`);
      expect(Object.values(r.data ?? {}).every((v) => v === null)).toBe(true);
    });

    it('still filters by a list of values, and takes a list left out or null for no filter', async () => {
      const token = await t.token(department);
      for (const v of [some, null, undefined]) {
        const r = await t.gql(token, query, v === undefined ? {} : { v });
        expect(r.errors).toBeUndefined();
        expect(Object.values(r.data).every((x) => x !== null)).toBe(true);
      }
    });
  });

  it('written in the query as `[]`, refused the same; the trail records no child read', async () => {
    const r = await post(t, await t.token(CA), { query: `{ minors(filter: { riskLevels: [] }, first: 50) { totalCount edges { node { id name } } } }` });
    expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(r.json.data?.minors ?? null).toBeNull();
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });
});
