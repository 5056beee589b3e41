import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { ageOn } from '../src/common/dates';
import { applyMask, SENSITIVE_CATEGORIES } from '../src/policy/masks';
import { FEDERATION_FIELDS } from '../src/policy/policy';
import { Access, PolicyRow } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
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
  s === Role.AUDITOR || s === Role.DASHBOARD ? t.token(Department.CIVIL_AFFAIRS, { role: s }) : t.token(s as Department);

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

  beforeAll(async () => {
    t = await startTestHub();
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
    const regions = await t.sql(`SELECT * FROM registry.region ORDER BY code`);
    regionIndex = regions.findIndex((r) => r.code === minor.grid_code);
    region = regions[regionIndex];

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

  function probe(row: PolicyRow): Probe {
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
      case 'Region':
        return {
          query: `{ regions { ${sel(key, f)} } }`,
          path: ['regions', regionIndex, f],
          truth: objectFields.has(key) || f === 'children' ? undefined : column(region),
        };
    }
    throw new Error(`no probe for ${key}: add one when adding a type to the policy table`);
  }

  const timeFields = new Set(['nextVisitDue', 'updatedAt', 'assessedAt', 'visitedAt', 'time']);

  for (const subject of POLICY_SUBJECTS) {
    it(`${subject} gets exactly what the table says`, async () => {
      const token = await tokenFor(t, subject);
      const failures: string[] = [];
      for (const row of policy.all()) {
        const key = `${row.type}.${row.field}`;
        const p = probe(row);
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
