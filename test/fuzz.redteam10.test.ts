import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { Access } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { startTestHub, TestHub } from './support/test-hub';
import { callIds, FullType, Fuzzer, INTROSPECTION, literal, named, nullable, selectionOf, setAt, RECORD_SCHEMAS, SUBJECT_TOKENS, SWEEP_ENV, typeText } from './support/schema-calls';
import { refreshStatistics } from '../src/subgraphs/statistics/statistics.refresh';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';

/**
 * A schema-driven fuzzer of the public endpoint: every root field of Query and Mutation, as the
 * roles that may reach it, each argument (input objects and lists walked) given hostile values one
 * at a time over an otherwise valid call, inline and as variables. Whatever is refused, the answer
 * is a typed refusal: no 500, no INTERNAL_SERVER_ERROR, nothing of SQL, Postgres, a stack or a
 * file in any message or extension; and a mutation refused writes nothing.
 */

jest.setTimeout(300_000);
// FUZZ_ONLY=<regex of root field names> narrows a run; FUZZ_VERBOSE=1 prints what each phase reached.

/** What an answer may never carry: the database's, the runtime's or the file system's words. */
const LEAK = new RegExp(
  [
    'QueryFailedError', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError: ', 'Cannot read', 'undefined', 'null value in column',
    'invalid input syntax', 'invalid input value', 'violates', 'duplicate key', 'relation "', 'column "', 'syntax error at',
    'out of range for type', 'value too long', 'date/time field value', 'SQLSTATE', '\\b22[0-9A-Z]{3}\\b', '\\b23[0-9]{3}\\b', '\\b42[0-9A-Z]{3}\\b',
    '\\bSELECT\\b', '\\bINSERT INTO\\b', '\\bUPDATE "', '\\bFROM "', 'unterminated', 'operator does not exist', 'function .*does not exist',
    '\\bat [\\w.<>]+ \\(', '/work/', '/tmp/', 'node_modules', '\\.[jt]s:\\d+', 'stacktrace', 'Invalid time value', 'Invalid Date', 'NaN',
    'Maximum call stack', 'out of memory', 'ECONNRESET', 'Unexpected token',
  ].join('|'),
);

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] };
  requestId: string | null;
}

interface Case {
  root: 'Query' | 'Mutation';
  field: string;
  subject: PolicySubject;
  what: string;
  mode: 'inline' | 'variables';
  marker: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The hostile value sent, left out of an echo check: a message may quote a client's own value. */
  sent?: unknown;
}

interface Outcome {
  c: Case;
  a: Answer;
  problems: string[];
  wrote: boolean;
}

