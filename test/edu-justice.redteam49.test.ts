import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Department, PolicySubject, Role } from '../src/auth/principal';
import { asDba, eventOf, post } from './support/audit-helpers';
import { childAtLeast, daysAgo } from './support/department-records';
import { expectAnsweredAsUnknown } from './support/unknown-id';
import { SUBJECT_TOKENS } from './support/schema-calls';
import { errorCodes, startTestHub, subjectToken, TestHub } from './support/test-hub';

jest.setTimeout(900_000);

const { EDUCATION: ED, JUSTICE: JU, CIVIL_AFFAIRS: CA, POLICE: PO, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt49' };

/** docs/permissions.md: `Type.field` → the access of each subject, in the table's column order. */
const COLUMNS: PolicySubject[] = [CA, ED, PO, JU, YL, WF, Role.AUDITOR, Role.DASHBOARD, Role.REPORTER, Role.EMPLOYER];
function documented(): Map<string, Map<PolicySubject, string>> {
  const doc = readFileSync(join(__dirname, '..', 'docs', 'permissions.md'), 'utf8');
  const rows = new Map<string, Map<PolicySubject, string>>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([A-Za-z]+\.[A-Za-z]+)` \|(.*)$/.exec(line);
    if (!m) continue;
    const cells = m[2].split('|').map((c) => c.trim());
    rows.set(m[1], new Map(COLUMNS.map((s, i) => [s, cells[i].includes('ALLOW') ? 'ALLOW' : cells[i].includes('MASK') ? 'MASK' : 'DENY'])));
  }
  return rows;
}

/** Each record list on a child, with its type and the leaf fields of that type (sub-lists apart). */
const LISTS: [list: string, type: string, leaves: string[]][] = [
  ['schoolEnrollments', 'SchoolEnrollment', ['id', 'school', 'status', 'enrolledOn', 'grade']],
  ['dropoutReports', 'DropoutReport', ['id', 'school', 'reportedOn', 'status', 'outcome', 'closedOn', 'daysAbsent']],
  ['bullyingCases', 'BullyingCase', ['id', 'school', 'occurredOn', 'role', 'severity', 'status', 'description']],
  ['educationAid', 'EducationAid', ['id', 'kind', 'amountYuan', 'grantedOn', 'schoolYear']],
  ['incarceratedParents', 'IncarceratedParent', ['id', 'parent', 'kind', 'since', 'expectedRelease', 'status', 'institution']],
  ['communityCorrections', 'CommunityCorrection', ['id', 'startedOn', 'endsOn', 'status', 'supervisingOffice', 'notes']],
  ['legalAidCases', 'LegalAidCase', ['id', 'openedOn', 'matter', 'status', 'provider', 'details']],
];
const ACTION_LEAVES = ['id', 'actedOn', 'method', 'actor', 'note'];

describe('education and justice records, read by every department and role (red team 49)', () => {
  let t: TestHub;
  const policy = documented();
  let child: { id: string };
  let outside: { id: string };
  const ids: Record<string, string> = {};
  const ids_ = ids;
  const outsideIds: Record<string, string> = {};

  const make = async (dept: Department, m: string, minorId: string, input: string, parentArg = 'minorId') => {
    const r = await t.gql(await t.token(dept, { region: '330102' }), `mutation($m: ID!) { ${m}(${parentArg}: $m, input: ${input}) { id } }`, { m: minorId }, PURPOSE);
    if (r.errors) throw new Error(`${m}: ${JSON.stringify(r.errors)}`);
    return r.data[m].id as string;
  };
  const seed = async (minorId: string, into: Record<string, string>) => {
    into.SchoolEnrollment = await make(ED, 'createSchoolEnrollment', minorId, `{ school: "清波中学", grade: 8, status: ENROLLED, enrolledOn: "${daysAgo(40)}" }`);
    into.DropoutReport = await make(ED, 'createDropoutReport', minorId, `{ school: "清波中学", reportedOn: "${daysAgo(20)}", daysAbsent: 25 }`);
    into.PersuasionAction = await make(ED, 'recordPersuasionAction', into.DropoutReport, `{ actedOn: "${daysAgo(10)}", method: HOME_VISIT, actor: "班主任", note: "家中父亲酗酒" }`, 'reportId');
    into.BullyingCase = await make(ED, 'createBullyingCase', minorId, `{ school: "清波中学", occurredOn: "${daysAgo(15)}", role: VICTIM, severity: GENERAL, status: OPEN, description: "被同学张三索要财物" }`);
    into.EducationAid = await make(ED, 'createEducationAid', minorId, `{ kind: LIVING_SUBSIDY, amountYuan: 1000, grantedOn: "${daysAgo(12)}", schoolYear: "2025-2026" }`);
    into.IncarceratedParent = await make(JU, 'createIncarceratedParent', minorId, `{ parent: FATHER, kind: SERVING_SENTENCE, institution: "浙江省第一监狱", since: "2024-05-01", expectedRelease: "${daysAgo(-30)}", status: IN_CUSTODY }`);
    into.CommunityCorrection = await make(JU, 'createCommunityCorrection', minorId, `{ startedOn: "${daysAgo(30)}", endsOn: "${daysAgo(-300)}", status: ACTIVE, supervisingOffice: "清波司法所", notes: "矫正笔记" }`);
    into.LegalAidCase = await make(JU, 'createLegalAidCase', minorId, `{ openedOn: "${daysAgo(7)}", matter: CHILD_SUPPORT, status: OPEN, provider: "上城区法律援助中心", details: "追索抚养费" }`);
  };

  beforeAll(async () => {
    t = await startTestHub();
    child = await childAtLeast(t, STREET, 14, 3);
    outside = await childAtLeast(t, OTHER_STREET, 14, 3);
    await seed(child.id, ids);
    await seed(outside.id, outsideIds);
  });
  afterAll(() => t?.stop());

  const FULL = `minor(id: $id) { id ${LISTS.map(([list, , leaves]) => `${list}(first: 5) { ${leaves.join(' ')} minor { id }${list === 'dropoutReports' ? ` persuasionActions(first: 5) { ${ACTION_LEAVES.join(' ')} }` : ''} }`).join(' ')} }`;


  /** Every error of an answer as `dotted.path` (list indexes left out) → code. */
  const errorsAt = (json: any) => {
    const out = new Map<string, string>();
    for (const e of json.errors ?? []) out.set((e.path ?? []).filter((p: unknown) => typeof p === 'string').join('.'), e.extensions?.code);
    return out;
  };
  /** The documented access of `Type.field` for a subject. */
  const access = (subject: PolicySubject, key: string) => {
    const row = policy.get(key);
    if (!row) throw new Error(`${key} is not in docs/permissions.md`);
    return row.get(subject)!;
  };

  /**
   * Checks one child's answer (`minor`, as `at` names it) against the table: a list the subject may
   * not read is null with FORBIDDEN on its path, each leaf it may read equals the owner's value, each
   * it may not is null with FORBIDDEN on its path; and the audit event's reads of that child name
   * each field served with its access.
   */
  const checkChild = (subject: PolicySubject, json: any, minor: any, at: string, reference: any, reads: Record<string, string> | undefined) => {
    const errors = errorsAt(json);
    const problems: string[] = [];
    for (const [list, type, leaves] of LISTS) {
      const listAccess = access(subject, `Minor.${list}`);
      const path = `${at}.${list}`;
      if (listAccess !== 'ALLOW') {
        if (minor[list] !== null) problems.push(`${subject} ${path}: served ${JSON.stringify(minor[list])} though ${listAccess}`);
        if (errors.get(path) !== 'FORBIDDEN') problems.push(`${subject} ${path}: no FORBIDDEN`);
        if (reads && reads[`Minor.${list}`] !== 'DENY') problems.push(`${subject} ${path}: audited ${reads[`Minor.${list}`]}`);
        continue;
      }
      if (reads && reads[`Minor.${list}`] !== 'ALLOW') problems.push(`${subject} ${path}: audited ${reads[`Minor.${list}`]}`);
      const ref = reference[list] as any[];
      const got = minor[list] as any[];
      if (!Array.isArray(got) || got.length !== ref.length) {
        problems.push(`${subject} ${path}: ${JSON.stringify(got)?.slice(0, 200)} against ${ref.length} records`);
        continue;
      }
      for (const leaf of [...leaves, 'minor']) {
        const key = `${type}.${leaf}`;
        const a = access(subject, key);
        for (let i = 0; i < ref.length; i++) {
          const value = got[i][leaf];
          if (a === 'ALLOW' && JSON.stringify(value) !== JSON.stringify(ref[i][leaf])) problems.push(`${subject} ${path}.${leaf}: ${JSON.stringify(value)} ≠ ${JSON.stringify(ref[i][leaf])}`);
          if (a === 'DENY' && value !== null) problems.push(`${subject} ${path}.${leaf}: served ${JSON.stringify(value)} though DENY`);
        }
        if (a === 'DENY' && ref.length && errors.get(`${path}.${leaf}`) !== 'FORBIDDEN') problems.push(`${subject} ${path}.${leaf}: no FORBIDDEN`);
        if (a === 'ALLOW' && errors.has(`${path}.${leaf}`)) problems.push(`${subject} ${path}.${leaf}: error ${errors.get(`${path}.${leaf}`)}`);
        if (reads && ref.length && reads[key] !== a) problems.push(`${subject} ${path}.${leaf}: audited ${reads[key]}, documented ${a}`);
      }
      if (list === 'dropoutReports') {
        const pa = access(subject, 'DropoutReport.persuasionActions');
        for (let i = 0; i < ref.length; i++) {
          if (pa !== 'ALLOW') {
            if (got[i].persuasionActions !== null) problems.push(`${subject} ${path}.persuasionActions served though ${pa}`);
            continue;
          }
          for (const leaf of ACTION_LEAVES) {
            const a = access(subject, `PersuasionAction.${leaf}`);
            ref[i].persuasionActions.forEach((action: any, j: number) => {
              const value = got[i].persuasionActions[j]?.[leaf];
              if (a === 'ALLOW' && JSON.stringify(value) !== JSON.stringify(action[leaf])) problems.push(`${subject} ${path}.persuasionActions.${leaf}: ${value} ≠ ${action[leaf]}`);
              if (a === 'DENY' && value !== null) problems.push(`${subject} ${path}.persuasionActions.${leaf}: served though DENY`);
            });
            if (reads && reads[`PersuasionAction.${leaf}`] !== a) problems.push(`${subject} PersuasionAction.${leaf}: audited ${reads[`PersuasionAction.${leaf}`]}, documented ${a}`);
          }
        }
      }
    }
    return problems;
  };

  /** The child's records as their owners read them (EDUCATION, then JUSTICE), merged. */
  const ownersView = async (query: string, variables: Record<string, unknown>, pick: (data: any) => any) => {
    const ed = await t.gql(await t.token(ED, { region: STREET }), query, variables, PURPOSE);
    const ju = await t.gql(await t.token(JU, { region: STREET }), query, variables, PURPOSE);
    const a = pick(ed.data);
    const b = pick(ju.data);
    return Object.fromEntries(LISTS.map(([list, , _]) => [list, a[list] ?? b[list]]));
  };

  it('pin: minor(id) { every education and justice list and field }: each subject is served what docs/permissions.md says, and audited so', async () => {
    const query = `query($id: ID!) { ${FULL} }`;
    const reference = await ownersView(query, { id: child.id }, (d) => d.minor);
    expect(reference.dropoutReports.length).toBeGreaterThan(0);
    expect(reference.incarceratedParents.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const [subject] of SUBJECT_TOKENS) {
      const r = await post(t, await subjectToken(t, subject, { region: STREET }), { query, variables: { id: child.id } }, PURPOSE);
      if (access(subject, 'Query.minor') !== 'ALLOW') {
        expect(r.json.data?.minor ?? null).toBeNull();
        expect(errorsAt(r.json).get('minor')).toBe('FORBIDDEN');
        continue;
      }
      const reads = (await eventOf(t, r.requestId)).reads.find((x: any) => x.minorId === child.id)?.fields;
      if (!reads) problems.push(`${subject}: no read of the child audited`);
      problems.push(...checkChild(subject, r.json, r.json.data.minor, 'minor', reference, reads));
    }
    expect(problems).toEqual([]);
  });

  it('pin: the same records reached from a record back to its child (dropoutReports page → minor, incarceratedParents page → minor) are served by the same table', async () => {
    const problems: string[] = [];
    const inner = FULL.replace('minor(id: $id) ', '');
    for (const [root, filter] of [['dropoutReports', 'filter: { school: "清波中学" }'], ['incarceratedParents', 'filter: { statuses: [IN_CUSTODY] }']]) {
      const query = `{ ${root}(${filter}, first: 100) { nodes { minor ${inner} } } }`;
      const ownerTok = await t.token(root === 'dropoutReports' ? ED : JU, { region: STREET });
      const own = await t.gql(ownerTok, query, {}, PURPOSE);
      const at = own.data[root].nodes.findIndex((n: any) => n.minor.id === child.id);
      expect(at).toBeGreaterThanOrEqual(0);
      const reference = await ownersView(`query($id: ID!) { ${FULL} }`, { id: child.id }, (d) => d.minor);
      for (const [subject] of SUBJECT_TOKENS) {
        const r = await post(t, await subjectToken(t, subject, { region: STREET }), { query }, PURPOSE);
        if (access(subject, `Query.${root}`) !== 'ALLOW') {
          expect(r.json.data?.[root] ?? null).toBeNull();
          if (errorsAt(r.json).get(root) !== 'FORBIDDEN') problems.push(`${subject} ${root}: ${JSON.stringify(r.json.errors)}`);
          continue;
        }
        if (!r.json.data) { problems.push(`${subject} ${root}: ${JSON.stringify(r.json).slice(0, 600)}`); continue; }
        const nodes = r.json.data[root].nodes;
        const i = nodes.findIndex((n: any) => n.minor.id === child.id);
        if (i < 0) {
          problems.push(`${subject} ${root}: the child's record missing`);
          continue;
        }
        const reads = (await eventOf(t, r.requestId)).reads.find((x: any) => x.minorId === child.id)?.fields;
        if (!reads) problems.push(`${subject} ${root}: no read of the child audited`);
        problems.push(...checkChild(subject, r.json, nodes[i].minor, `${root}.nodes.minor`, reference, reads).map((p) => `${root}: ${p}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('pin: the dropoutReports and incarceratedParents pages serve each node field by the table, to each subject, and audit it so', async () => {
    const problems: string[] = [];
    const pages: [root: string, type: string, leaves: string[], owner: Department][] = [
      ['dropoutReports', 'DropoutReport', LISTS[1][2], ED],
      ['incarceratedParents', 'IncarceratedParent', LISTS[4][2], JU],
    ];
    for (const [root, type, leaves, owner] of pages) {
      const query = `{ ${root}(first: 100) { totalCount nodes { ${leaves.join(' ')} minor { id } } } }`;
      const own = await t.gql(await t.token(owner, { region: STREET }), query, {}, PURPOSE);
      const ref = own.data[root].nodes.find((n: any) => n.minor.id === child.id);
      expect(ref).toBeDefined();
      for (const [subject] of SUBJECT_TOKENS) {
        const r = await post(t, await subjectToken(t, subject, { region: STREET }), { query }, PURPOSE);
        if (access(subject, `Query.${root}`) !== 'ALLOW') {
          if ((r.json.data?.[root] ?? null) !== null || errorsAt(r.json).get(root) !== 'FORBIDDEN') problems.push(`${subject} ${root}: ${JSON.stringify(r.json).slice(0, 300)}`);
          continue;
        }
        if (r.json.data?.[root]?.totalCount !== own.data[root].totalCount) problems.push(`${subject} ${root}.totalCount ${r.json.data?.[root]?.totalCount} ≠ ${own.data[root].totalCount}`);
        const node = r.json.data[root].nodes.find((n: any) => n.minor?.id === child.id);
        const reads = (await eventOf(t, r.requestId)).reads.find((x: any) => x.minorId === child.id)?.fields ?? {};
        const errors = errorsAt(r.json);
        for (const leaf of leaves) {
          const a = access(subject, `${type}.${leaf}`);
          if (a === 'ALLOW' && JSON.stringify(node?.[leaf]) !== JSON.stringify(ref[leaf])) problems.push(`${subject} ${root}.${leaf}: ${node?.[leaf]}`);
          if (a === 'DENY' && (node?.[leaf] !== null || errors.get(`${root}.nodes.${leaf}`) !== 'FORBIDDEN')) problems.push(`${subject} ${root}.${leaf}: served though DENY`);
          if (reads[`${type}.${leaf}`] !== a) problems.push(`${subject} ${root}.${leaf}: audited ${reads[`${type}.${leaf}`]}, documented ${a}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('pin: a page of a street-scoped officer lists and counts only its street; another street\'s record never appears', async () => {
    for (const [dept, root] of [[ED, 'dropoutReports'], [PO, 'dropoutReports'], [YL, 'dropoutReports'], [CA, 'dropoutReports'], [JU, 'incarceratedParents'], [CA, 'incarceratedParents']] as const) {
      const r = await t.gql(await t.token(dept, { region: STREET }), `{ ${root}(first: 1000) { totalCount nodes { id minor { id } } } }`, {}, PURPOSE);
      expect(r.errors).toBeUndefined();
      const table = root === 'dropoutReports' ? 'education.dropout_report' : 'justice.incarcerated_parent';
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM ${table} r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code LIKE $1`, [`${STREET}%`]);
      expect(r.data[root].totalCount).toBe(n);
      const ids = r.data[root].nodes.map((x: any) => x.id);
      expect(ids).not.toContain(outsideIds[root === 'dropoutReports' ? 'DropoutReport' : 'IncarceratedParent']);
      expect(ids).toContain(ids_[root === 'dropoutReports' ? 'DropoutReport' : 'IncarceratedParent']);
    }
  });

  const ACT = `{ actedOn: "${daysAgo(5)}", method: PHONE_CALL, actor: "班主任", note: "电话劝返" }`;
  const CLOSE = `{ actedOn: "${daysAgo(5)}", method: PHONE_CALL, actor: "班主任", note: "电话劝返", outcome: RETURNED_TO_SCHOOL }`;

  it('pin: another street\'s child, its records and sub-records are answered as an unknown id (reads, history cursors, recordPersuasionAction, updates)', async () => {
    const ed = await t.token(ED, { region: STREET });
    const ju = await t.token(JU, { region: STREET });
    const probes: [token: string, query: string, outside: Record<string, unknown>][] = [
      [ed, `query($id: ID!) { minor(id: $id) { id dropoutReports { id } schoolEnrollments { id } } }`, { id: outside.id }],
      [ju, `query($id: ID!) { minor(id: $id) { id incarceratedParents { id } communityCorrections { id } } }`, { id: outside.id }],
      [ed, `query($id: ID!, $a: ID) { minor(id: $id) { dropoutReports(after: $a) { id } } }`, { id: child.id, a: outsideIds.DropoutReport }],
      [ju, `query($id: ID!, $a: ID) { minor(id: $id) { incarceratedParents(after: $a) { id } } }`, { id: child.id, a: outsideIds.IncarceratedParent }],
      [ed, `mutation($id: ID!) { recordPersuasionAction(reportId: $id, input: ${ACT}) { id } }`, { id: outsideIds.DropoutReport }],
      [ed, `mutation($id: ID!) { recordPersuasionAction(reportId: $id, input: ${CLOSE}) { id } }`, { id: outsideIds.DropoutReport }],
      [ed, `mutation($id: ID!) { updateDropoutReport(id: $id, input: { school: "x", reportedOn: "${daysAgo(20)}", daysAbsent: 30 }) { id } }`, { id: outsideIds.DropoutReport }],
      [ju, `mutation($id: ID!) { updateCommunityCorrection(id: $id, input: { startedOn: "${daysAgo(30)}", endsOn: "${daysAgo(-300)}", status: REVOKED, supervisingOffice: "x" }) { id } }`, { id: outsideIds.CommunityCorrection }],
    ];
    for (const [token, query, out] of probes) {
      const key = Object.keys(out).find((k) => Object.values(outsideIds).includes(out[k] as string) || out[k] === outside.id)!;
      await expectAnsweredAsUnknown(t, token, query, out, { ...out, [key]: randomUUID() });
    }
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [outsideIds.DropoutReport]);
    expect(n).toBe(1);
    const [{ status }] = await t.sql(`SELECT status FROM education.dropout_report WHERE id = $1`, [outsideIds.DropoutReport]);
    expect(status).toBe('OPEN');
  });




  it('pin: a filtered count and a next cursor of dropoutReports / incarceratedParents are reads of every child they depend on, and need a purpose', async () => {
    for (const [dept, root, filter, table, field] of [
      [PO, 'dropoutReports', 'statuses: [OPEN]', `education.dropout_report r WHERE r.status = 'OPEN'`, 'DropoutReport.status'],
      [YL, 'dropoutReports', 'school: "清波中学"', `education.dropout_report r WHERE r.school = '清波中学'`, 'DropoutReport.school'],
      [CA, 'incarceratedParents', 'statuses: [IN_CUSTODY]', `justice.incarcerated_parent r WHERE r.status = 'IN_CUSTODY'`, 'IncarceratedParent.status'],
    ] as const) {
      const token = await t.token(dept, { region: STREET });
      const expected: string[] = (
        await t.sql(`SELECT DISTINCT r.minor_id FROM ${table} AND EXISTS (SELECT 1 FROM registry.minor_jurisdiction j WHERE j.minor_id = r.minor_id AND j.grid_code LIKE $1)`, [`${STREET}%`])
      ).map((x) => x.minor_id);
      expect(expected).toContain(child.id);
      const r = await post(t, token, { query: `{ ${root}(filter: { ${filter} }, first: 1) { totalCount } }` }, PURPOSE);
      expect(r.json.errors).toBeUndefined();
      const reads = (await eventOf(t, r.requestId)).reads;
      expect(reads.map((x: any) => x.minorId).sort()).toEqual([...expected].sort());
      for (const read of reads) expect(read.fields[field]).toBe('ALLOW');
      expect(reads.every((x: any) => !Object.keys(x.fields).some((k) => k.endsWith('.institution') || k.endsWith('.daysAbsent')))).toBe(true);
      const bare = await post(t, token, { query: `{ ${root}(filter: { ${filter} }, first: 1) { totalCount nextCursor } }` }, {});
      expect(bare.json.data[root]).toEqual({ totalCount: null, nextCursor: null });
      expect(errorCodes(bare.json)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    }
  });

  it('pin: the barred-person registry (从业限制) is read by police and justice only; every other department and role is refused', async () => {
    const problems: string[] = [];
    for (const [subject] of SUBJECT_TOKENS) {
      const r = await t.gql(await subjectToken(t, subject, { region: STREET }), `{ barredPersons(first: 5, includeRevoked: true) { id name offence judgementReference } }`, {}, PURPOSE);
      const a = access(subject, 'Query.barredPersons');
      if (a === 'ALLOW' && (r.errors || !Array.isArray(r.data?.barredPersons))) problems.push(`${subject}: ${JSON.stringify(r.errors)}`);
      if (a !== 'ALLOW' && (r.data?.barredPersons != null || !errorCodes(r).includes('FORBIDDEN'))) problems.push(`${subject}: served ${JSON.stringify(r.data)}`);
    }
    expect(problems).toEqual([]);
  });

  it('pin: a write\'s answer reaches no other ledger: a school creating a record reads no justice list on its child, justice no school list', async () => {
    const ed = await t.token(ED, { region: STREET });
    const ju = await t.token(JU, { region: STREET });
    const a = await t.gql(ed, `mutation($m: ID!) { createBullyingCase(minorId: $m, input: { school: "清波中学", occurredOn: "${daysAgo(2)}", role: VICTIM, severity: GENERAL, status: OPEN, description: "被推搡" }) { id minor { id incarceratedParents { id } communityCorrections { id } legalAidCases { id } } } }`, { m: child.id }, PURPOSE);
    expect(a.data.createBullyingCase.minor).toEqual({ id: child.id, incarceratedParents: null, communityCorrections: null, legalAidCases: null });
    expect(errorCodes(a)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    const b = await t.gql(ju, `mutation($m: ID!) { createLegalAidCase(minorId: $m, input: { openedOn: "${daysAgo(2)}", matter: OTHER, status: OPEN, provider: "上城区法律援助中心", details: "咨询" }) { id minor { id dropoutReports { id } bullyingCases { id } educationAid { id } schoolEnrollments { id } } } }`, { m: child.id }, PURPOSE);
    expect(b.data.createLegalAidCase.minor).toEqual({ id: child.id, dropoutReports: null, bullyingCases: null, educationAid: null, schoolEnrollments: null });
    expect(errorCodes(b)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  });

  it('pin: malformed list arguments are refused on their field, never INTERNAL', async () => {
    const ed = await t.token(ED, { region: STREET });
    const ju = await t.token(JU, { region: STREET });
    const b64 = (x: string) => Buffer.from(x).toString('base64url');
    const q = `query($f: DropoutReportFilter, $a: String, $n: Int!) { dropoutReports(filter: $f, after: $a, first: $n) { nodes { id } } }`;
    const iq = `query($f: IncarceratedParentFilter, $n: Int!) { incarceratedParents(filter: $f, first: $n) { nodes { id } } }`;
    for (const [token, query, variables, field] of [
      [ed, q, { f: { school: '' }, n: 5 }, 'filter.school'],
      [ed, q, { f: { statuses: [] }, n: 5 }, 'filter.statuses'],
      [ed, q, { n: 0 }, 'first'],
      [ed, q, { a: 'zzz', n: 5 }, 'after'],
      [ed, q, { a: b64(`incarcerated-parent:${ids.IncarceratedParent}`), n: 5 }, 'after'],
      [ed, q, { a: b64(`dropout-report:{${ids.DropoutReport}}`), n: 5 }, 'after'],
      [ju, iq, { f: { releaseWithinDays: 0 }, n: 5 }, 'filter.releaseWithinDays'],
      [ju, iq, { f: { releaseWithinDays: 367 }, n: 5 }, 'filter.releaseWithinDays'],
      [ed, `query($id: ID!, $a: ID) { minor(id: $id) { dropoutReports { persuasionActions(after: $a) { id } } } }`, { id: child.id, a: ids.DropoutReport }, 'after'],
    ] as const) {
      const r = await t.gql(token, query, variables as any, PURPOSE);
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
    }
  });




  it('pin: a child who turned 18 today in China (its records made while a minor) is gone from every education and justice read and write, as an unknown id; one turning 18 tomorrow is not', async () => {
    const today = daysAgo(0);
    const shift = (day: string) => `${Number(day.slice(0, 4)) - 18}${day.slice(4)}`;
    const adult = await childAtLeast(t, STREET, 14, 11);
    const almost = await childAtLeast(t, STREET, 14, 12);
    const made: Record<string, Record<string, string>> = { adult: {}, almost: {} };
    await seed(adult.id, made.adult);
    await seed(almost.id, made.almost);
    await asDba(t, (c) => c.query(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult.id, shift(today)]));
    await asDba(t, (c) => c.query(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [almost.id, shift(daysAgo(-1))]));
    const ed = await t.token(ED, { region: STREET });
    const ju = await t.token(JU, { region: STREET });
    const dropouts = await t.gql(ed, `{ dropoutReports(first: 1000) { nodes { id } } }`, {}, PURPOSE);
    const custody = await t.gql(ju, `{ incarceratedParents(first: 1000) { nodes { id } } }`, {}, PURPOSE);
    const listed = [...dropouts.data.dropoutReports.nodes, ...custody.data.incarceratedParents.nodes].map((n: any) => n.id);
    expect(listed).toEqual(expect.arrayContaining([made.almost.DropoutReport, made.almost.IncarceratedParent]));
    expect(listed).not.toContain(made.adult.DropoutReport);
    expect(listed).not.toContain(made.adult.IncarceratedParent);
    const seen = await t.gql(ju, `query($id: ID!) { minor(id: $id) { id incarceratedParents { id } } }`, { id: almost.id }, PURPOSE);
    expect(seen.data.minor).toEqual({ id: almost.id, incarceratedParents: [{ id: made.almost.IncarceratedParent }] });
    await expectAnsweredAsUnknown(t, ju, `query($id: ID!) { minor(id: $id) { id incarceratedParents { id } communityCorrections { id } } }`, { id: adult.id }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, ed, `mutation($id: ID!) { recordPersuasionAction(reportId: $id, input: ${ACT}) { id } }`, { id: made.adult.DropoutReport }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, ju, `mutation($id: ID!) { updateLegalAidCase(id: $id, input: { openedOn: "${daysAgo(7)}", matter: OTHER, status: CLOSED, provider: "p", details: "d" }) { id } }`, { id: made.adult.LegalAidCase }, { id: randomUUID() });
  });

});
