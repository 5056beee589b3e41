import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { Access } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { CHILD_RECORD_TYPES } from '../src/subgraphs/index';
import { eventOf, post } from './support/audit-helpers';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { FieldDef, FullType, INTROSPECTION, named, SUBJECT_TOKENS } from './support/schema-calls';
import { cloneTemplateDatabase, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * "Who saw what": every root query field (and the lists a child's record reaches), as every role
 * that reaches it, with every field its type offers selected (objects to depth 3, lists of 2), and
 * the request's audit event compared with the answer — each child whose data the answer holds
 * recorded with each `Type.field` served of it and how (exact, masked, refused), nothing recorded
 * of a child the answer does not hold, and the outcome as the errors say. The same of the answers
 * of mutations, of a child's compiled read against the general path, and of reads a referral's
 * grant opens. A role refused a root field is refused whole, DENIED, with nothing served. All of
 * it in-process and in distributed mode (the registry and each department's subgraph over HTTP).
 * SWEEP_VERBOSE=1 prints what each call reached.
 */

jest.setTimeout(240_000);

type Reads = Map<string, Map<string, Access>>;

/** The audit subgraph's own answers are recorded by rules of their own (a look-up of a child), not field by field. */
const AUDIT_ROOTS = new Set(['auditEvents', 'minorAccessHistory', 'auditVerify', 'auditAnomalies']);

class Sweep {
  constructor(
    readonly types: Map<string, FullType>,
    private readonly maxDepth = 3,
  ) {}

  /** Every field `type` offers, objects to `maxDepth`, each list `first: 2`; `__typename` on every object. */
  selection(typeName: string, depth: number): string {
    return this.parts(typeName, depth).join(' ');
  }

  parts(typeName: string, depth: number): string[] {
    const type = this.types.get(typeName)!;
    if (type.kind === 'UNION' || type.kind === 'INTERFACE') return ['__typename'];
    const parts = ['__typename'];
    for (const f of type.fields ?? []) {
      const inner = named(f.type);
      const kind = this.types.get(inner.name!)!.kind;
      const required = f.args.filter((a) => a.type.kind === 'NON_NULL' && a.defaultValue === null);
      if (required.length) continue;
      const args = f.args.some((a) => a.name === 'first') ? '(first: 2)' : '';
      if (kind === 'OBJECT' || kind === 'INTERFACE' || kind === 'UNION') {
        if (depth >= this.maxDepth) continue;
        parts.push(`${f.name}${args} { ${this.selection(inner.name!, depth + 1)} }`);
      } else parts.push(`${f.name}${args}`);
    }
    return parts;
  }

  /**
   * What the answer shows of each child: walks `value` (of `typeName`) noting, for every object of a
   * child's record, each field selected of it and how it was served (DENY when its path was refused,
   * else the policy's word, MASK or ALLOW). A record's child: a Minor's id, a record's `minor.id`, or
   * the child of the record it is nested in.
   */
  expected(value: unknown, path: (string | number)[], child: string | null, errors: Map<string, string>, decide: (key: string, value: unknown) => Access, out: Reads, root?: string): void {
    if (Array.isArray(value)) {
      value.forEach((v, i) => this.expected(v, [...path, i], child, errors, decide, out, root));
      return;
    }
    if (!value || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    // An object's own __typename when selected (a union's member), else the type its field declares.
    const type = (o.__typename as string) ?? root;
    let own = child;
    if (CHILD_RECORD_TYPES.has(type)) {
      if (type === 'Minor') own = (o.id as string) ?? child;
      // An edge names its child (its cursor is the child's place); PageInfo is recorded of the page's last child and the one after it.
      else if (type === 'MinorEdge') own = ((o.node as { id?: string } | null)?.id as string) ?? null;
      else if (type === 'PageInfo') own = null;
      else if (o.minor && typeof o.minor === 'object') own = ((o.minor as { id: string }).id as string) ?? child;
      else if ('minor' in o && o.minor === null) own = child;
    }
    // A notification's payload states fields of the child's records, each recorded under its own name.
    if (type === 'Notification' && own && Array.isArray(o.payload)) {
      const m = out.get(own) ?? new Map<string, Access>();
      out.set(own, m);
      for (const p of o.payload as { field: string; value: string | null }[]) m.set(p.field, p.value?.includes('*') ? Access.MASK : Access.ALLOW);
    }
    const fields = this.types.get(type)?.fields ?? [];
    for (const f of fields) {
      if (!(f.name in o)) continue;
      const at = [...path, f.name];
      const code = errors.get(at.join('.'));
      if (CHILD_RECORD_TYPES.has(type) && own) {
        const key = `${type}.${f.name}`;
        const served = code === 'FORBIDDEN' ? Access.DENY : code ? null : decide(key, o[f.name]);
        if (served) {
          const m = out.get(own) ?? new Map<string, Access>();
          out.set(own, m);
          m.set(key, served);
        }
      }
      this.expected(o[f.name], at, own, errors, decide, out, named(f.type).name!);
    }
  }
}

/** Every path an error names, with its code. */
function errorPaths(errors: { path?: (string | number)[]; extensions?: { code?: string } }[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of errors ?? []) if (e.path) m.set(e.path.join('.'), String(e.extensions?.code));
  return m;
}

/** How the event's reads differ from the answer's: what it lacks or states less revealingly (under), and what it holds beyond (over). */
function compare(expected: Reads, event: { minorId: string; fields: Record<string, string> }[]): { under: string[]; over: string[]; wrong: string[] } {
  const recorded: Reads = new Map(event.map((r) => [r.minorId, new Map(Object.entries(r.fields) as [string, Access][])]));
  const under: string[] = [];
  const over: string[] = [];
  const wrong: string[] = [];
  const rank: Record<Access, number> = { DENY: 0, MASK: 1, ALLOW: 2 };
  for (const [minor, fields] of expected) {
    const r = recorded.get(minor);
    if (!r) {
      under.push(`${minor}: no read recorded (answer holds ${[...fields.keys()].join(', ')})`);
      continue;
    }
    for (const [key, access] of fields) {
      const got = r.get(key);
      if (!got) under.push(`${minor}: ${key} (${access}) not recorded`);
      else if (rank[got] < rank[access]) under.push(`${minor}: ${key} recorded ${got}, served ${access}`);
      else if (got !== access) wrong.push(`${minor}: ${key} recorded ${got}, answer shows ${access}`);
    }
  }
  for (const [minor, fields] of recorded) {
    const e = expected.get(minor);
    for (const key of fields.keys()) {
      if (key === 'Minor.id' || key.endsWith('.__typename') || key.startsWith('PageInfo.')) continue;
      if (!e?.has(key)) over.push(`${minor}: ${key} recorded, not in the answer${e ? '' : ' (no data of this child in the answer)'}`);
    }
  }
  return { under, over, wrong };
}

function outcomeProblem(json: any, outcome: string): string | null {
  const errors = json?.errors ?? [];
  const data = json?.data;
  const hasData = data && Object.values(data).some((v) => v !== null && v !== undefined);
  const want = !errors.length ? 'SUCCESS' : hasData ? 'PARTIAL' : errors.some((e: any) => e.extensions?.code === 'FORBIDDEN') ? 'DENIED' : null;
  return want && want !== outcome ? `outcome ${outcome}, answer says ${want}` : null;
}

/** Distributed mode: every department's subgraph and the registry served over HTTP, their reads carried back in their answers. */
const REMOTE = ['registry', 'education', 'police', 'justice', 'youth_league', 'womens_federation', 'workflow'];

describe.each(['in-process', 'distributed'] as const)('audit sweep (%s): the event records what the answer holds of each child (redteam10)', (mode) => {
  // Compiled reads serve only a registry in the hub's own process.
  const inProcess = mode === 'in-process' ? it : it.skip;
  const remote: SubgraphServer[] = [];
  let t: TestHub;
  let sweep: Sweep;
  const tokens = new Map<PolicySubject, string>();
  const policy = buildPolicy();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const env = { HUB_MAX_QUERY_COST: '100000000' };
    if (mode === 'distributed') {
      const databaseUrl = await cloneTemplateDatabase();
      const gatewaySecret = 'audit-sweep-gateway-secret-of-sufficient-length';
      const config = testConfig({ databaseUrl, gatewaySecret, env });
      for (const name of REMOTE) remote.push(await startSubgraphServer(name, config, 0));
      t = await startTestHub({ databaseUrl, gatewaySecret, subgraphUrls: Object.fromEntries(REMOTE.map((n, i) => [n, remote[i].url])), env });
    } else t = await startTestHub({ env });
    for (const [subject, department, role] of SUBJECT_TOKENS) tokens.set(subject, await t.token(department, { role, user: `sweep-${subject.toLowerCase()}` }));
    expect([...tokens.keys()].sort()).toEqual([...POLICY_SUBJECTS].sort());
    const intro = await post(t, tokens.get(Department.CIVIL_AFFAIRS)!, { query: INTROSPECTION });
    sweep = new Sweep(new Map((intro.json.data.__schema.types as FullType[]).map((ty) => [ty.name, ty])));
    // The child with the most records across departments, in the demo's district.
    const [rich] = await t.sql(`
      SELECT m.id, trim(m.id_number) AS id_number FROM registry.minor m
       WHERE registry.is_minor(m.birth_date, now())
       ORDER BY (SELECT count(*) FROM education.school_enrollment x WHERE x.minor_id = m.id) > 0
              AND (SELECT count(*) FROM registry.guardian x WHERE x.minor_id = m.id) > 0 DESC,
                (SELECT count(*) FROM education.dropout_report x WHERE x.minor_id = m.id)
              + (SELECT count(*) FROM police.incident x WHERE x.minor_id = m.id)
              + (SELECT count(*) FROM justice.incarcerated_parent x WHERE x.minor_id = m.id)
              + (SELECT count(*) FROM womens_federation.care_plan x WHERE x.minor_id = m.id)
              + (SELECT count(*) FROM youth_league.prevention_case x WHERE x.minor_id = m.id)
              + (SELECT count(*) FROM registry.visit x WHERE x.minor_id = m.id) DESC, m.id
       LIMIT 1`);
    ids.minor = rich.id;
    ids.idNumber = rich.id_number;
    const civil = tokens.get(Department.CIVIL_AFFAIRS)!;
    const referral = await post(t, civil, {
      query: `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`,
      variables: { i: { minorId: ids.minor, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '需要帮扶' } },
    });
    ids.referral = referral.json.data.createReferral.id;
    await post(t, tokens.get(Department.EDUCATION)!, { query: `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, variables: { id: ids.referral } });
    const [grid] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [ids.minor]);
    const report = await post(t, tokens.get(Role.REPORTER)!, {
      query: `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`,
      variables: { i: { harmType: 'PHYSICAL_ABUSE', observation: '淤青', location: '学校', regionCode: grid.grid_code, urgency: 'URGENT', childId: ids.minor } },
    });
    ids.report = report.json.data.fileMandatoryReport.id;
  });
  afterAll(async () => {
    await t?.stop();
    for (const r of remote) await r.stop();
  });

  const argsOf = (field: FieldDef): string => {
    const parts: string[] = [];
    for (const a of field.args) {
      if (a.name === 'first') parts.push('first: 2');
      else if (a.name === 'id') parts.push(`id: ${JSON.stringify(field.name === 'referral' ? ids.referral : field.name === 'mandatoryReport' ? ids.report : ids.minor)}`);
      else if (a.name === 'minorId') parts.push(`minorId: ${JSON.stringify(ids.minor)}`);
      else if (a.name === 'idNumber') parts.push(`idNumber: ${JSON.stringify(ids.idNumber)}`);
      else if (a.name === 'level') parts.push('level: STREET');
      else if (a.type.kind === 'NON_NULL' && a.defaultValue === null) throw new Error(`no value for ${field.name}(${a.name})`);
    }
    return parts.length ? `(${parts.join(', ')})` : '';
  };

  /**
   * How the answer shows a field was served: refused on its path (DENY, decided by the caller), else
   * the table's word — but a value the table masks that came out whole (no star) was served exactly,
   * whatever opened it, and must be recorded so.
   */
  const served = (subject: PolicySubject, key: string, value: unknown, granted: ReadonlySet<string>): Access => {
    const access = granted.has(key) ? Access.ALLOW : policy.access(subject, key);
    const kind = policy.row(key)?.mask;
    const whole = (v: unknown): boolean => (Array.isArray(v) ? v.some(whole) : typeof v === 'string' && v.length > 0 && !v.includes('*'));
    return access === Access.MASK && kind && kind !== 'SENSITIVE_CATEGORY' && whole(value) ? Access.ALLOW : access;
  };
  const stats: string[] = [];
  async function check(
    subject: PolicySubject,
    query: string,
    what: string,
    problems: string[],
    root = 'Query',
    variables?: Record<string, unknown>,
    rootChild: string | null = null,
    purpose = 'CASE_HANDLING; sweep',
    granted: ReadonlySet<string> = new Set(),
  ): Promise<any> {
    const r = await post(t, tokens.get(subject)!, { query, variables }, { 'x-purpose': purpose });
    const event = await eventOf(t, r.requestId);
    const out: Reads = new Map();
    sweep.expected(r.json?.data ?? null, [], rootChild, errorPaths(r.json?.errors), (key, value) => served(subject, key, value, granted), out, root);
    const { under, over, wrong } = compare(out, event.reads);
    stats.push(`${what} as ${subject}: ${r.status} ${event.outcome} children=${out.size} fields=${[...out.values()].reduce((n, m) => n + m.size, 0)} recorded=${event.reads.length} errors=${(r.json?.errors ?? []).map((e: any) => e.extensions?.code).join(',')}`);
    for (const u of under) problems.push(`UNDER ${what} as ${subject}: ${u}`);
    for (const w of wrong) problems.push(`WRONG ${what} as ${subject}: ${w}`);
    // Documented: a look-up by ID number records the number it matched, whatever is selected (README);
    // a reporter's receipts read back are recorded of the reports' children in the reporter's
    // jurisdiction, which the answer does not name (docs/workflows.md).
    const documented = (o: string) =>
      (what === 'minorByIdNumber' && o.endsWith(': Minor.idNumber recorded, not in the answer')) ||
      (what === 'myReports' && /: ReportReceipt\.(status|receivedAt) recorded, not in the answer/.test(o)) ||
      // A page's nextCursor tells whether a record follows: a read of the next record's id, of a child the page may not hold (red team 43).
      /: \w+\.id recorded, not in the answer \(no data of this child in the answer\)$/.test(o);
    for (const o of over) if (!documented(o)) problems.push(`OVER ${what} as ${subject}: ${o}`);
    const o = outcomeProblem(r.json, event.outcome);
    if (o) problems.push(`OUTCOME ${what} as ${subject}: ${o}`);
    return r.json;
  }

  it('records, for every root query field as every role that reaches it, each field served of each child the answer holds', async () => {
    const problems: string[] = [];
    const listsEmpty: string[] = [];
    const query = sweep.types.get('Query')!;
    let served = 0;
    let refused = 0;
    for (const field of query.fields!) {
      if (field.name.startsWith('_') || AUDIT_ROOTS.has(field.name)) continue;
      const reaching = POLICY_SUBJECTS.filter((s) => policy.access(s, `Query.${field.name}`) !== Access.DENY);
      const inner = named(field.type).name!;
      const kind = sweep.types.get(inner)!.kind;
      // A child's whole record at once is over any cost limit: one of its fields (each list with what it reaches) at a time.
      const sels =
        inner === 'Minor'
          ? sweep.parts('Minor', 1).slice(1).map((part) => ` { __typename id ${part} }`)
          : [kind === 'OBJECT' ? ` { ${sweep.selection(inner, 1)} }` : ''];
      // A role the field is refused to: refused whole, DENIED, and nothing of a child served or recorded as served.
      for (const subject of POLICY_SUBJECTS.filter((x) => !reaching.includes(x))) {
        const json = await check(subject, `query Sweep { ${field.name}${argsOf(field)}${sels[0]} }`, `${field.name} (refused)`, problems);
        if (json?.data?.[field.name] != null) problems.push(`SERVED ${field.name} to ${subject}, whom the table refuses it`);
        refused++;
      }
      for (const subject of reaching) {
        for (const sel of sels) {
          let args = argsOf(field);
          // A list of the child's records: asked of a child that has some, as this role sees them.
          const list = field.name === 'minor' && /^ \{ __typename id (\w+)\(first: 2\) \{/.exec(sel)?.[1];
          if (list) {
            const found = await post(t, tokens.get(subject)!, { query: `{ minors(first: 200) { edges { node { id ${list}(first: 1) { __typename } } } } }` });
            const node = (found.json?.data?.minors?.edges ?? []).map((e: any) => e.node).find((n: any) => n?.[list]?.length);
            if (node) args = `(id: ${JSON.stringify(node.id)})`;
            else listsEmpty.push(`${list} as ${subject}`);
          }
          const json = await check(subject, `query Sweep { ${field.name}${args}${sel} }`, field.name, problems);
          if (json?.data?.[field.name] != null) served++;
        }
      }
    }
    if (process.env.SWEEP_VERBOSE) console.log([...stats, ...problems, 'no records:', ...listsEmpty].join('\n'));
    expect(served).toBeGreaterThan(40);
    expect(refused).toBeGreaterThan(40);
    expect(problems).toEqual([]);
  });

  it('records what the answers of mutations show of each child', async () => {
    const problems: string[] = [];
    const m = ids.minor;
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
    const one = async (sql: string, args: unknown[] = []) => (await t.sql(sql, args))[0];
    const plan = await one(`SELECT p.id, p.minor_id FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id WHERE p.status = 'ACTIVE' AND registry.is_minor(m.birth_date, now()) AND p.started_on < current_date - 5 ORDER BY p.id LIMIT 1`);
    const dropout = await one(`SELECT d.id, d.minor_id FROM education.dropout_report d JOIN registry.minor m ON m.id = d.minor_id WHERE d.status = 'OPEN' AND registry.is_minor(m.birth_date, now()) AND d.reported_on < current_date - 5 ORDER BY d.id LIMIT 1`);
    const pcase = await one(`SELECT c.id, c.minor_id FROM youth_league.prevention_case c JOIN registry.minor m ON m.id = c.minor_id WHERE c.status = 'OPEN' AND registry.is_minor(m.birth_date, now()) AND c.opened_on < current_date - 5 ORDER BY c.id LIMIT 1`);
    const notification = await one(`SELECT id FROM workflow.notification WHERE department = 'CIVIL_AFFAIRS' AND acknowledged_at IS NULL ORDER BY created_at DESC LIMIT 1`);
    const sel = (type: string, depth = 2) => ` { ${sweep.selection(type, depth)} }`;
    const cases: [PolicySubject, string, string, Record<string, unknown>, string | null][] = [
      [Department.CIVIL_AFFAIRS, 'updateMinor', `mutation($id: ID!) { updateMinor(id: $id, input: { school: "第二实验小学" })${sel('Minor')} }`, { id: m }, null],
      [Department.CIVIL_AFFAIRS, 'addCategory', `mutation($id: ID!) { addCategory(minorId: $id, category: LEFT_BEHIND)${sel('Minor')} }`, { id: m }, null],
      [Department.CIVIL_AFFAIRS, 'recordVisit', `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "走访" })${sel('Visit')} }`, { id: m }, m],
      [Department.CIVIL_AFFAIRS, 'recordAssessment', `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: YELLOW, reasons: "复评" })${sel('RiskAssessment')} }`, { id: m }, m],
      [Department.CIVIL_AFFAIRS, 'addGuardian', `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: GRANDPARENT, name: "李某", situation: NORMAL })${sel('Guardian')} }`, { id: m }, m],
      [Department.CIVIL_AFFAIRS, 'createReferral', `mutation($id: ID!) { createReferral(input: { minorId: $id, type: EDUCATION_AID, toDepartment: "EDUCATION", need: "帮扶" })${sel('Referral')} }`, { id: m }, null],
      [Department.EDUCATION, 'acceptReferral', `mutation($id: ID!) { acceptReferral(id: $id)${sel('Referral')} }`, { id: 'REFERRAL' }, null],
      [Department.CIVIL_AFFAIRS, 'acknowledge', `mutation($id: ID!) { acknowledge(id: $id)${sel('Notification')} }`, { id: notification?.id }, null],
      [Department.POLICE, 'transitionReport', `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核实")${sel('MandatoryReport')} }`, { id: ids.report }, null],
      [Department.WOMENS_FEDERATION, 'recordCareVisit', `mutation($id: ID!, $on: String!) { recordCareVisit(planId: $id, input: { visitedOn: $on, visitor: "王", notes: "探访" })${sel('CareVisit')} }`, { id: plan?.id, on: daysAgo(1) }, plan?.minor_id],
      [Department.EDUCATION, 'recordPersuasionAction', `mutation($id: ID!, $on: String!) { recordPersuasionAction(reportId: $id, input: { actedOn: $on, method: HOME_VISIT, actor: "张", note: "劝返" })${sel('PersuasionAction')} }`, { id: dropout?.id, on: daysAgo(1) }, dropout?.minor_id],
      [Department.YOUTH_LEAGUE, 'recordMisbehaviourFollowUp', `mutation($id: ID!, $on: String!) { recordMisbehaviourFollowUp(caseId: $id, input: { followedUpOn: $on, note: "回访" })${sel('MisbehaviourFollowUp')} }`, { id: pcase?.id, on: daysAgo(1) }, pcase?.minor_id],
      [Department.WOMENS_FEDERATION, 'createCarePlan', `mutation($id: ID!, $on: String!) { createCarePlan(minorId: $id, input: { kind: LEFT_BEHIND, startedOn: $on, status: ACTIVE, caregiver: "祖母", measures: "探访" })${sel('CarePlan')} }`, { id: m, on: daysAgo(2) }, null],
      [Department.POLICE, 'createPoliceIncident', `mutation($id: ID!, $on: String!) { createPoliceIncident(minorId: $id, input: { type: RUNAWAY, occurredOn: $on, status: REPORTED, handlingUnit: "派出所", narrative: "离家" })${sel('PoliceIncident')} }`, { id: m, on: daysAgo(2) }, null],
    ];
    const referral = await post(t, tokens.get(Department.CIVIL_AFFAIRS)!, {
      query: `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`,
      variables: { i: { minorId: m, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '需要' } },
    });
    let changed = 0;
    for (const [subject, what, query, variables, child] of cases) {
      const v = variables.id === 'REFERRAL' ? { id: referral.json.data.createReferral.id } : variables;
      const json = await check(subject, query, what, problems, 'Mutation', v, child);
      if (json?.errors?.length) problems.push(`NOTE ${what}: ${JSON.stringify(json.errors.map((e: any) => [e.extensions?.code, e.message, e.path?.join('.')]))}`.slice(0, 600));
      if (json?.data?.[what]) changed++;
    }
    if (process.env.SWEEP_VERBOSE) console.log([...stats.slice(-cases.length), ...problems].join('\n'));
    expect(problems.filter((p) => !p.startsWith('NOTE'))).toEqual([]);
    expect(changed).toBe(cases.length);
  });

  inProcess('records the compiled read of a child and the general path’s answer to the same query with a masked field added alike', async () => {
    const problems: string[] = [];
    const minor = sweep.types.get('Minor')!;
    const scalars = minor.fields!.filter((f) => !f.args.length && ['SCALAR', 'ENUM'].includes(sweep.types.get(named(f.type).name!)!.kind)).map((f) => f.name);
    let compiled = 0;
    for (const subject of POLICY_SUBJECTS) {
      if (policy.access(subject, 'Query.minor') !== Access.ALLOW) continue;
      const exact = scalars.filter((f) => policy.access(subject, `Minor.${f}`) === Access.ALLOW);
      const masked = scalars.filter((f) => policy.access(subject, `Minor.${f}`) === Access.MASK);
      const before = t.hub.compiledReadsServed()!;
      const json = await check(subject, `query Child($id: ID!) { minor(id: $id) { ${exact.join(' ')} } }`, 'compiled minor', problems, 'Query', { id: ids.minor }, ids.minor);
      expect(json.data.minor).not.toBeNull();
      compiled += t.hub.compiledReadsServed()! - before;
      const compiledReads = (await eventOf(t, (await post(t, tokens.get(subject)!, { query: `query Child($id: ID!) { minor(id: $id) { ${exact.join(' ')} } }`, variables: { id: ids.minor } })).requestId)).reads;
      for (const extra of masked) {
        const r = await post(t, tokens.get(subject)!, { query: `query Child($id: ID!) { minor(id: $id) { ${exact.join(' ')} ${extra} } }`, variables: { id: ids.minor } });
        const general = (await eventOf(t, r.requestId)).reads;
        const expected = { ...compiledReads[0].fields, [`Minor.${extra}`]: 'MASK' };
        if (JSON.stringify(general) !== JSON.stringify([{ minorId: ids.minor, fields: Object.fromEntries(Object.entries(expected).sort()) }])) {
          problems.push(`${subject} + ${extra}: compiled ${JSON.stringify(compiledReads)} general ${JSON.stringify(general)}`);
        }
      }
    }
    expect(compiled).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('records the fields an open referral’s grant serves exactly as exact, beside those it leaves masked', async () => {
    const problems: string[] = [];
    const education = tokens.get(Department.EDUCATION)!;
    const granted = await post(t, education, { query: `query($id: ID!) { referral(id: $id) { status grantedFields } }`, variables: { id: ids.referral } });
    expect(granted.json.data.referral.status).toBe('ACCEPTED');
    const fields = new Set<string>(granted.json.data.referral.grantedFields);
    // Fields the table masks or refuses to education, which the grant opens: the sweep must see one served exactly.
    expect([...fields].some((f) => policy.access(Department.EDUCATION, f) !== Access.ALLOW)).toBe(true);
    const purpose = `REFERRAL; ${ids.referral}`;
    let exact = 0;
    for (const part of sweep.parts('Minor', 1).slice(1)) {
      const json = await check(Department.EDUCATION, `query Sweep($id: ID!) { minor(id: $id) { __typename id ${part} } }`, 'minor under a grant', problems, 'Query', { id: ids.minor }, null, purpose, fields);
      expect(json.data.minor).not.toBeNull();
      if (/^(currentAddress|guardians)\b/.test(part)) exact++;
    }
    await check(Department.EDUCATION, `query Sweep($id: ID!) { referral(id: $id) { ${sweep.selection('Referral', 1)} } }`, 'referral under a grant', problems, 'Query', { id: ids.referral }, null, purpose, fields);
    if (process.env.SWEEP_VERBOSE) console.log([...stats.slice(-40), ...problems].join('\n'));
    expect(exact).toBe(2);
    expect(problems).toEqual([]);
  });
});
