import { Department } from '../src/auth/principal';
import { post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 30 (rt30-depts): the read side of the department subgraphs through the gateway. No
 * failing case was found; these pin two behaviours verified through the public endpoint that no
 * earlier file pins in this form: a child's whole department picture is served and refused alike
 * whichever path reaches the child, and every department list pages through exactly its
 * jurisdiction at every level of the region tree.
 */
const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt30' };

/** Every Minor field of every department, with every field of each record type and sub-record, and the registry's masked fields. */
const WHOLE = `id name idNumber householdRegistration currentAddress categories { category identifiedAt } guardians { name phone address situation }
  schoolEnrollments { id school grade status enrolledOn }
  dropoutReports { id school reportedOn daysAbsent status outcome closedOn persuasionActions { id actedOn method actor note } }
  bullyingCases { id school occurredOn role severity status description } educationAid { id kind amountYuan grantedOn schoolYear }
  policeIncidents { id type occurredOn status handlingUnit narrative } policeProtectionCase { hasOpenCase contactUnit openSince }
  guardianAdmonishments { id guardian admonishedOn issuingUnit reason } identityVerifications { id verifiedOn result householdStatus householdPlace note }
  incarceratedParents { id parent kind institution since expectedRelease status } communityCorrections { id startedOn endsOn status supervisingOffice notes }
  legalAidCases { id openedOn matter status provider details }
  preventionCases { id kind behaviour openedOn status caseWorker measures lastFollowUpOn followUps { id followedUpOn note } }
  idleSupports { id kind startedOn provider status note } volunteerVisits { id visitedOn volunteer notes }
  carePlans { id kind startedOn status caregiver measures lastVisitOn visits { id visitedOn visitor notes } }
  familyEducationSessions { id heldOn topic attendee instructor notes } domesticViolenceSupports { id kind startedOn status notes }
  childrenHomeAttendances { id home attendedOn activity }`;

/** The errors of an answer as paths below the child (`skip` leading path elements) with their codes. */
const errorsBelow = (json: any, skip: number): string[] =>
  (json.errors ?? []).map((e: any) => `${JSON.stringify((e.path ?? []).slice(skip))} ${e.extensions?.code}`).sort();

describe('department reads (red team 30)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  it('a child’s whole department picture is served, masked and refused alike through minor(id:) and through a minors page, for every department', async () => {
    // The street's children with the most department records.
    const kids: { id: string }[] = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id WHERE j.grid_code LIKE $1
        ORDER BY (SELECT count(*) FROM police.incident r WHERE r.minor_id = m.id) + (SELECT count(*) FROM womens_federation.care_plan r WHERE r.minor_id = m.id)
               + (SELECT count(*) FROM youth_league.prevention_case r WHERE r.minor_id = m.id) + (SELECT count(*) FROM education.dropout_report r WHERE r.minor_id = m.id)
               + (SELECT count(*) FROM justice.incarcerated_parent r WHERE r.minor_id = m.id) + (SELECT count(*) FROM police.identity_verification r WHERE r.minor_id = m.id) DESC, m.id
        LIMIT 6`,
      [`${STREET}%`],
    );
    for (const dept of [CA, PO, ED, JU, YL, WF]) {
      const token = await t.token(dept, { region: STREET });
      for (const kid of kids) {
        const direct = await post(t, token, { query: `query($id: ID!) { minor(id: $id) { ${WHOLE} } }`, variables: { id: kid.id } }, PURPOSE);
        const [before] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND id < $2 ORDER BY id DESC LIMIT 1`, [`${STREET}%`, kid.id]);
        const after = before ? Buffer.from(`minor:${before.id}`).toString('base64url') : null;
        const paged = await post(t, token, { query: `query($a: String) { minors(first: 1, after: $a) { edges { node { ${WHOLE} } } } }`, variables: { a: after } }, PURPOSE);
        expect(direct.json.data.minor.id).toBe(kid.id);
        expect({ dept, status: paged.status, data: paged.json.data.minors.edges[0].node, errors: errorsBelow(paged.json, 4) }).toEqual({
          dept,
          status: direct.status,
          data: direct.json.data.minor,
          errors: errorsBelow(direct.json, 1),
        });
      }
    }
  });

  it.each([
    [PO, 'policeIncidents', 'police.incident'],
    [ED, 'dropoutReports', 'education.dropout_report'],
    [JU, 'incarceratedParents', 'justice.incarcerated_parent'],
    [YL, 'preventionCases', 'youth_league.prevention_case'],
    [WF, 'carePlans', 'womens_federation.care_plan'],
  ])('%s: %s pages through exactly its jurisdiction’s records, with an exact unfiltered count, at the district, street, community and grid', async (dept, list, table) => {
    const [busiest] = await t.sql(
      `SELECT j.grid_code FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id GROUP BY j.grid_code ORDER BY count(*) DESC, j.grid_code LIMIT 1`,
    );
    const grid: string = busiest.grid_code;
    for (const region of [grid.slice(0, 6), grid.slice(0, 9), grid.slice(0, 12), grid]) {
      const token = await t.token(dept, { region });
      const seen: string[] = [];
      const counts = new Set<number>();
      let cursor: string | null = null;
      do {
        const r: any = await post(t, token, { query: `query($a: String) { ${list}(first: 1000, after: $a) { totalCount nextCursor nodes { id } } }`, variables: { a: cursor } }, PURPOSE);
        expect(r.json.errors).toBeUndefined();
        const page = r.json.data[list];
        counts.add(page.totalCount);
        seen.push(...page.nodes.map((n: { id: string }) => n.id));
        cursor = page.nextCursor;
      } while (cursor && seen.length < 50_000);
      const expected = (
        await t.sql(`SELECT r.id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id WHERE j.grid_code LIKE $1 ORDER BY r.id`, [`${region}%`])
      ).map((r: { id: string }) => r.id);
      expect(expected.length).toBeGreaterThan(0);
      expect({ region, seen, counts: [...counts] }).toEqual({ region, seen: expected, counts: [expected.length] });
    }
  });
});
