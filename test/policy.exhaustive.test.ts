import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { ageOn } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { applyMask, SENSITIVE_CATEGORIES } from '../src/policy/masks';
import { FEDERATION_FIELDS } from '../src/policy/policy';
import { Access, PolicyRow } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { referralGrants } from '../src/subgraphs/workflow/workflow.policy';
import { DEPARTMENT_MUTATION_CALLS, DEPARTMENT_QUERY_PROBES, departmentProbe, DepartmentRecords, loadDepartmentRecords } from './support/department-probes';
import { GqlResult, startTestHub, TestHub } from './support/test-hub';

/**
 * Every subject × every row of the policy table, through the public endpoint: ALLOW returns the
 * value stored in Postgres, MASK the masked value, DENY null with FORBIDDEN on the path (or on an
 * ancestor the subject may not enter).
 */
const policy = buildPolicy();
const ZERO = '00000000-0000-4000-8000-000000000000';

type Path = (string | number)[];
interface Probe {
  query: string;
  variables?: Record<string, unknown>;
  path: Path;
  /** Stored value in API form; undefined for object-typed fields (checked for presence only). */
  truth?: unknown;
}

const tokenFor = (t: TestHub, s: PolicySubject) =>
  s === Role.AUDITOR || s === Role.DASHBOARD
    ? t.token(Department.CIVIL_AFFAIRS, { role: s })
    : s === Role.REPORTER || s === Role.EMPLOYER
      ? t.token(Department.EDUCATION, { role: s, user: userOf(s) })
      : t.token(s as Department);
/** The user id each subject's probe token carries (officers: the test hub's default). */
const userOf = (s: PolicySubject) => (s === Role.REPORTER || s === Role.EMPLOYER ? `${s.toLowerCase()}-probe` : `${s.toLowerCase()}-test`);
const isDept = (s: PolicySubject): s is Department => (Object.values(Department) as string[]).includes(s);

const valueAt = (data: unknown, path: Path) => path.reduce<any>((v, k) => (v == null ? v : v[k]), data);
const isPrefix = (prefix: Path, path: Path) => prefix.length <= path.length && prefix.every((k, i) => path[i] === k);
const camelToSnake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const iso = (v: unknown) => (v == null ? v : new Date(v as string).toISOString());