async function send(url: string, token: string, query: string, variables?: Record<string, unknown>, rawBody?: string, purpose = 'CASE_HANDLING; fuzz'): Promise<Answer> {
  const body = rawBody ?? JSON.stringify({ query, variables });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': purpose },
    body,
  });
  const text = await res.text();
  let parsed: Answer['body'];
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { errors: [{ message: `unparseable answer: ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, body: parsed, requestId: res.headers.get('x-request-id') };
}

async function pool<T, R>(items: T[], width: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await run(items[i]);
      }
    }),
  );
  return out;
}

/** What is wrong with an answer, whatever the case sent. */
function problemsOf(c: Case, a: Answer): string[] {
  const problems: string[] = [];
  if (![200, 400, 401, 403, 413, 503].includes(a.status)) problems.push(`HTTP ${a.status}`);
  const codes = (a.body.errors ?? []).map((e) => String(e.extensions?.code));
  // A refusal before execution serves nothing, and its status says which.
  if (a.status !== 200 && a.body.data != null) problems.push(`HTTP ${a.status} with data`);
  if (a.status === 413 && !codes.includes('LIMIT_EXCEEDED')) problems.push(`413 with ${codes.join(', ')}`);
  if (a.status === 401 && !codes.includes('UNAUTHENTICATED')) problems.push(`401 with ${codes.join(', ')}`);
  if (a.status !== 200 && !codes.length) problems.push(`HTTP ${a.status} without an error`);
  for (const e of a.body.errors ?? []) {
    const code = e.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) problems.push(`code ${String(code)}: ${e.message}`);
    if (a.status === 503 && !['DATABASE_UNAVAILABLE', 'AUDIT_UNAVAILABLE'].includes(String(code))) problems.push(`503 with ${String(code)}`);
    let text = `${e.message} ${JSON.stringify(e.extensions ?? {})}`;
    // A message may quote the client's own value back (graphql-js's coercion errors do): not a leak.
    if (typeof c.sent === 'string') text = text.split(c.sent).join('').split(JSON.stringify(c.sent).slice(1, -1)).join('');
    const leak = LEAK.exec(text);
    if (leak) problems.push(`leaks "${leak[0]}": ${text.slice(0, 300)}`);
  }
  return problems;
}

describe('fuzzing every root field with hostile arguments (redteam10)', () => {
  let t: TestHub;
  let fuzzer: Fuzzer;
  const tokens = new Map<PolicySubject, string>();
  const policy = buildPolicy();
  const outcomes: Outcome[] = [];
  const logged: string[] = [];
  let log: jest.SpyInstance;

  beforeAll(async () => {
    log = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    t = await startTestHub({ env: SWEEP_ENV });
    for (const [subject, department, role] of SUBJECT_TOKENS) tokens.set(subject, await t.token(department, { role, user: `fuzz-${subject.toLowerCase()}` }));
    expect([...tokens.keys()].sort()).toEqual([...POLICY_SUBJECTS].sort());
  });
  afterAll(async () => {
    log.mockRestore();
    await t?.stop();
  });

  let enumsOfSchema: Map<string, string[]> | undefined;
  const fuzzerEnumFirst = (name: string): string => enumsOfSchema!.get(name)![0];

  it('answers every hostile argument of every root field with a typed refusal or a clean answer, and a refused mutation writes nothing', async () => {
    const introspected = await send(t.hub.url, tokens.get(Department.CIVIL_AFFAIRS)!, `{ __schema { types { name enumValues { name } } } }`);
    enumsOfSchema = new Map((introspected.body.data!.__schema as { types: FullType[] }).types.map((ty) => [ty.name, (ty.enumValues ?? []).map((v) => v.name)]));
    const gql = (subject: PolicySubject, query: string, variables: Record<string, unknown>) => send(t.hub.url, tokens.get(subject)!, query, variables);
    const made = async (subject: PolicySubject, query: string, variables: Record<string, unknown>) => {
      const a = await gql(subject, query, variables);
      expect(a.body.errors).toBeUndefined();
      return Object.values(a.body.data!)[0] as { id: string };
    };
    const ids = await callIds(t, made, fuzzerEnumFirst);

    const intro = await send(t.hub.url, tokens.get(Department.CIVIL_AFFAIRS)!, INTROSPECTION);
    expect(intro.body.errors).toBeUndefined();
    const schema = intro.body.data!.__schema as { queryType: { name: string }; mutationType: { name: string }; types: FullType[] };
    fuzzer = new Fuzzer(ids, new Date());
    for (const ty of schema.types) fuzzer.types.set(ty.name, ty);
    // Introspection as every role answers the same schema, or is refused cleanly.
    for (const token of tokens.values()) {
      const a = await send(t.hub.url, token, `{ __schema { queryType { name } } }`);
      expect(problemsOf({ sent: undefined } as Case, a)).toEqual([]);
    }

    const generate = (phase: 'baseline' | 'fuzz', served: Map<string, PolicySubject[]>): Case[] => {
    const cases: Case[] = [];
    for (const root of ['Query', 'Mutation'] as const) {
      const type = fuzzer.types.get(root)!;
      for (const field of type.fields!) {
        if (field.name.startsWith('_')) continue;
        if (process.env.FUZZ_ONLY && !new RegExp(process.env.FUZZ_ONLY).test(field.name)) continue;
        const key = `${root}.${field.name}`;
        const allowed = POLICY_SUBJECTS.filter((s) => policy.access(s, key) !== Access.DENY);
        const refused = POLICY_SUBJECTS.filter((s) => !allowed.includes(s));
        let turn = 0;
        // The roles the valid call served, in turn (so that hostile values get past the role's refusal); else every role allowed.
        const reaching = served.get(key)?.length ? served.get(key)! : allowed;
        const subjectFor = () => (reaching.length ? reaching[turn++ % reaching.length] : refused[0]);
        const op = root === 'Query' ? 'query' : 'mutation';
        const sel = selectionOf(field.type, fuzzer);

        const build = (subject: PolicySubject, what: string, args: Record<string, unknown>, mode: 'inline' | 'variables', marker: string, sent: unknown, inline?: { path: (string | number)[]; text: string }, nullableDefaults?: Set<string>) => {
          if (mode === 'inline') {
            const parts = field.args
              .filter((a) => a.name in args)
              .map((a) => {
                if (inline && inline.path[0] === a.name && inline.path.length === 1) return `${a.name}: ${inline.text}`;
                return `${a.name}: ${literal(args[a.name], a.type, fuzzer)}`;
              });
            const query = `${op} F ${'{'} ${field.name}${parts.length ? `(${parts.join(', ')})` : ''}${sel} }`;
            cases.push({ root, field: field.name, subject, what, mode, marker, query, sent });
          } else {
            const decl = field.args
              .filter((a) => a.name in args)
              .map((a) => (nullableDefaults?.has(a.name) ? `$${a.name}: ${typeText(nullable(a.type))} = ${literal(fuzzer.valid(a.type, a.name, field.name, marker, 0, false), a.type, fuzzer)}` : `$${a.name}: ${typeText(a.type)}`));
            const use = field.args.filter((a) => a.name in args).map((a) => `${a.name}: $${a.name}`);
            const query = `${op} F${decl.length ? `(${decl.join(', ')})` : ''} { ${field.name}${use.length ? `(${use.join(', ')})` : ''}${sel} }`;
            cases.push({ root, field: field.name, subject, what, mode, marker, query, variables: args, sent });
          }
        };

        const baseline = (marker: string, seq: number, withOptional = false) => {
          const args: Record<string, unknown> = {};
          for (const a of field.args) {
            if (a.type.kind === 'NON_NULL' || withOptional) {
              const v = fuzzer.valid(a.type, a.name, field.name, marker, seq, withOptional);
              if (v !== null) args[a.name] = v;
            }
          }
          return args;
        };

        // The valid call, as every role: allowed ones are served, the others refused cleanly.
        if (phase === 'baseline') {
          for (const subject of POLICY_SUBJECTS) {
            const m = fuzzer.marker();
            build(subject, 'baseline', baseline(m, cases.length, true), 'variables', m, undefined);
          }
          continue;
        }
        // Each argument node, hostile values one at a time over the valid call.
        for (const arg of field.args) {
          for (const node of fuzzer.nodes(arg.type, [arg.name])) {
            const last = node.path.filter((p) => typeof p === 'string').pop() as string;
            const probeMarker = fuzzer.marker();
            for (const h of fuzzer.hostile(node.type, last, probeMarker)) {
              for (const mode of ['inline', 'variables'] as const) {
                if (mode === 'inline' && h.variablesOnly) continue;
                if (mode === 'variables' && h.inlineOnly) continue;
                const m = fuzzer.marker();
                const args = setAt(baseline(m, cases.length, true), node.path, h.value);
                const inline = h.inlineOnly ? { path: node.path, text: h.inlineOnly } : undefined;
                if (inline && node.path.length > 1) {
                  // A literal no JSON value can stand for, deep in an input: set by text.
                  const text = literal(args[arg.name], arg.type, fuzzer).replace(`${String(node.path[node.path.length - 1])}: ${literal(h.value, node.type, fuzzer)}`, `${String(node.path[node.path.length - 1])}: ${h.inlineOnly}`);
                  build(subjectFor(), `${node.path.join('.')} ${h.what}`, args, mode, m, h.inlineOnly, { path: [arg.name], text });
                } else {
                  build(subjectFor(), `${node.path.join('.')} ${h.what}`, args, mode, m, h.inlineOnly ?? h.value, inline);
                }
              }
            }
            // A null given for a non-null position through a nullable variable with a default.
            if (node.path.length === 1 && arg.type.kind === 'NON_NULL') {
              const m = fuzzer.marker();
              build(subjectFor(), `${arg.name} null through a defaulted variable`, { ...baseline(m, cases.length, true), [arg.name]: null }, 'variables', m, null, undefined, new Set([arg.name]));
            }
          }
        }
        // One hostile text in every text argument at once (a report's child named three ways, each hostile).
        const textLeaves = field.args.flatMap((arg) => fuzzer.nodes(arg.type, [arg.name])).filter((n) => named(n.type).name === 'String' && !n.path.includes(0));
        if (textLeaves.length > 1) {
          for (const [what, value] of [['NUL', '\u0000'], ['lone surrogate', '\uD800'], ['LIKE metacharacters', `%_\\'`], ['RTL override', '\u202E'], ['blank', ' '], ['2026-02-30', '2026-02-30'], ['infinity', 'infinity']] as const) {
            for (const mode of ['inline', 'variables'] as const) {
              const m = fuzzer.marker();
              let args = baseline(m, cases.length, true);
              for (const leaf of textLeaves) args = setAt(args, leaf.path, `${m}${value}`);
              build(subjectFor(), `every text argument ${what}`, args, mode, m, undefined);
            }
          }
        }
        // Every hostile argument at once, as each refused role: refused before anything else.
        for (const subject of refused) {
          const m = fuzzer.marker();
          const args = baseline(m, cases.length, true);
          for (const a of field.args) if (nullable(a.type).kind === 'SCALAR') args[a.name] = `${m}\u0000'%_`;
          build(subject, 'refused role, hostile values', args, 'variables', m, undefined);
        }
      }
    }

    if (phase === 'fuzz') cases.push(...nestedCases());
    return cases;
    };

    /**
     * The paged lists inside a record (a child's visits, a plan's visits…), each argument hostile, reached
     * through the root field that leads to them; and the compiled read (`minor(id:)` with scalar fields
     * only, answered ahead of Apollo) given every hostile id.
     */
    const ENTRY: Record<string, { root: string; open: string; close: string; vars?: string; variables?: Record<string, unknown> }> = {
      Minor: { root: 'minor', open: 'minor(id: $mid) {', close: '}', vars: '$mid: ID!', variables: { mid: ids.minor } },
      CarePlan: { root: 'carePlans', open: 'carePlans(first: 3) { nodes {', close: '} }' },
      DropoutReport: { root: 'dropoutReports', open: 'dropoutReports(first: 3) { nodes {', close: '} }' },
      PreventionCase: { root: 'preventionCases', open: 'preventionCases(first: 3) { nodes {', close: '} }' },
    };
    const nestedCases = (): Case[] => {
      const out: Case[] = [];
      for (const [typeName, entry] of Object.entries(ENTRY)) {
        for (const field of fuzzer.types.get(typeName)!.fields!) {
          if (!field.args.length) continue;
          const key = `${typeName}.${field.name}`;
          const allowed = POLICY_SUBJECTS.filter((s) => policy.access(s, key) !== Access.DENY && policy.access(s, `Query.${entry.root}`) !== Access.DENY);
          let turn = 0;
          for (const arg of field.args) {
            for (const h of fuzzer.hostile(arg.type, arg.name, fuzzer.marker())) {
              for (const mode of ['inline', 'variables'] as const) {
                if (mode === 'inline' && h.variablesOnly) continue;
                if (mode === 'variables' && h.inlineOnly) continue;
                const args: Record<string, unknown> = { first: 2, [arg.name]: h.value };
                const subject = allowed[turn++ % allowed.length];
                const what = `${key} ${arg.name} ${h.what}`;
                if (mode === 'inline') {
                  const text = field.args.filter((a) => a.name in args).map((a) => `${a.name}: ${a.name === arg.name && h.inlineOnly ? h.inlineOnly : literal(args[a.name], a.type, fuzzer)}`).join(', ');
                  const query = `query F${entry.vars ? `(${entry.vars})` : ''} { ${entry.open} ${field.name}(${text}) { __typename } ${entry.close} }`;
                  out.push({ root: 'Query', field: entry.root, subject, what, mode, marker: '', query, variables: entry.variables, sent: h.inlineOnly ?? h.value });
                } else {
                  const decl = field.args.map((a) => `$${a.name}: ${typeText(a.type)}`);
                  const query = `query F(${[...(entry.vars ? [entry.vars] : []), ...decl].join(', ')}) { ${entry.open} ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')}) { __typename } ${entry.close} }`;
                  out.push({ root: 'Query', field: entry.root, subject, what, mode, marker: '', query, variables: { ...entry.variables, ...args }, sent: h.value });
                }
              }
            }
          }
        }
      }
      const readers = POLICY_SUBJECTS.filter((s) => ['Query.minor', 'Minor.id', 'Minor.name', 'Minor.gender'].every((k) => policy.access(s, k) === Access.ALLOW));
      let turn = 0;
      for (const h of fuzzer.hostile({ kind: 'NON_NULL', name: null, ofType: { kind: 'SCALAR', name: 'ID', ofType: null } }, 'id', fuzzer.marker())) {
        const subject = readers[turn++ % readers.length];
        if (!h.variablesOnly && !h.inlineOnly) {
          out.push({ root: 'Query', field: 'minor', subject, what: `compiled read id ${h.what}`, mode: 'inline', marker: '', query: `{ minor(id: ${literal(h.value, null, fuzzer)}) { id name gender } }`, sent: h.value });
        }
        if (!h.inlineOnly) {
          out.push({ root: 'Query', field: 'minor', subject, what: `compiled read id ${h.what}`, mode: 'variables', marker: '', query: `query Child($id: ID!) { minor(id: $id) { id name gender } }`, variables: { id: h.value }, sent: h.value });
        }
      }
      return out;
    };

    const started = Date.now();
    const run = async (c: Case): Promise<Outcome> => {
      const a = await send(t.hub.url, tokens.get(c.subject)!, c.query, c.variables);
      const data = a.body.data?.[c.field];
      return { c, a, problems: problemsOf(c, a), wrote: data !== null && data !== undefined };
    };
    const tables: { s: string; n: string }[] = await t.sql(
      `SELECT table_schema AS s, table_name AS n FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = ANY($1) ORDER BY 1, 2`,
      [RECORD_SCHEMAS],
    );
    const counts = async () => {
      const [row] = await t.sql(`SELECT ${tables.map(({ s, n }, i) => `(SELECT count(*) FROM "${s}"."${n}") AS c${i}`).join(', ')}`);
      return tables.map(({ s, n }, i) => `${s}.${n}=${row[`c${i}`]}`);
    };
    /** Queries all together; mutations one field at a time, the tables counted around it: a field none of whose calls was served writes nothing. */
    const runAll = async (cases: Case[]): Promise<Outcome[]> => {
      const done = await pool(cases.filter((c) => c.root === 'Query'), 6, run);
      const byField = new Map<string, Case[]>();
      for (const c of cases) if (c.root === 'Mutation') byField.set(c.field, [...(byField.get(c.field) ?? []), c]);
      for (const [field, fieldCases] of byField) {
        const before = await counts();
        const results = await pool(fieldCases, 4, run);
        const after = await counts();
        const changed = after.filter((c, i) => c !== before[i]);
        if (changed.length && !results.some((o) => o.wrote)) results[0].problems.push(`${field}: nothing served, yet ${changed.join(', ')} (was ${before.filter((c, i) => c !== after[i]).join(', ')})`);
        done.push(...results);
      }
      return done;
    };
    const baselines = await runAll(generate('baseline', new Map()));
    outcomes.push(...baselines);
    const served = new Map<string, PolicySubject[]>();
    for (const o of baselines) if (o.wrote) served.set(`${o.c.root}.${o.c.field}`, [...(served.get(`${o.c.root}.${o.c.field}`) ?? []), o.c.subject]);
    const fuzzCases = generate('fuzz', served);
    outcomes.push(...(await runAll(fuzzCases)));
    const seconds = (Date.now() - started) / 1000;
    if (process.env.FUZZ_VERBOSE) console.log(`compiled reads served: ${t.hub.compiledReadsServed()}`);

    // A refused mutation left nothing: no row anywhere holds its marker.
    const marked = new Set<string>();
    for (const { s, n } of tables) {
      const rows: { j: string }[] = await t.sql(`SELECT row_to_json(x)::text AS j FROM "${s}"."${n}" x WHERE row_to_json(x)::text LIKE '%fz96x%'`);
      for (const { j } of rows) for (const m of j.match(/fz96x[0-9a-z]+q/g) ?? []) marked.add(m);
    }
    for (const o of outcomes) {
      if (o.c.root === 'Mutation' && !o.wrote && marked.has(o.c.marker)) o.problems.push('refused, yet a row holds its marker');
    }

    const bad = outcomes.filter((o) => o.problems.length);
    const summary = bad.map((o) => `${o.c.root}.${o.c.field} as ${o.c.subject} [${o.c.mode}] ${o.c.what}: ${o.problems.join('; ')}`);
    const unexpected = logged.filter((l) => /unexpected error/.test(l));
    if (process.env.FUZZ_VERBOSE) {
      const notServed = outcomes.filter((o) => o.c.what === 'baseline' && !o.wrote && policy.access(o.c.subject, `${o.c.root}.${o.c.field}`) !== Access.DENY);
      console.log(notServed.map((o) => `${o.c.field}/${o.c.subject}: ${JSON.stringify(o.a.body.errors?.map((e) => e.message))} ${JSON.stringify(o.c.variables).slice(0, 300)}`).join('\n'));
    }
    if (process.env.FUZZ_VERBOSE || bad.length || unexpected.length) console.log(`fuzz: ${outcomes.length} requests in ${seconds.toFixed(0)} s; baselines served: ${baselines.filter((o) => o.wrote).length} (${served.size} fields); problems: ${bad.length}\n${[...new Set(summary)].slice(0, 200).join('\n')}\n${unexpected.slice(0, 20).join('\n---\n')}`);
    expect([...new Set(summary)]).toEqual([]);
    expect(unexpected).toEqual([]);
    // The hostile values went in over calls that are served, not over calls refused for something else.
    if (!process.env.FUZZ_ONLY) expect(served.size).toBeGreaterThan(80);
  });

  it('answers request bodies no JSON.stringify writes — __proto__ keys, 1e400, duplicate keys, variables of the wrong kind — with a typed refusal', async () => {
    const token = tokens.get(Department.CIVIL_AFFAIRS)!;
    const minor = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`))[0].id as string;
    const q = (text: string) => JSON.stringify(text);
    const MINOR = q(`query($id: ID!) { minor(id: $id) { id } }`);
    const VISIT = q(`mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id } }`);
    const FILTER = q(`query($f: MinorFilter) { minors(filter: $f) { totalCount } }`);
    const COUNTS = q(`query($by: [StatisticsDimension!]!) { minorCounts(level: STREET, by: $by) { __typename } }`);
    const bodies: [string, string][] = [
      ['__proto__ variable', `{"query":${MINOR},"variables":{"__proto__":{"id":"${minor}"}}}`],
      ['__proto__ beside the variable', `{"query":${MINOR},"variables":{"id":"${minor}","__proto__":{"polluted":1}}}`],
      ['constructor variable', `{"query":${MINOR},"variables":{"id":"${minor}","constructor":{"prototype":{"x":1}}}}`],
      ['__proto__ in an input object', `{"query":${VISIT},"variables":{"m":"${minor}","i":{"notes":"fz96xproto","__proto__":{"visitedAt":"1800-01-01T00:00:00Z"}}}}`],
      ['__proto__ as the only input field', `{"query":${FILTER},"variables":{"f":{"__proto__":{"ageMin":1}}}}`],
      ['toString as an input field', `{"query":${FILTER},"variables":{"f":{"toString":1,"ageMin":1}}}`],
      ['1e400 for an Int', `{"query":${FILTER},"variables":{"f":{"ageMin":1e400}}}`],
      ['-1e400 for an Int', `{"query":${FILTER},"variables":{"f":{"ageMax":-1e400}}}`],
      ['1e400 for an ID', `{"query":${MINOR},"variables":{"id":1e400}}`],
      ['-0 for an ID', `{"query":${MINOR},"variables":{"id":-0}}`],
      ['duplicate key', `{"query":${MINOR},"variables":{"id":"x","id":"${minor}"}}`],
      ['duplicate query', `{"query":"{ __typename }","query":${MINOR},"variables":{"id":"${minor}"}}`],
      ['variables an array', `{"query":${MINOR},"variables":["${minor}"]}`],
      ['variables a string', `{"query":${MINOR},"variables":"{\\"id\\":\\"${minor}\\"}"}`],
      ['variables a number', `{"query":${MINOR},"variables":1}`],
      ['variables true', `{"query":${MINOR},"variables":true}`],
      ['query an object', `{"query":{"kind":"Document"},"variables":{}}`],
      ['query an array', `{"query":[${MINOR}]}`],
      ['query a number', `{"query":1e400}`],
      ['query null', `{"query":null}`],
      ['empty body object', `{}`],
      ['body an array (batch)', `[{"query":${MINOR},"variables":{"id":"${minor}"}}]`],
      ['body a string', `"${minor}"`],
      ['body null', `null`],
      ['operationName a number', `{"query":${MINOR},"variables":{"id":"${minor}"},"operationName":1}`],
      ['operationName __proto__', `{"query":${MINOR},"variables":{"id":"${minor}"},"operationName":"__proto__"}`],
      ['extensions a string', `{"query":${MINOR},"variables":{"id":"${minor}"},"extensions":"x"}`],
      ['extensions persistedQuery', `{"query":${MINOR},"variables":{"id":"${minor}"},"extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`],
      ['extensions __proto__', `{"query":${MINOR},"variables":{"id":"${minor}"},"extensions":{"__proto__":{"persistedQuery":1}}}`],
      ['enum list of 10,000 via a single value', `{"query":${COUNTS},"variables":{"by":"REGION"}}`],
      ['NUL in a key', `{"query":${MINOR},"variables":{"id\u0000":"${minor}"}}`],
      ['lone surrogate in a key', `{"query":${MINOR},"variables":{"\ud800":"x","id":"${minor}"}}`],
      ['lone surrogate in the query', `{"query":"query($id: ID!) { minor(id: $id) { id } } # \ud800","variables":{"id":"${minor}"}}`],
      ['NUL in the query', `{"query":"query($id: ID!) { minor(id: $id) { id } } \u0000","variables":{"id":"${minor}"}}`],
      ['escaped lone surrogate in a comment', `{"query":"query($id: ID!) { minor(id: $id) { id } } # \\ud800","variables":{"id":"${minor}"}}`],
      ['escaped lone surrogate in a block string', `{"query":"mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: \\"\\"\\"fz96xblock \\ud800\\"\\"\\" }) { id } }","variables":{"m":"${minor}"}}`],
      ['escaped NUL in a block string', `{"query":"mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: \\"\\"\\"fz96xblock \\u0000\\"\\"\\" }) { id } }","variables":{"m":"${minor}"}}`],
      ['escaped lone surrogate in an operation name', `{"query":${MINOR},"variables":{"id":"${minor}"},"operationName":"\\ud800"}`],
      ['escaped lone surrogate in a variable name', `{"query":${MINOR},"variables":{"id":"${minor}","\\ud800":1}}`],
      ['escaped lone surrogate in an extension', `{"query":${MINOR},"variables":{"id":"${minor}"},"extensions":{"\\ud800":"\\udc00"}}`],
      ['BOM before the body', `\ufeff{"query":${MINOR},"variables":{"id":"${minor}"}}`],
    ];
    const bad: string[] = [];
    for (const [what, body] of bodies) {
      const a = await send(t.hub.url, token, '', undefined, body);
      const problems = problemsOf({ sent: undefined } as Case, a);
      if (process.env.FUZZ_VERBOSE) console.log(what, a.status, JSON.stringify(a.body).slice(0, 250));
      if (problems.length) bad.push(`${what}: ${problems.join('; ')}`);
    }
    // Variable names the runtime or the gateway may hold for their own, through an entity fetch and a write.
    const police = tokens.get(Department.POLICE)!;
    for (const name of ['representations', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__typename', '_entities', '_Any', 'id', 'variables', 'then']) {
      const read = await send(t.hub.url, police, '', undefined, `{"query":${q(`query($mid: ID!, $${name}: Int!) { minor(id: $mid) { policeIncidents(first: $${name}) { id } visits(first: $${name}) { id } } }`)},"variables":{"mid":"${minor}","${name}":2}}`);
      const write = await send(t.hub.url, token, '', undefined, `{"query":${q(`mutation($m: ID!, $${name}: String!) { recordVisit(minorId: $m, input: { notes: $${name} }) { id } }`)},"variables":{"m":"${minor}","${name}":"fz96xvarname"}}`);
      for (const [what, a] of [['read', read], ['write', write]] as const) {
        const problems = problemsOf({ sent: undefined } as Case, a);
        if (problems.length) bad.push(`variable $${name} (${what}): ${problems.join('; ')}`);
        if (process.env.FUZZ_VERBOSE) console.log(`$${name} ${what}`, a.status, JSON.stringify(a.body).slice(0, 200));
      }
    }
    // The purpose header, which the trail keeps as sent: percent-decoded, Latin-1, long, empty.
    const purposes = [
      '', ' ', 'case_handling', 'CASE_HANDLING;', 'CASE_HANDLING;;;', `CASE_HANDLING; ${'x'.repeat(201)}`, 'CASE_HANDLING; %00', 'CASE_HANDLING; %E2%80%AE',
      'CASE_HANDLING; %ED%A0%80', 'CASE_HANDLING; %', 'CASE_HANDLING; %C3%A9%25', 'CASE_HANDLING; \u00e9\u00ff', 'CASE%5FHANDLING', 'CASE_HANDLING%3B%00', `CASE_HANDLING; ${'%E4%B8%AD'.repeat(300)}`,
      'X'.repeat(8000), 'CASE_HANDLING\t; tab', 'CASE_HANDLING; %F0%9F%98%80', 'CASE_HANDLING; %EF%BB%BF',
    ];
    for (const purpose of purposes) {
      for (const [query, variables] of [
        [`query($id: ID!) { minor(id: $id) { id name } }`, { id: minor }],
        [`mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "fz96xpurpose" }) { id } }`, { m: minor }],
      ] as [string, Record<string, unknown>][]) {
        const a = await send(t.hub.url, token, query, variables, undefined, purpose);
        const problems = problemsOf({ sent: purpose } as Case, a);
        if (problems.length) bad.push(`purpose ${JSON.stringify(purpose).slice(0, 60)}: ${problems.join('; ')}`);
      }
    }
    const visits = await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE notes LIKE '%fz96xproto%' AND visited_at < '1900-01-01'`);
    const blocks = await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE notes LIKE '%fz96xblock%'`);
    expect({ bad, visitsBefore1900: visits[0].n, blockStringsStored: blocks[0].n }).toEqual({ bad: [], visitsBefore1900: 0, blockStringsStored: 0 });
  });

  it('leaves a hub whose background jobs, statistics, trail and chain still answer cleanly over what the fuzz wrote', async () => {
    const problems: string[] = [];
    const check = (what: string, a: Answer) => {
      for (const p of problemsOf({ sent: undefined } as Case, a)) problems.push(`${what}: ${p}`);
      for (const e of a.body.errors ?? []) if (e.extensions?.code !== 'FORBIDDEN') problems.push(`${what}: ${String(e.extensions?.code)} ${e.message}`);
    };
    // What the jobs do a month on (escalations of what was left pending) and the statistics over it.
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(Date.now() + 40 * 86_400_000));
    await refreshStatistics(t.hub.db.ds);
    const dashboard = tokens.get(Role.DASHBOARD)!;
    for (const level of ['DISTRICT', 'STREET']) {
      check(`minorCounts ${level}`, await send(t.hub.url, dashboard, `{ minorCounts(level: ${level}, by: [RISK_LEVEL]) { total { __typename } cells { __typename } } }`));
      check(`statisticsRates ${level}`, await send(t.hub.url, dashboard, `{ statisticsRates(level: ${level}) { total { regionCode screening { __typename } reportsHandledInTime { __typename } } } }`));
    }
    check('monthlyTrend', await send(t.hub.url, dashboard, `{ monthlyTrend(months: 24) { points { month series count { __typename } } } }`));
    for (const subject of [Department.CIVIL_AFFAIRS, Department.POLICE, Department.EDUCATION, Department.WOMENS_FEDERATION]) {
      check(`overdueVisits as ${subject}`, await send(t.hub.url, tokens.get(subject)!, `{ overdueVisits(first: 500) { __typename } }`));
      check(`notifications as ${subject}`, await send(t.hub.url, tokens.get(subject)!, `{ notifications(first: 500) { __typename } }`));
      check(`referrals as ${subject}`, await send(t.hub.url, tokens.get(subject)!, `{ referrals(first: 500) { __typename } }`));
    }
    // Every child the fuzz wrote to, read back whole by civil affairs.
    const civil = tokens.get(Department.CIVIL_AFFAIRS)!;
    const minors: { id: string }[] = await t.sql(`SELECT id FROM registry.minor WHERE name LIKE '%fz96x%' OR id = $1 ORDER BY id LIMIT 200`, [(await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`))[0].id]);
    for (const { id } of minors) {
      check(`minor ${id}`, await send(t.hub.url, civil, `query($id: ID!) { minor(id: $id) { id name idNumber birthDate school householdRegistration currentAddress categories { category identifiedAt } guardians { name phone address situation situationNote } assessments(first: 100) { level reasons assessedAt } visits(first: 100) { visitedAt notes } } }`, { id }));
    }
    // The trail: every event of the run paged through by a district auditor, and the chain re-walked.
    const auditor = tokens.get(Role.AUDITOR)!;
    let after: string | null = null;
    let pages = 0;
    do {
      const a = await send(t.hub.url, auditor, `query($after: String) { auditEvents(first: 500, after: $after) { edges { node { seq requestId userId operationName operationType document variableNames purpose { code reference } outcome errorCodes reads { minorId fields { field access } } changes { mutation id minorId fields } } } pageInfo { hasNextPage endCursor } } }`, { after });
      check(`auditEvents page ${pages}`, a);
      const page = (a.body.data?.auditEvents ?? null) as { pageInfo: { hasNextPage: boolean; endCursor: string | null } } | null;
      after = page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after && pages < 100);
    if (process.env.FUZZ_VERBOSE) console.log(`read back ${minors.length} children, ${pages} pages of the trail`);
    const verified = await send(t.hub.url, auditor, `{ auditVerify { ok events firstBreak { __typename } } }`);
    check('auditVerify', verified);
    expect({ problems, chain: (verified.body.data?.auditVerify as { ok: boolean } | undefined)?.ok }).toEqual({ problems: [], chain: true });
  });
});
