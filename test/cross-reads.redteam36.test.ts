import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, YOUTH_LEAGUE: YL, POLICE: PO, JUSTICE: JU, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';
const CREATE = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
const DECLINE = `mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id } }`;

/** The record id a department page's `nextCursor` carries (`<kind>:<id>`, base64url). */
const recordOf = (cursor: string, kind: string): string => {
  const raw = Buffer.from(cursor, 'base64url').toString();
  expect(raw.startsWith(`${kind}:`)).toBe(true);
  return raw.slice(kind.length + 1);
};

/**
 * Red team 36 (rt36-reads): reads of a child's records across departments, by role, with and
 * without a referral's purpose.
 */
describe('cross-department reads (red team 36)', () => {
  let t: TestHub;
  let civil: string;
  /** A child of the street, the last by id, without records in any department list: a page's first record, and the first child, are another child's. */
  let child: string;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { region: STREET });
    [{ id: child }] = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
        WHERE j.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM education.dropout_report r WHERE r.minor_id = m.id)
          AND NOT EXISTS (SELECT 1 FROM youth_league.prevention_case r WHERE r.minor_id = m.id)
          AND NOT EXISTS (SELECT 1 FROM police.incident r WHERE r.minor_id = m.id)
          AND NOT EXISTS (SELECT 1 FROM justice.incarcerated_parent r WHERE r.minor_id = m.id)
          AND NOT EXISTS (SELECT 1 FROM womens_federation.care_plan r WHERE r.minor_id = m.id)
        ORDER BY m.id DESC LIMIT 1`,
      [`${STREET}%`],
    );
  });
  afterAll(() => t?.stop());

  async function refer(to: Department): Promise<string> {
    const r = await t.gql(civil, CREATE, { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: to, need: '家庭困难，需要帮扶' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  }

  // A department page's `nextCursor` is the id of the page's last record (`dropout-report:<id>`),
  // a record of some child — as `minors { pageInfo { endCursor } }` is the id of a child, which the
  // hub records as a read of that child and withholds under a purpose bound to another. The record
  // page records the children its cursor depends on only under a filter (record-page.ts
  // `nextCursor`: `noteTested` is a no-op without tests), so without one the cursor names another
  // child's record under a referral's purpose, the answer is served, and its event names no child:
  // `{ nodes { id } }` of the same page is withheld (403) and recorded as a read of that child.
  it.each([
    [ED, 'dropoutReports', 'dropout-report', 'education.dropout_report'],
    [YL, 'preventionCases', 'prevention-case', 'youth_league.prevention_case'],
    [PO, 'policeIncidents', 'police-incident', 'police.incident'],
    [JU, 'incarceratedParents', 'incarcerated-parent', 'justice.incarcerated_parent'],
    [WF, 'carePlans', 'care-plan', 'womens_federation.care_plan'],
  ] as const)(
    'under a referral’s purpose, %s’s %s { nextCursor } naming another child’s record is withheld as its nodes { id } and minors’ endCursor are',
    async (department, list, kind, table) => {
      const token = await t.token(department, { region: STREET });
      const referral = await refer(department);
      const purpose = { 'x-purpose': `REFERRAL; ${referral}` };

      // What the hub does for the same page's records, and for a child's cursor: withheld.
      const nodes = await post(t, token, { query: `{ ${list}(first: 1) { nodes { id } } }` }, purpose);
      expect(nodes.status).toBe(403);
      const endCursor = await post(t, token, { query: `{ minors(first: 1) { pageInfo { endCursor } } }` }, purpose);
      expect(endCursor.status).toBe(403);

      const r = await post(t, token, { query: `{ ${list}(first: 1) { nextCursor } }` }, purpose);
      const cursor: string | undefined = r.json.data?.[list]?.nextCursor;
      if (cursor) {
        // What was served: the id of a record of another child than the referral's.
        const [record] = await t.sql(`SELECT minor_id FROM ${table} WHERE id = $1`, [recordOf(cursor, kind)]);
        expect(record.minor_id).not.toBe(child);
      }
      const e = await eventOf(t, r.requestId);
      expect([r.status, r.json.data, e.outcome]).toEqual([403, undefined, 'DENIED']);
      await t.gql(token, DECLINE, { id: referral, reason: '不需要' });
    },
  );

  // Without a purpose: the page's `nodes { id }` and `minors`' endCursor are refused (an operation that
  // reads a child's data declares why), the cursor naming the same record is served.
  it('refuses a department page’s nextCursor without a purpose, as it refuses the same page’s nodes { id } and minors’ endCursor', async () => {
    const token = await t.token(ED, { region: STREET });
    const refusal = (r: { status: number; json: any }) => [r.status, r.json.data, r.json.errors?.map((e: any) => [e.extensions?.code, e.extensions?.field])];
    const nodes = await post(t, token, { query: `{ dropoutReports(first: 1) { nodes { id } } }` }, {});
    const ends = await post(t, token, { query: `{ minors(first: 1) { pageInfo { endCursor } } }` }, {});
    expect(refusal(nodes)).toEqual([400, undefined, [['BAD_USER_INPUT', 'x-purpose']]]);
    expect(refusal(ends)).toEqual(refusal(nodes));
    // Refused on its own path, beside the rest of the page, as it is under a filter (docs/departments.md).
    const r = await post(t, token, { query: `{ dropoutReports(first: 1) { nextCursor totalCount } }` }, {});
    expect([r.status, r.json.data, r.json.errors?.map((e: any) => [e.extensions?.code, e.extensions?.field, e.path])]).toEqual([
      200,
      { dropoutReports: { nextCursor: null, totalCount: expect.any(Number) } },
      [['BAD_USER_INPUT', 'x-purpose', ['dropoutReports', 'nextCursor']]],
    ]);
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });

  // The same cursor without a referral: the record it names is a child's, and the event says whose,
  // as it does for the page's `nodes { id }` (DropoutReport.id) and for `minors`' endCursor.
  it('records the child whose record a department page’s nextCursor names, as it records the child of minors’ endCursor', async () => {
    const token = await t.token(ED, { region: STREET });
    const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt36' };
    const ends = await post(t, token, { query: `{ minors(first: 1) { pageInfo { endCursor } } }` }, PURPOSE);
    const endsEvent = await eventOf(t, ends.requestId);
    expect(endsEvent.reads.map((g: { minorId: string }) => g.minorId)).toHaveLength(1);

    const r = await post(t, token, { query: `{ dropoutReports(first: 1) { nextCursor } }` }, PURPOSE);
    const cursor: string = r.json.data.dropoutReports.nextCursor;
    const [record] = await t.sql(`SELECT minor_id FROM education.dropout_report WHERE id = $1`, [recordOf(cursor, 'dropout-report')]);
    // And the child of the record after it, whose existence the cursor's being there tells (red team 43).
    const [next] = await t.sql(
      `SELECT r.minor_id FROM education.dropout_report r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id WHERE j.grid_code LIKE $2 AND r.id > $1 ORDER BY r.id LIMIT 1`,
      [recordOf(cursor, 'dropout-report'), `${STREET}%`],
    );
    const e = await eventOf(t, r.requestId);
    expect(e.reads.map((g: { minorId: string }) => g.minorId).sort()).toEqual([...new Set([record.minor_id, next.minor_id])].sort());
  });
});