describe('field-level policy, exhaustive', () => {
  let t: TestHub;
  let objectFields: Set<string>;
  let apiFields: string[];
  let minor: Record<string, any>;
  let guardian: Record<string, any>;
  let guardianIndex: number;
  let categoryIndex: number;
  let category: Record<string, any>;
  let assessment: Record<string, any>;
  let visit: Record<string, any>;
  let regionIndex: number;
  let region: Record<string, any>;
  let auditSeq: number;
  let auditRow: Record<string, any>;
  let audited: Record<string, any>;
  let minorsUnder18: number;
  let departmentRecords: DepartmentRecords;
  let report: Record<string, any>;
  let transition: Record<string, any>;
  /** Per department: a referral it receives (civil affairs, which sent them all: the one to education). */
  const referralOf = new Map<PolicySubject, Record<string, any>>();

  beforeAll(async () => {
    // Workflow jobs off (no notification may appear between a probe's ground truth and its query);
    // the employer probes re-screen more often than a real employer may.
    t = await startTestHub({ env: { HUB_RESCREENS_PER_YEAR: '100' } });
    // A child whose record exercises every mask: a sensitive category, a guardian with phone and address, visits.
    [minor] = await t.sql(`
      SELECT m.*, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date FROM registry.minor m
      WHERE EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category = ANY($1))
        AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id AND g.phone IS NOT NULL AND g.address IS NOT NULL AND g.situation <> 'NORMAL')
        AND EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id)
      ORDER BY m.id LIMIT 1`, [[...SENSITIVE_CATEGORIES]]);
    expect(minor).toBeDefined();
    // An audited request with a purpose reference, reads and a change, and a run of refusals
    // (an anomaly), so that every audit type has something to show.
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "audit probe" }) { id } }`, { id: minor.id }, { 'x-purpose': encodeURIComponent('CASE_HANDLING; 2026-民-0042') });
    [minor] = await t.sql(`SELECT m.*, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date FROM registry.minor m WHERE id = $1`, [minor.id]);
    const [target] = await t.sql(`SELECT max(seq)::int AS seq FROM audit.event`);
    auditSeq = target.seq;
    [auditRow] = await t.sql(`SELECT seq, hash, prev_hash, body FROM audit.event WHERE seq = $1`, [auditSeq]);
    audited = JSON.parse(auditRow.body);
    const prober = await t.token(Department.EDUCATION, { user: 'prober' });
    for (let i = 0; i < 5; i++) await t.gql(prober, `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, { n: minor.id_number });

    const guardians = await t.sql(`SELECT * FROM registry.guardian WHERE minor_id = $1 ORDER BY id`, [minor.id]);
    guardianIndex = guardians.findIndex((g) => g.phone && g.address && g.situation !== 'NORMAL');
    guardian = guardians[guardianIndex];
    const categories = await t.sql(
      `SELECT category, to_char(identified_at, 'YYYY-MM-DD') AS identified_at FROM registry.minor_category WHERE minor_id = $1 ORDER BY category`,
      [minor.id],
    );
    categoryIndex = categories.findIndex((c) => SENSITIVE_CATEGORIES.has(c.category));
    category = categories[categoryIndex];
    [assessment] = await t.sql(`SELECT * FROM registry.risk_assessment WHERE minor_id = $1 ORDER BY assessed_at DESC, id LIMIT 1`, [minor.id]);
    [visit] = await t.sql(`SELECT * FROM registry.visit WHERE minor_id = $1 ORDER BY visited_at DESC, id LIMIT 1`, [minor.id]);
    [{ n: minorsUnder18 }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE date_part('year', age(statistics.china_day(now()), birth_date)) < 18`);
    const regions = await t.sql(`SELECT * FROM registry.region ORDER BY code`);
    regionIndex = regions.findIndex((r) => r.code === minor.grid_code);
    region = regions[regionIndex];
    departmentRecords = await loadDepartmentRecords(t);

    // Workflow records about the probe child: a report (filed by a reporter, verified by police)
    // and one by each department, a referral from civil affairs to every other department, a
    // webhook per department and a barred person.
    const reporter = await tokenFor(t, Role.REPORTER);
    const file = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
    const reportInput = { harmType: 'NEGLECT', observation: 'probe', location: 'probe', regionCode: minor.grid_code, urgency: 'NORMAL', childId: minor.id };
    const filed = await t.gql(reporter, file, { input: reportInput }, {});
    await t.gql(await t.token(Department.POLICE), `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "probe") { id } }`, { id: filed.data.fileMandatoryReport.id });
    [report] = await t.sql(`SELECT * FROM workflow.mandatory_report WHERE id = $1`, [filed.data.fileMandatoryReport.id]);
    [transition] = await t.sql(`SELECT * FROM workflow.report_transition WHERE report_id = $1`, [report.id]);
    for (const d of Object.values(Department)) {
      const token = await t.token(d);
      await t.gql(token, file, { input: reportInput }, {});
      await t.gql(token, `mutation { registerWebhook(url: "http://127.0.0.1:9/${d}") { secret } }`);
      if (d === Department.CIVIL_AFFAIRS) continue;
      const r = await t.gql(civil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
        input: { minorId: minor.id, type: 'EDUCATION_AID', toDepartment: d, need: 'probe' },
      });
      referralOf.set(d, (await t.sql(`SELECT * FROM workflow.referral WHERE id = $1`, [r.data.createReferral.id]))[0]);
    }
    referralOf.set(Department.CIVIL_AFFAIRS, referralOf.get(Department.EDUCATION)!);
    await t.gql(await t.token(Department.POLICE), `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`, {
      input: { idNumber: buildIdNumber('330102', '1980-01-01', 11), name: '某甲', offence: 'ABUSE', judgementReference: 'probe' },
    });
    // The newest bar is a revoked one, so that its revocation fields have values to compare.
    const revoked = await t.gql(await t.token(Department.POLICE), `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`, {
      input: { idNumber: buildIdNumber('330102', '1980-01-01', 13), name: '某乙', offence: 'OTHER', judgementReference: 'probe', restrictedUntil: '2049-12-31' },
    });
    const revocation = await t.gql(await t.token(Department.JUSTICE), `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "probe") }`, { id: revoked.data.addBarredPerson.id });
    expect(revocation.errors).toBeUndefined();

    const intro = await t.gql(
      await t.token(Department.CIVIL_AFFAIRS),
      `{ __schema { types { name kind fields { name type { kind ofType { kind ofType { kind ofType { kind } } } } } } } }`,
    );
    const unwrap = (ty: any): string => (ty.ofType ? unwrap(ty.ofType) : ty.kind);
    objectFields = new Set();
    apiFields = [];
    for (const type of intro.data.__schema.types) {
      if (type.kind !== 'OBJECT' || type.name.startsWith('__')) continue;
      for (const f of type.fields) {
        apiFields.push(`${type.name}.${f.name}`);
        if (unwrap(f.type) === 'OBJECT') objectFields.add(`${type.name}.${f.name}`);
      }
    }
  });
  afterAll(() => t.stop());

  it('covers every field of the public schema, and lists no field the schema lacks', () => {
    const rows = policy.all().map((r) => `${r.type}.${r.field}`);
    expect(apiFields.filter((f) => !rows.includes(f))).toEqual([]);
    expect(rows.filter((r) => !apiFields.includes(r) && !FEDERATION_FIELDS.has(r))).toEqual([]);
  });

  const sel = (key: string, field: string) => (objectFields.has(key) ? `${field} { __typename }` : field);
  const minorProbe = (inner: string, path: Path, truth?: unknown): Probe => ({
    query: `query($id: ID!) { minor(id: $id) { ${inner} } }`,
    variables: { id: minor.id },
    path: ['minor', ...path],
    truth,
  });

  const CHECK_INPUT = `{ idNumber: "${buildIdNumber('330102', '1990-01-01', 21)}", name: "x", authorizationReference: "probe" }`;
  const RESCREEN = `employmentRescreen(candidates: [{ idNumber: "${buildIdNumber('330102', '1990-01-01', 21)}", name: "x" }], authorizationReference: "probe")`;
  const newest = async (sql: string, params: unknown[]) => (await t.sql(sql, params))[0] ?? {};

  async function probe(row: PolicyRow, subject: PolicySubject): Promise<Probe> {
    const key = `${row.type}.${row.field}`;
    const f = row.field;
    const column = (rec: Record<string, any>) => {
      const v = rec[camelToSnake(f)];
      return v instanceof Date ? v.toISOString() : v;
    };
    switch (row.type) {
      case 'Query':
        return {
          minor: { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: minor.id }, path: ['minor', 'id'], truth: minor.id },
          minorByIdNumber: {
            query: `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`,
            variables: { n: minor.id_number },
            path: ['minorByIdNumber', 'id'],
            truth: minor.id,
          },
          minors: { query: `{ minors(first: 1) { __typename } }`, path: ['minors'] },
          auditEvents: { query: `{ auditEvents(first: 1) { __typename } }`, path: ['auditEvents'] },
          minorAccessHistory: { query: `query($id: ID!) { minorAccessHistory(minorId: $id) { __typename } }`, variables: { id: minor.id }, path: ['minorAccessHistory'] },
          auditVerify: { query: `{ auditVerify { ok } }`, path: ['auditVerify', 'ok'], truth: true },
          auditAnomalies: { query: `{ auditAnomalies { __typename } }`, path: ['auditAnomalies'] },
          regions: { query: `{ regions { code } }`, path: ['regions', 0, 'code'], truth: minor.grid_code.slice(0, 6) },
          minorCounts: { query: `{ minorCounts(level: DISTRICT) { total { value } } }`, path: ['minorCounts', 'total', 'value'], truth: minorsUnder18 },
          statisticsRates: { query: `{ statisticsRates(level: STREET) { __typename } }`, path: ['statisticsRates'] },
          monthlyTrend: { query: `{ monthlyTrend { __typename } }`, path: ['monthlyTrend'] },
          statisticsFreshness: { query: `{ statisticsFreshness { __typename } }`, path: ['statisticsFreshness'] },
          mandatoryReports: { query: `{ mandatoryReports(first: 1) { __typename } }`, path: ['mandatoryReports'] },
          mandatoryReport: { query: `query($id: ID!) { mandatoryReport(id: $id) { id } }`, variables: { id: report.id }, path: ['mandatoryReport', 'id'], truth: report.id },
          overdueReports: { query: `{ overdueReports { __typename } }`, path: ['overdueReports'] },
          myReports: { query: `{ myReports { __typename } }`, path: ['myReports'] },
          referrals: { query: `{ referrals(first: 1) { __typename } }`, path: ['referrals'] },
          referral: { query: `query($id: ID!) { referral(id: $id) { id } }`, variables: { id: referralOf.get(subject)?.id ?? ZERO }, path: ['referral', 'id'], truth: referralOf.get(subject)?.id },
          notifications: { query: `{ notifications(first: 1) { __typename } }`, path: ['notifications'] },
          webhooks: { query: `{ webhooks { __typename } }`, path: ['webhooks'] },
          barredPersons: { query: `{ barredPersons(first: 1) { __typename } }`, path: ['barredPersons'] },
          overdueVisits: { query: `{ overdueVisits(first: 1) { __typename } }`, path: ['overdueVisits'] },
          ...DEPARTMENT_QUERY_PROBES,
          statisticsScope: { query: `{ statisticsScope { regionCode } }`, path: ['statisticsScope', 'regionCode'], truth: minor.grid_code.slice(0, 6) },
        }[f]!;
      case 'Mutation': {
        const calls: Record<string, string> = {
          createMinor: `createMinor(input: { name: "x", idNumber: "123", householdRegistration: "x", currentAddress: "x", gridCode: "${minor.grid_code}" }) { __typename }`,
          updateMinor: `updateMinor(id: "${ZERO}", input: { name: "x" }) { __typename }`,
          addGuardian: `addGuardian(minorId: "${ZERO}", input: { relationship: FATHER, name: "x" }) { __typename }`,
          removeGuardian: `removeGuardian(guardianId: "${ZERO}")`,
          addCategory: `addCategory(minorId: "${ZERO}", category: POVERTY) { __typename }`,
          removeCategory: `removeCategory(minorId: "${ZERO}", category: POVERTY) { __typename }`,
          recordAssessment: `recordAssessment(minorId: "${ZERO}", input: { level: RED, reasons: "x" }) { __typename }`,
          recordVisit: `recordVisit(minorId: "${ZERO}", input: { notes: "x" }) { __typename }`,
        };
        Object.assign(calls, {
          fileMandatoryReport: `fileMandatoryReport(input: { harmType: OTHER, observation: " ", location: "x", regionCode: "x", urgency: NORMAL }) { __typename }`,
          transitionReport: `transitionReport(id: "${ZERO}", to: VERIFYING, note: "x") { __typename }`,
          createReferral: `createReferral(input: { minorId: "${ZERO}", type: EDUCATION_AID, toDepartment: "NONE", need: "x" }) { __typename }`,
          acceptReferral: `acceptReferral(id: "${ZERO}") { __typename }`,
          declineReferral: `declineReferral(id: "${ZERO}", reason: "x") { __typename }`,
          completeReferral: `completeReferral(id: "${ZERO}", outcome: "x") { __typename }`,
          acknowledge: `acknowledge(id: "${ZERO}") { __typename }`,
          registerWebhook: `registerWebhook(url: "not a url") { __typename }`,
          deactivateWebhook: `deactivateWebhook(id: "${ZERO}") { __typename }`,
          addBarredPerson: `addBarredPerson(input: { idNumber: "1", name: "x", offence: OTHER, judgementReference: "x" }) { __typename }`,
          removeBarredPerson: `removeBarredPerson(id: "${ZERO}", reason: "x")`,
          employmentCheck: `employmentCheck(input: { idNumber: "1", name: "x", authorizationReference: "x" }) { __typename }`,
          employmentRescreen: `employmentRescreen(candidates: [], authorizationReference: "x") { __typename }`,
        });
        Object.assign(calls, DEPARTMENT_MUTATION_CALLS);
        if (!calls[f]) throw new Error(`no probe for ${key}`);
        return { query: `mutation { ${calls[f]} }`, path: [f] };
      }
      case 'MinorConnection':
        return { query: `{ minors(first: 1) { ${sel(key, f)} } }`, path: ['minors', f] };
      case 'MinorEdge':
        return { query: `{ minors(first: 1) { edges { ${sel(key, f)} } } }`, path: ['minors', 'edges', 0, f] };
      case 'PageInfo':
        return { query: `{ minors(first: 1) { pageInfo { ${sel(key, f)} } } }`, path: ['minors', 'pageInfo', f] };
      case 'Minor': {
        const truth: Record<string, unknown> = { age: ageOn(minor.birth_date, new Date()), grid: undefined };
        return minorProbe(sel(key, f), [f], objectFields.has(key) ? undefined : f in truth ? truth[f] : column(minor));
      }
      case 'Guardian':
        return minorProbe(`guardians { ${sel(key, f)} }`, ['guardians', guardianIndex, f], column(guardian));
      case 'MinorCategory':
        return minorProbe(`categories { ${f} }`, ['categories', categoryIndex, f], column(category));
      case 'RiskAssessment':
        return minorProbe(`latestAssessment { ${f} }`, ['latestAssessment', f], column(assessment));
      case 'Visit':
        return minorProbe(`visits { ${f} }`, ['visits', 0, f], column(visit));
      case 'AuditEventConnection':
        return { query: `{ auditEvents(first: 1) { ${sel(key, f)} } }`, path: ['auditEvents', f] };
      case 'AuditEventEdge':
        return { query: `{ auditEvents(first: 1) { edges { ${sel(key, f)} } } }`, path: ['auditEvents', 'edges', 0, f] };
      case 'AuditPageInfo':
        return { query: `{ auditEvents(first: 1) { pageInfo { ${f} } } }`, path: ['auditEvents', 'pageInfo', f] };
      case 'AuditEvent': {
        const truth: Record<string, unknown> = {
          seq: String(auditRow.seq),
          hash: auditRow.hash,
          prevHash: auditRow.prev_hash,
          variableNames: Object.keys(audited.variables),
          time: undefined,
        };
        const value = f in truth ? truth[f] : audited[f];
        return {
          query: `{ auditEvents(first: 1, after: "${auditSeq + 1}") { edges { node { ${sel(key, f)} } } } }`,
          path: ['auditEvents', 'edges', 0, 'node', f],
          truth: objectFields.has(key) || (value !== null && typeof value === 'object' && !Array.isArray(value)) ? undefined : value,
        };
      }
      case 'PurposeRecord':
      case 'ChildReadRecord':
      case 'ChangeRecord': {
        const parent = { PurposeRecord: 'purpose', ChildReadRecord: 'reads', ChangeRecord: 'changes' }[row.type]!;
        const list = parent !== 'purpose';
        return {
          query: `{ auditEvents(first: 1, after: "${auditSeq + 1}") { edges { node { ${parent} { ${sel(key, f)} } } } } }`,
          path: ['auditEvents', 'edges', 0, 'node', parent, ...(list ? [0] : []), f],
          truth: objectFields.has(key) || f === 'fields' ? undefined : list ? audited[parent][0][f] : audited[parent][f],
        };
      }
      case 'FieldRead':
        return {
          query: `{ auditEvents(first: 1, after: "${auditSeq + 1}") { edges { node { reads { fields { ${f} } } } } } }`,
          path: ['auditEvents', 'edges', 0, 'node', 'reads', 0, 'fields', 0, f],
        };
      case 'MinorAccess':
        return {
          query: `query($id: ID!) { minorAccessHistory(minorId: $id) { ${sel(key, f)} } }`,
          variables: { id: minor.id },
          path: ['minorAccessHistory', 0, f],
        };
      case 'AuditChainStatus':
        return { query: `{ auditVerify { ${sel(key, f)} } }`, path: ['auditVerify', f], truth: f === 'ok' ? true : undefined };
      case 'ChainBreakRecord':
        return { query: `{ auditVerify { firstBreak { ${f} } } }`, path: ['auditVerify', 'firstBreak', f] };
      case 'AuditAnomaly':
        return { query: `{ auditAnomalies { ${f} } }`, path: ['auditAnomalies', 0, f] };
      case 'StatisticsTable':
        return { query: `{ minorCounts(level: DISTRICT, by: [RISK_LEVEL]) { ${sel(key, f)} } }`, path: ['minorCounts', f] };
      case 'StatisticsCell': {
        const by = { riskLevel: 'RISK_LEVEL', category: 'CATEGORY', ageBand: 'AGE_BAND', gender: 'GENDER' }[f] ?? 'GENDER';
        return {
          query: `{ minorCounts(level: DISTRICT, by: [${by}]) { cells { ${sel(key, f)} } } }`,
          path: ['minorCounts', 'cells', 0, f],
          truth: f === 'regionCode' ? minor.grid_code.slice(0, 6) : undefined,
        };
      }
      case 'CountCell':
        return {
          query: `{ minorCounts(level: DISTRICT) { total { ${f} } } }`,
          path: ['minorCounts', 'total', f],
          truth: { value: minorsUnder18, suppressed: false, display: String(minorsUnder18) }[f],
        };
      case 'StatisticsRates':
        return { query: `{ statisticsRates(level: STREET) { ${sel(key, f)} } }`, path: ['statisticsRates', f] };
      case 'RegionRates':
        return { query: `{ statisticsRates(level: STREET) { total { ${sel(key, f)} } } }`, path: ['statisticsRates', 'total', f] };
      case 'StatisticsRate':
        return { query: `{ statisticsRates(level: STREET) { total { screening { ${sel(key, f)} } } } }`, path: ['statisticsRates', 'total', 'screening', f] };
      case 'RiskLevelRate':
        return { query: `{ statisticsRates(level: STREET) { total { visitsOnTime { ${sel(key, f)} } } } }`, path: ['statisticsRates', 'total', 'visitsOnTime', 0, f] };
      case 'MonthlyTrend':
        return { query: `{ monthlyTrend { ${sel(key, f)} } }`, path: ['monthlyTrend', f] };
      case 'TrendPoint':
        return { query: `{ monthlyTrend { points { ${sel(key, f)} } } }`, path: ['monthlyTrend', 'points', 0, f] };
      case 'StatisticsFreshness':
        // Test hubs run no refresh timer: they cannot tell whether the summaries are stale.
        return { query: `{ statisticsFreshness { ${f} } }`, path: ['statisticsFreshness', f], truth: f === 'stale' ? null : undefined };
      case 'StatisticsScope':
        return { query: `{ statisticsScope { ${f} } }`, path: ['statisticsScope', f], truth: f === 'regionCode' ? minor.grid_code.slice(0, 6) : undefined };
      case 'MandatoryReport':
        return {
          query: `query($id: ID!) { mandatoryReport(id: $id) { ${sel(key, f)} } }`,
          variables: { id: report.id },
          path: ['mandatoryReport', f],
          truth: objectFields.has(key) ? undefined : f === 'overdue' ? false : column(report),
        };
      case 'ReportTransition':
        return {
          query: `query($id: ID!) { mandatoryReport(id: $id) { transitions { ${f} } } }`,
          variables: { id: report.id },
          path: ['mandatoryReport', 'transitions', 0, f],
          truth: column(transition),
        };
      case 'ReportReceipt': {
        const mine = await newest(`SELECT * FROM workflow.mandatory_report WHERE reporter_id = $1 ORDER BY received_at DESC, id LIMIT 1`, [userOf(subject)]);
        return { query: `{ myReports { ${f} } }`, path: ['myReports', 0, f], truth: column(mine) };
      }
      case 'Referral': {
        const referral = referralOf.get(subject) ?? referralOf.get(Department.EDUCATION)!;
        // The police's record of the 户籍地 is opened only to a receiver that reaches the police's verifications.
        const reaches = policy.access(referral.to_department, 'Minor.identityVerifications') !== Access.DENY;
        const granted = referralGrants.EDUCATION_AID.filter((k) => reaches || k !== 'IdentityVerification.householdPlace');
        const truth: Record<string, unknown> = { grantedFields: granted, overdue: false };
        return {
          query: `query($id: ID!) { referral(id: $id) { ${sel(key, f)} } }`,
          variables: { id: referral.id },
          path: ['referral', f],
          truth: objectFields.has(key) ? undefined : f in truth ? truth[f] : column(referral),
        };
      }
      case 'Notification':
      case 'NotificationField': {
        const n = await newest(
          `SELECT * FROM workflow.notification WHERE department = $1 AND region_code LIKE '330102%' ORDER BY created_at DESC, id LIMIT 1`,
          [isDept(subject) ? subject : ''],
        );
        if (row.type === 'Notification') {
          return { query: `{ notifications(first: 1) { ${sel(key, f)} } }`, path: ['notifications', 0, f], truth: objectFields.has(key) ? undefined : column(n) };
        }
        const [first] = Object.entries(n.payload ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
        return { query: `{ notifications(first: 1) { payload { ${f} } } }`, path: ['notifications', 0, 'payload', 0, f], truth: first?.[f === 'field' ? 0 : 1] };
      }
      case 'Webhook': {
        const hook = await newest(`SELECT * FROM workflow.webhook WHERE department = $1 ORDER BY created_at, id LIMIT 1`, [isDept(subject) ? subject : '']);
        return { query: `{ webhooks { ${f} } }`, path: ['webhooks', 0, f], truth: column(hook) };
      }
      case 'WebhookRegistration':
        return {
          query: `mutation { registerWebhook(url: "http://127.0.0.1:9/probe/${subject}/${f}") { ${sel(key, f)} } }`,
          path: ['registerWebhook', f],
          truth: f === 'maxAttempts' ? t.config.workflow.webhook.maxAttempts : undefined,
        };
      case 'BarredPerson': {
        const p = await newest(`SELECT *, to_char(restricted_until, 'YYYY-MM-DD') AS restricted_until FROM workflow.barred_person ORDER BY created_at DESC, id LIMIT 1`, []);
        return { query: `{ barredPersons(first: 1, includeRevoked: true) { ${f} } }`, path: ['barredPersons', 0, f], truth: column(p) };
      }
      case 'EmploymentCheckResult':
        return { query: `mutation { employmentCheck(input: ${CHECK_INPUT}) { ${f} } }`, path: ['employmentCheck', f], truth: f === 'answer' ? 'CLEAR' : undefined };
      case 'RescreenResult':
        return { query: `mutation { ${RESCREEN} { ${sel(key, f)} } }`, path: ['employmentRescreen', f] };
      case 'RescreenAnswer':
        return { query: `mutation { ${RESCREEN} { answers { ${f} } } }`, path: ['employmentRescreen', 'answers', 0, f], truth: { index: 0, answer: 'CLEAR' }[f] };
      case 'OverdueVisit': {
        // Ground truth: the most urgent level first, then the longest overdue (分级保护).
        const v = await newest(
          `SELECT m.id, m.risk_level, m.grid_code, m.next_visit_due,
                  (SELECT max(visited_at) FROM registry.visit WHERE minor_id = m.id) AS last_visit_at,
                  coalesce((SELECT visitor FROM registry.visit WHERE minor_id = m.id ORDER BY visited_at DESC, id LIMIT 1),
                           (SELECT assessor FROM registry.risk_assessment WHERE minor_id = m.id ORDER BY assessed_at DESC, id LIMIT 1)) AS responsible_worker
             FROM registry.minor m WHERE m.next_visit_due < now() AND m.risk_level IS NOT NULL
            ORDER BY array_position(ARRAY['RED','ORANGE','YELLOW','BLUE'], m.risk_level), m.next_visit_due, m.id LIMIT 1`,
          [],
        );
        const truth: Record<string, unknown> = { daysOverdue: Math.floor((Date.now() - new Date(v.next_visit_due).getTime()) / 86_400_000) };
        return {
          query: `{ overdueVisits(first: 1) { ${sel(key, f)} } }`,
          path: ['overdueVisits', 0, f],
          truth: objectFields.has(key) ? undefined : f in truth ? truth[f] : column(v),
        };
      }
      case 'Region':
        return {
          query: `{ regions { ${sel(key, f)} } }`,
          path: ['regions', regionIndex, f],
          truth: objectFields.has(key) || f === 'children' ? undefined : column(region),
        };
    }
    const department = departmentProbe(row, departmentRecords, objectFields);
    if (department) return department;
    throw new Error(`no probe for ${key}: add one when adding a type to the policy table`);
  }

  const timeFields = new Set([
    'nextVisitDue', 'updatedAt', 'assessedAt', 'visitedAt', 'time',
    'at', 'createdAt', 'receivedAt', 'observedAt', 'verifyDueAt', 'handleDueAt', 'answerDueAt', 'completeDueAt', 'answeredAt',
    'completedAt', 'closedAt', 'escalatedAt', 'acknowledgedAt', 'lastVisitAt', 'revokedAt',
  ]);

  for (const subject of POLICY_SUBJECTS) {
    it(`${subject} gets exactly what the table says`, async () => {
      const token = await tokenFor(t, subject);
      const failures: string[] = [];
      for (const row of policy.all()) {
        const key = `${row.type}.${row.field}`;
        const p = await probe(row, subject);
        const r: GqlResult = await t.gql(token, p.query, p.variables);
        const access = row.access[subject] ?? Access.DENY;
        const forbiddenOn = (r.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN' && e.path && isPrefix(e.path, p.path));
        let value = valueAt(r.data, p.path);
        if (timeFields.has(row.field)) value = iso(value);
        const truth = timeFields.has(row.field) ? iso(p.truth) : p.truth;
        const fail = (msg: string) => failures.push(`${key} (${access}): ${msg} — got ${JSON.stringify(r).slice(0, 300)}`);

        if (access === Access.DENY) {
          if (value != null) fail('value served');
          if (!forbiddenOn.length) fail('no FORBIDDEN error on its path');
          continue;
        }
        if (forbiddenOn.length) fail('refused');
        if (row.type === 'Mutation') continue; // probes use missing ids / bad input: reaching the resolver is the point
        if (p.truth === undefined) {
          // Nullable by nature here: the chain is intact (no break), the root region has no parent …
          const mayBeNull = ['endCursor', 'parent', 'school', 'firstBreak', 'reference', 'clientAddress'].includes(row.field) || row.type === 'ChainBreakRecord';
          if (value === undefined ? !mayBeNull : value === null && !mayBeNull) fail('missing');
          continue;
        }
        const expected = access === Access.MASK ? applyMask(row.mask!, truth) : truth;
        if (JSON.stringify(value) !== JSON.stringify(expected)) fail(`expected ${JSON.stringify(expected)}`);
        if (access === Access.MASK && JSON.stringify(value) === JSON.stringify(truth)) fail('mask revealed the stored value');
      }
      expect(failures).toEqual([]);
    });
  }
});
