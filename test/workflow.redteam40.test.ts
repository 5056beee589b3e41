import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, YOUTH_LEAGUE: YL } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const CREATE = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
const FILE = `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id status receivedAt } }`;
const codes = (j: any): string[] => (j?.errors ?? []).map((e: any) => e.extensions?.code);

/**
 * Red team 40 (rt40-workflow): mandatory reports, referrals, notifications and referral-scoped
 * purposes through the public endpoint. No bug was confirmed in this area; these pins guard what a
 * change to the row rules, the purpose check or the remote subgraphs' access records could break.
 */
describe('workflow (red team 40)', () => {
  let t: TestHub;
  const kids = async (street: string, n: number, order: 'ASC' | 'DESC' = 'DESC'): Promise<{ id: string; id_number: string }[]> =>
    t.sql(
      `SELECT id, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now() + interval '30 days') ORDER BY id ${order} LIMIT $2`,
      [`${street}%`, n],
    );
  const refer = async (token: string, minorId: string, to: string, type = 'EDUCATION_AID'): Promise<string> => {
    const r = await t.gql(token, CREATE, { i: { minorId, type, toDepartment: to, need: '助学' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  };

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  // Pin: every way of reaching a referral agrees on whether the caller sees it — the look-up, the list,
  // an answer (NOT_FOUND exactly when unseen), and its purpose (accepted only for an open referral
  // addressed to the caller's department and seen) — for the district, a street, a sibling street and
  // a grid, each party and a third department, with one referral's child moved to the sibling street.
  it('agrees across look-up, list, answer and purpose on who sees a referral', async () => {
    const grid = async (street: string) => (await t.sql(`SELECT code FROM registry.region WHERE code LIKE $1 AND length(code) = 15 ORDER BY code LIMIT 1`, [`${street}%`]))[0].code;
    const [gridA, gridB] = [await grid(STREET), await grid(OTHER_STREET)];
    const caStreet = await t.token(CA, { region: STREET, user: 'rt40-ca' });
    const caDistrict = await t.token(CA, { user: 'rt40-ca-d' });
    const edStreet = await t.token(ED, { region: STREET, user: 'rt40-ed' });
    const edDistrict = await t.token(ED, { user: 'rt40-ed-d' });
    const poStreet = await t.token(PO, { region: STREET, user: 'rt40-po' });
    const children = await kids(STREET, 5, 'ASC');
    const made = [
      { id: await refer(caStreet, children[0].id, ED), from: CA, to: ED, region: STREET },
      { id: await refer(caDistrict, children[1].id, ED), from: CA, to: ED, region: '330102' },
      { id: await refer(edStreet, children[2].id, PO), from: ED, to: PO, region: STREET },
      { id: await refer(poStreet, children[3].id, ED), from: PO, to: ED, region: STREET },
      { id: await refer(edDistrict, children[4].id, PO), from: ED, to: PO, region: '330102' },
    ];
    const moved = await t.gql(caDistrict, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: children[3].id, g: gridB });
    expect(moved.errors).toBeUndefined();
    const callers: [string, string, string][] = [
      ['ED street', edStreet, STREET], ['ED sibling', await t.token(ED, { region: OTHER_STREET, user: 'rt40-ed-b' }), OTHER_STREET], ['ED district', edDistrict, '330102'],
      ['ED grid', await t.token(ED, { region: gridA, user: 'rt40-ed-g' }), gridA], ['CA street', caStreet, STREET], ['CA sibling', await t.token(CA, { region: OTHER_STREET, user: 'rt40-ca-b' }), OTHER_STREET],
      ['CA district', caDistrict, '330102'], ['PO street', poStreet, STREET], ['YL street', await t.token(YL, { region: STREET, user: 'rt40-yl' }), STREET],
    ];
    const departmentOf: Record<string, string> = { ED, CA, PO, YL };
    const seen: string[] = [];
    const expected: string[] = [];
    for (const [name, token, region] of callers) {
      const dept = departmentOf[name.split(' ')[0]];
      const list = await t.gql(token, `{ referrals(first: 500) { id } }`);
      for (const [i, r] of made.entries()) {
        const one = await t.gql(token, `query($id: ID!) { referral(id: $id) { id } }`, { id: r.id });
        // A referral still PENDING: completing it is refused, and the refusal tells what the caller sees.
        const step = await t.gql(token, `mutation($id: ID!) { completeReferral(id: $id, outcome: "x") { id } }`, { id: r.id });
        const purpose = await post(t, token, { query: '{ __typename }' }, { 'x-purpose': `REFERRAL; ${r.id}` });
        seen.push(`${name} #${i}: ${!!one.data?.referral} ${!!list.data?.referrals?.some((x: any) => x.id === r.id)} ${codes(step)} ${purpose.status}`);
        // Civil affairs (the lead) sees every referral, the two departments on it theirs; each inside its jurisdiction.
        const party = dept === CA || dept === r.from || dept === r.to;
        const visible = party && r.region.startsWith(region);
        const code = !visible ? 'NOT_FOUND' : dept === r.to ? 'BAD_USER_INPUT' : 'FORBIDDEN';
        expected.push(`${name} #${i}: ${visible} ${visible} ${code} ${visible && dept === r.to ? 200 : 400}`);
      }
    }
    expect(seen).toEqual(expected);
  });

  // Pin: under a referral's purpose an answer that only tells other children's records exist
  // (`__typename` of a list or a look-up) is withheld whole, its reads recorded as refused.
  it('withholds under a referral’s purpose a __typename-only answer about other children', async () => {
    const civil = await t.token(CA, { region: STREET, user: 'rt40-ca2' });
    const edu = await t.token(ED, { region: STREET, user: 'rt40-ed2' });
    const [a, b] = await kids(STREET, 2);
    const x = await refer(civil, a.id, ED);
    const y = await refer(civil, b.id, ED);
    for (const query of [`{ referrals { __typename } }`, `{ referral(id: "${y}") { __typename } }`, `{ notifications { __typename } }`, `{ minor(id: "${b.id}") { __typename } }`]) {
      const r = await post(t, edu, { query }, { 'x-purpose': `REFERRAL; ${x}` });
      expect([query, r.status, codes(r.json)]).toEqual([query, 403, ['FORBIDDEN']]);
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('DENIED');
      expect(e.purpose).toEqual({ code: 'REFERRAL', reference: x });
      for (const g of e.reads) for (const access of Object.values(g.fields)) expect(access).toBe('DENY');
    }
    const own = await post(t, edu, { query: `{ referral(id: "${x}") { id minor { id currentAddress guardians { phone } } } }` }, { 'x-purpose': `REFERRAL; ${x}` });
    expect(own.status).toBe(200);
    expect(own.json.errors).toBeUndefined();
  });

  // Pin: a non-officer role is refused every workflow operation whatever the department its token names
  // (a reporter of the police steps no report), and a reporter reads back only its receipts.
  it('refuses reporters, auditors, dashboards and employers every workflow operation but the receipts', async () => {
    const civil = await t.token(CA, { region: STREET, user: 'rt40-ca3' });
    const [a, b] = await kids(STREET, 2);
    const x = await refer(civil, a.id, PO);
    const [rep] = await t.sql(`SELECT id, status FROM workflow.mandatory_report ORDER BY id LIMIT 1`);
    const [note] = await t.sql(`SELECT id FROM workflow.notification ORDER BY id LIMIT 1`);
    const operations = [
      `mutation { transitionReport(id: "${rep.id}", to: VERIFYING, note: "核查") { id } }`,
      `mutation { acceptReferral(id: "${x}") { id } }`,
      `mutation { acknowledge(id: "${note.id}") { id } }`,
      `mutation { createReferral(input: { minorId: "${b.id}", type: MEDICAL_AID, toDepartment: "EDUCATION", need: "n" }) { id } }`,
      `{ mandatoryReports { id } }`, `{ referrals { id } }`, `{ notifications { id } }`, `{ overdueVisits { minor { id } } }`, `{ overdueReports { id } }`, `{ webhooks { id } }`,
    ];
    const combos: [Department, Role][] = [[PO, Role.REPORTER], [CA, Role.REPORTER], [CA, Role.AUDITOR], [CA, Role.DASHBOARD], [ED, Role.EMPLOYER]];
    for (const [dept, role] of combos) {
      const token = await t.token(dept, { role, region: STREET, user: `rt40-${role.toLowerCase()}-${dept.toLowerCase()}` });
      for (const query of operations) {
        const r = await post(t, token, { query }, { 'x-purpose': 'CASE_HANDLING' });
        expect([dept, role, query, codes(r.json)]).toEqual([dept, role, query, ['FORBIDDEN']]);
      }
    }
    expect((await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [rep.id]))[0].status).toBe(rep.status);
    expect((await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [x]))[0].status).toBe('PENDING');
    const reporter = await t.token(PO, { role: Role.REPORTER, user: 'rt40-reporter' });
    const filed = await post(t, reporter, { query: FILE, variables: { i: { harmType: 'NEGLECT', observation: '无人照料', location: '某小区', regionCode: STREET, urgency: 'NORMAL', childIdNumber: b.id_number } } }, {});
    expect(filed.json.errors).toBeUndefined();
    const mine = await post(t, reporter, { query: `{ myReports { id status receivedAt } }` }, {});
    expect(mine.json.data.myReports).toEqual([filed.json.data.fileMandatoryReport]);
  });

  // Pin: the workflow's answers and audit events are the same in process and distributed (the remote
  // subgraph's access record: refusals stating a field, a change under another child's referral, a
  // granted read, an acknowledgement made again).
  it('answers and audits workflow operations alike in process and distributed', async () => {
    const hubs: Record<string, TestHub> = { inProcess: t, distributed: await startDistributedTestHub() };
    const out: Record<string, string[]> = {};
    try {
      for (const [name, h] of Object.entries(hubs)) {
        const ks: { id: string; id_number: string }[] = await h.sql(
          `SELECT id, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now() + interval '30 days') ORDER BY id DESC OFFSET 10 LIMIT 3`,
          [`${STREET}%`],
        );
        const ca = await h.token(CA, { region: STREET, user: 'rt40-d-ca' });
        const ed = await h.token(ED, { region: STREET, user: 'rt40-d-ed' });
        const po = await h.token(PO, { region: STREET, user: 'rt40-d-po' });
        const rep = await h.token(ED, { role: Role.REPORTER, user: 'rt40-d-rep' });
        const res: string[] = (out[name] = []);
        const norm = (x: unknown) =>
          JSON.stringify(x ?? null)
            .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'U')
            .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T');
        const run = async (label: string, token: string, query: string, variables: any = {}, headers: Record<string, string> = { 'x-purpose': 'CASE_HANDLING' }) => {
          const r = await post(h, token, { query, variables }, headers);
          const e = await eventOf(h, r.requestId);
          const errors = (r.json.errors ?? []).map((x: any) => [x.message, x.path, x.extensions?.code]);
          res.push(`${label} ${r.status} ${norm(r.json.data)} ${norm(errors)} | ${e.outcome} ${norm(e.errorCodes)} ${norm(e.reads)} ${norm(e.changes)} ${norm(e.purpose)}`);
          return r;
        };
        const x1 = (await run('create', ca, CREATE, { i: { minorId: ks[0].id, type: 'EDUCATION_AID', toDepartment: ED, need: '助学' } })).json.data.createReferral.id;
        const x2 = (await run('create other', ca, CREATE, { i: { minorId: ks[1].id, type: 'LEGAL_AID', toDepartment: ED, need: '助学' } })).json.data.createReferral.id;
        await run('sender answers', ca, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: x1 });
        await run('accept', ed, `mutation($id: ID!) { acceptReferral(id: $id, note: "受理") { id status minor { id } } }`, { id: x1 });
        await run('accept again', ed, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: x1 });
        await run('other child under purpose', ed, `mutation($id: ID!) { declineReferral(id: $id, reason: "不") { id status } }`, { id: x2 }, { 'x-purpose': `REFERRAL; ${x1}` });
        await run('granted read', ed, `query($c: ID!) { minor(id: $c) { currentAddress guardians { phone situation } } }`, { c: ks[0].id }, { 'x-purpose': `REFERRAL; ${x1}` });
        await run('complete', ed, `mutation($id: ID!) { completeReferral(id: $id, outcome: "done") { id status outcome answerReason } }`, { id: x1 }, { 'x-purpose': `REFERRAL; ${x1}` });
        const report = (await run('file', rep, FILE, { i: { harmType: 'NEGLECT', observation: '无人照料', location: '某小区', regionCode: STREET, urgency: 'NORMAL', childIdNumber: ks[2].id_number } }, {})).json.data
          .fileMandatoryReport.id;
        await run('receipts', rep, `{ myReports(first: 1) { id status } }`, {}, {});
        await run('wrong step', ca, `mutation($id: ID!) { transitionReport(id: $id, to: UNFOUNDED, note: "n") { id } }`, { id: report });
        await run('step', po, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "n") { id status transitions { toStatus } minor { id } } }`, { id: report });
        const [n] = await h.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE'`, [report]);
        await run('acknowledge', po, `mutation($id: ID!) { acknowledge(id: $id) { id minor { id } payload { field value } } }`, { id: n.id });
        await run('acknowledge again', po, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: n.id });
        await run('filtered list', po, `{ mandatoryReports(status: [VERIFYING], first: 1) { id } }`);
      }
    } finally {
      await hubs.distributed.stop();
    }
    expect(out.distributed).toEqual(out.inProcess);
  });
});
