import { Department, Role } from '../src/auth/principal';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { SUBJECT_TOKENS } from './support/schema-calls';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';

jest.setTimeout(300_000);

/**
 * Cursors and input (red team 15): cursors taken from one list and replayed on another, by another
 * caller; forged cursors; page-size arguments at their edges; hostile text and dates on writes.
 * Whatever is refused is a typed BAD_USER_INPUT (or GraphQL's own validation refusal), never an
 * internal error, SQL or a stack, and tells nothing beyond the caller's scope.
 */

const LEAK = new RegExp(
  [
    'QueryFailedError', 'TypeError', 'RangeError', 'Cannot read', 'undefined', 'invalid input syntax', 'invalid input value', 'violates',
    'relation "', 'column "', 'syntax error at', 'out of range', 'date/time field value', 'SQLSTATE', '\\bSELECT\\b', '\\bat [\\w.<>]+ \\(',
    '/work/', 'node_modules', '\\.[jt]s:\\d+', 'Invalid time value', 'Invalid Date', 'NaN', 'Maximum call stack', 'uuid',
  ].join('|'),
);

interface Answer {
  status: number;
  requestId: string;
  body: { data?: any; errors?: { message: string; path?: unknown[]; extensions?: Record<string, any> }[] };
}

const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt15' };
const DISTRICT = '330102';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const codes = (a: Answer) => (a.body.errors ?? []).map((e) => e.extensions?.code);

function leaks(a: Answer, sent?: string): string[] {
  const out: string[] = [];
  if (![200, 400, 413].includes(a.status)) out.push(`HTTP ${a.status}`);
  for (const e of a.body.errors ?? []) {
    const code = e.extensions?.code;
    if (code === undefined || code === 'INTERNAL_SERVER_ERROR') out.push(`code ${String(code)}: ${e.message}`);
    let text = `${e.message} ${JSON.stringify(e.extensions ?? {})}`;
    if (sent) text = text.split(sent).join('');
    const m = LEAK.exec(text);
    if (m) out.push(`leaks ${m[0]}: ${text.slice(0, 300)}`);
  }
  return out;
}

/** The hub's answer to one request, its body as the errors and data it holds (an unreadable body as an error without a code). */
async function sendTo(t: TestHub, token: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = PURPOSE): Promise<Answer> {
  const r = await post(t, token, { query, variables }, headers);
  return { status: r.status, requestId: r.requestId, body: r.json ?? { errors: [{ message: 'unparseable answer' }] } };
}

/** A child read by its id in capitals answers as by its id: the same record, the same lists, the same cursors. */
async function expectCapitalsReadAsLowercase(t: TestHub): Promise<void> {
  const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, user: 'rt15-case' });
  const [row] = await t.sql(`SELECT v.minor_id AS id FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id WHERE m.grid_code LIKE '330102%' GROUP BY v.minor_id ORDER BY count(*) DESC LIMIT 1`);
  const q = `query($m: ID!, $a: ID) { minor(id: $m) { id name visits(first: 3, after: $a) { id } assessments(first: 3) { id } referrals(first: 3) { id } mandatoryReports(first: 3) { id } childrenHomeAttendances(first: 3) { id } carePlans(first: 3) { id } policeIncidents(first: 3) { id } } }`;
  const lower = await sendTo(t, ca, q, { m: row.id });
  expect(lower.body.errors).toBeUndefined();
  const upper = await sendTo(t, ca, q, { m: row.id.toUpperCase() });
  expect(upper.body).toEqual(lower.body);
  const cursor = lower.body.data.minor.visits[0].id;
  const a = await sendTo(t, ca, q, { m: row.id.toUpperCase(), a: cursor.toUpperCase() });
  const b = await sendTo(t, ca, q, { m: row.id, a: cursor });
  expect(b.body.errors).toBeUndefined();
  expect(a.body).toEqual(b.body);
}

describe('cursors and input (redteam15)', () => {
  let t: TestHub;
  const logged: string[] = [];
  let log: jest.SpyInstance;

  const send = (token: string, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => sendTo(t, token, query, variables, headers);

  let streets: string[];
  beforeAll(async () => {
    log = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    t = await startTestHub();
    const rows = await t.sql(`SELECT code FROM registry.region WHERE length(code) = 9 ORDER BY code`);
    streets = rows.map((r: any) => r.code);
  });
  afterAll(async () => {
    log.mockRestore();
    await t?.stop();
    // Nothing the refusals above caused is logged with a child's data or the database's words.
    const childLike = logged.filter((l) => /\b\d{17}[\dXx]\b|QueryFailed|invalid input syntax|minor:[0-9a-f-]{36}/.test(l));
    expect(childLike).toEqual([]);
  });

  it('refuses every forged minors cursor with one typed BAD_USER_INPUT, and serves a well-formed one only within the jurisdiction', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const uuid = '01666e24-a0ad-4f16-8a88-56a9bc69bebc';
    const forged: [string, string][] = [
      ['space', ' '], ['plain text', 'hello'], ['invalid base64', '!!!!****'], ['b64 minor:', b64('minor:')], ['b64 JSON', b64(JSON.stringify({ id: uuid }))],
      ['b64 SQL', b64(`minor:' OR 1=1 --`)], ['b64 uuid+NUL', b64(`minor:${uuid}\u0000`)], ['b64 NUL uuid', b64(`minor:\u0000${uuid}`)],
      ['b64 full-width', b64('minor:０１６６６e24-a0ad-4f16-8a88-56a9bc69bebc')], ['b64 uuid newline', b64(`minor:${uuid}\n`)], ['raw uuid', uuid],
      ['huge', 'A'.repeat(100_000)], ['huge b64 tail', b64(`minor:${uuid}`) + 'A'.repeat(100_000)], ['police cursor kind', b64(`police-incident:${uuid}`)],
      ['lone surrogate', 'ab\ud800cd'], ['NUL raw', 'a\u0000b'], ['b64 bytes', Buffer.from([0xff, 0xfe, 0x00, 0x80]).toString('base64url')],
    ];
    for (const [what, after] of forged) {
      const a = await send(ca, `query($a: String) { minors(first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, { a: after });
      expect([what, codes(a), a.body.errors?.[0]?.message, leaks(a, after)]).toEqual([what, ['BAD_USER_INPUT'], 'after: not a cursor returned by this API', []]);
      expect(a.body.data?.minors ?? null).toBeNull();
    }
    // Well-formed cursors naming any id (even one outside the reader's area) page on by id inside it.
    const street = streets[0];
    const st = await t.token(Department.CIVIL_AFFAIRS, { region: street });
    for (const after of [b64('minor:00000000-0000-0000-0000-000000000000'), b64(`minor:${uuid.toUpperCase()}`)]) {
      const a = await send(st, `query($a: String) { minors(first: 50, after: $a) { edges { node { id grid { code } } } } }`, { a: after });
      expect(a.body.errors).toBeUndefined();
      for (const e of a.body.data.minors.edges) expect(e.node.grid.code.startsWith(street)).toBe(true);
    }
  });

  /**
   * `after: ""` is no cursor this API returned (an `endCursor` is null on a last page, never empty):
   * every list refuses it (BAD_USER_INPUT). `minors` and the departments' record pages once took it
   * for no cursor and served the first page again, so a client that turned a missing cursor into ""
   * paged the first page for ever.
   */
  it.each([
    ['minors', Department.CIVIL_AFFAIRS, `query($a: String) { minors(first: 1, after: $a) { edges { cursor } } }`],
    ['policeIncidents', Department.POLICE, `query($a: String) { policeIncidents(first: 1, after: $a) { nodes { id } } }`],
    ['dropoutReports', Department.EDUCATION, `query($a: String) { dropoutReports(first: 1, after: $a) { nodes { id } } }`],
    ['referrals (holds)', Department.CIVIL_AFFAIRS, `query($a: ID) { referrals(first: 1, after: $a) { id } }`],
  ] as [string, Department, string][])('refuses an empty after on %s as any other forged cursor', async (_list, department, query) => {
    const a = await send(await t.token(department, { region: DISTRICT }), query, { a: '' });
    expect(codes(a)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers every after argument, root and under minor, with a replayed or forged cursor by every role with a typed answer and no SQL or stack', async () => {
    const intro = await send(await t.token(Department.CIVIL_AFFAIRS), `{ __schema { queryType { fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } types { name kind fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } } } } }`);
    const schema = intro.body.data.__schema;
    const minorType = schema.types.find((x: any) => x.name === 'Minor');
    const argText = (ty: any): string => (ty.kind === 'NON_NULL' ? `${argText(ty.ofType)}!` : ty.kind === 'LIST' ? `[${argText(ty.ofType)}]` : ty.name);
    const someMinor: string = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`))[0].id;
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const mc = await send(ca, `{ minors(first: 1) { pageInfo { endCursor } } }`);
    const minorsCursor: string = mc.body.data.minors.pageInfo.endCursor;
    const po = await send(await t.token(Department.POLICE, { region: DISTRICT }), `{ policeIncidents(first: 1) { nextCursor nodes { id } } }`);
    const policeCursor: string = po.body.data.policeIncidents.nextCursor;
    const policeId: string = po.body.data.policeIncidents.nodes[0].id;
    const cursors: [string, string][] = [
      ['empty', ''], ['minors cursor', minorsCursor], ['police cursor', policeCursor], ['police id', policeId], ['minor id', someMinor],
      ['uuid upper', someMinor.toUpperCase()], ['digits 19', '9'.repeat(19)], ['digits 18', '9'.repeat(18)], ['zero', '0'], ['negative', '-1'],
      ['huge', 'A'.repeat(100_000)], ['NUL', `${someMinor}\u0000`], ['sql', `' OR 1=1 --`], ['surrogate', '\ud800'], ['float', '1.5'], ['exp', '1e3'],
    ];
    const out: string[] = [];
    const calls: { where: string; query: (a: string) => string }[] = [];
    for (const f of schema.queryType.fields) {
      if (!f.args.some((a: any) => a.name === 'after')) continue;
      const required = f.args.filter((a: any) => a.type.kind === 'NON_NULL' && !['after', 'first', 'direction', 'includeRevoked'].includes(a.name));
      const decl = ['$a: String', ...required.map((a: any) => `$${a.name}: ${argText(a.type)}`)];
      const afterType = argText(f.args.find((a: any) => a.name === 'after').type);
      decl[0] = `$a: ${afterType}`;
      const args = ['after: $a', 'first: 1', ...required.map((a: any) => `${a.name}: $${a.name}`)];
      calls.push({ where: `Query.${f.name}(${required.map((a: any) => a.name).join(',')})`, query: () => `query(${decl.join(', ')}) { ${f.name}(${args.join(', ')}) { __typename } }` });
    }
    for (const f of minorType.fields) {
      if (!f.args.some((a: any) => a.name === 'after')) continue;
      const afterType = argText(f.args.find((a: any) => a.name === 'after').type);
      calls.push({ where: `Minor.${f.name}`, query: () => `query($a: ${afterType}, $minorId: ID!) { minor(id: $minorId) { ${f.name}(after: $a, first: 1) { __typename } } }` });
    }
    for (const [subject, department, role] of SUBJECT_TOKENS) {
      const token = await t.token(department, { role, region: DISTRICT, user: `rt15-${String(subject).toLowerCase()}` });
      for (const c of calls) {
        for (const [what, cursor] of cursors) {
          const vars: Record<string, unknown> = { a: cursor, minorId: someMinor };
          const a = await send(token, c.query(cursor), vars);
          const l = leaks(a, cursor);
          const cs = codes(a);
          // Served only for what can be a cursor of that list; an empty one is the case above.
          if (l.length || (cs.length === 0 && !['empty', 'minors cursor', 'police cursor', 'police id', 'minor id', 'uuid upper', 'digits 18', 'digits 19', 'zero'].includes(what))) {
            out.push(JSON.stringify([subject, c.where, what, a.status, cs, a.body.errors?.[0]?.message?.slice(0, 150), l]));
          }
        }
      }
    }
    expect(calls.length).toBeGreaterThan(30);
    expect(out).toEqual([]);
  });

  it('replays a district officer’s cursors and ids to a street officer: nothing outside the street, and an item outside it refused as an unknown one', async () => {
    const [mine, other] = streets;
    const district = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, user: 'rt15-district' });
    const street = await t.token(Department.CIVIL_AFFAIRS, { region: mine, user: 'rt15-street' });
    // minors: a district cursor naming a child of another street pages on inside the street.
    const otherChild = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${other}%`]))[0].id;
    const a = await send(street, `query($a: String) { minors(first: 100, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { id grid { code } } } } }`, { a: b64(`minor:${otherChild}`) });
    expect(a.body.errors).toBeUndefined();
    for (const e of a.body.data.minors.edges) expect(e.node.grid.code.startsWith(mine)).toBe(true);

    // referrals: the id of a referral of another street, as `after`, is refused as an unknown id is.
    const page = await send(district, `{ referrals(first: 100) { id minor { id grid { code } } } }`);
    expect(page.body.errors).toBeUndefined();
    const outside = (page.body.data.referrals as any[]).find((r) => r.minor && !r.minor.grid.code.startsWith(mine));
    const inside = (page.body.data.referrals as any[]).find((r) => r.minor && r.minor.grid.code.startsWith(mine));
    expect(outside).toBeDefined();
    const refusedOutside = await send(street, `query($a: ID) { referrals(first: 5, after: $a) { id } }`, { a: outside.id });
    const refusedUnknown = await send(street, `query($a: ID) { referrals(first: 5, after: $a) { id } }`, { a: '00000000-0000-4000-8000-000000000000' });
    expect(refusedOutside.body.errors).toEqual(refusedUnknown.body.errors);
    expect(codes(refusedOutside)).toEqual(['BAD_USER_INPUT']);
    if (inside) {
      const served = await send(street, `query($a: ID) { referrals(first: 100, after: $a) { id minor { grid { code } } } }`, { a: inside.id });
      expect(served.body.errors).toBeUndefined();
      for (const r of served.body.data.referrals) if (r.minor) expect(r.minor.grid.code.startsWith(mine)).toBe(true);
    }

    // a child's visits: another child's visit id, or one of a child outside the street, is refused alike.
    const [own, stranger] = await Promise.all([
      t.sql(`SELECT v.id, v.minor_id FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id WHERE m.grid_code LIKE $1 ORDER BY v.id LIMIT 2`, [`${mine}%`]),
      t.sql(`SELECT v.id FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id WHERE m.grid_code LIKE $1 LIMIT 1`, [`${other}%`]),
    ]);
    const q = `query($m: ID!, $a: ID) { minor(id: $m) { visits(first: 5, after: $a) { id } } }`;
    const otherOwn = own.find((v: any) => v.minor_id !== own[0].minor_id) ?? own[0];
    const answers = await Promise.all(
      [stranger[0].id, '00000000-0000-4000-8000-000000000000', ...(otherOwn.minor_id !== own[0].minor_id ? [otherOwn.id] : [])].map((after) => send(street, q, { m: own[0].minor_id, a: after })),
    );
    for (const x of answers) {
      expect(codes(x)).toEqual(['BAD_USER_INPUT']);
      expect(x.body.errors![0].message).toBe(answers[0].body.errors![0].message);
    }
  });

  it('answers page sizes at and past their edges, last, before and both, with a typed refusal', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const au = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, role: Role.AUDITOR });
    const po = await t.token(Department.POLICE, { region: DISTRICT });
    const someMinor: string = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`))[0].id;
    const cases: [string, string, string, Record<string, unknown>?][] = [];
    for (const first of [0, -1, -2147483648, 1001, 2147483647]) {
      cases.push([`minors first ${first}`, ca, `{ minors(first: ${first}) { edges { cursor } } }`]);
      cases.push([`policeIncidents first ${first}`, po, `{ policeIncidents(first: ${first}) { nodes { id } } }`]);
      cases.push([`referrals first ${first}`, ca, `{ referrals(first: ${first}) { id } }`]);
      cases.push([`notifications first ${first}`, ca, `{ notifications(first: ${first}) { id } }`]);
      cases.push([`auditEvents first ${first}`, au, `{ auditEvents(first: ${first}) { edges { cursor } } }`]);
      cases.push([`visits first ${first}`, ca, `query($m: ID!) { minor(id: $m) { visits(first: ${first}) { id } } }`, { m: someMinor }]);
    }
    for (const [what, query] of [
      ['last', `{ minors(last: 5) { edges { cursor } } }`],
      ['before', `{ minors(before: "abc") { edges { cursor } } }`],
      ['first and last', `{ minors(first: 5, last: 5) { edges { cursor } } }`],
      ['before and after', `{ minors(before: "abc", after: "abc") { edges { cursor } } }`],
      ['first null', `{ minors(first: null) { edges { cursor } } }`],
      ['first string', `{ minors(first: "5") { edges { cursor } } }`],
      ['first float', `{ minors(first: 5.5) { edges { cursor } } }`],
      ['after int', `{ minors(after: 5) { edges { cursor } } }`],
      ['referrals last', `{ referrals(last: 5) { id } }`],
      ['auditEvents before', `{ auditEvents(before: "5") { edges { cursor } } }`],
    ] as const) cases.push([what, what.startsWith('audit') ? au : ca, query]);
    const out: string[] = [];
    for (const [what, token, query, variables] of cases) {
      const a = await send(token, query, variables);
      const cs = codes(a);
      const l = leaks(a);
      // A literal page size an Int holds is priced before it runs (README, query cost): LIMIT_EXCEEDED, 413.
      if (l.length || !cs.length || !cs.every((c) => c === 'BAD_USER_INPUT' || c === 'GRAPHQL_VALIDATION_FAILED' || (c === 'LIMIT_EXCEEDED' && a.status === 413))) out.push(`${what}: ${a.status} ${cs} ${a.body.errors?.[0]?.message} ${l}`);
      if (cs.includes('GRAPHQL_VALIDATION_FAILED') && a.status !== 400) out.push(`${what}: validation refusal with HTTP ${a.status}`);
    }
    expect(out).toEqual([]);
  });

  /**
   * Walking a list a row at a time with the cursor each page gives visits every row of the list once,
   * in the order of one large page: ties on a sort key (rows written in one instant) neither repeat
   * nor drop a row.
   */
  it('walks every list a row at a time to the same rows, in the same order, as one large page', async () => {
    const district = (d: Department, role = Role.OFFICER) => t.token(d, { region: DISTRICT, role, user: `rt15-walk-${d}-${role}` });
    const ca = await district(Department.CIVIL_AFFAIRS);
    const po = await district(Department.POLICE);
    const rich: string = (await t.sql(`SELECT minor_id FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id WHERE m.grid_code LIKE '330102%' GROUP BY minor_id ORDER BY count(*) DESC LIMIT 1`))[0].minor_id;
    type Lister = (after: string | null, first: number) => Promise<{ ids: string[]; next: string | null }>;
    const list = (token: string, field: string, select: string, max: number, args = ''): Lister => async (after, first) => {
      const a = await send(token, `query($a: ID) { ${field}(first: ${first}, after: $a${args}) { ${select} } }`, { a: after });
      expect(a.body.errors).toBeUndefined();
      const rows = a.body.data[field] as { id: string }[];
      return { ids: rows.map((r) => r.id), next: rows.length === first ? rows[rows.length - 1].id : null };
    };
    const walks: [string, Lister, number][] = [
      ['minors under a filter (fenced)', async (after, first) => {
        const a = await send(ca, `query($a: String) { minors(first: ${first}, after: $a, filter: { regionCode: "${streets[0]}", riskLevels: [RED, ORANGE, YELLOW, BLUE] }) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { a: after });
        expect(a.body.errors).toBeUndefined();
        return { ids: a.body.data.minors.edges.map((e: any) => e.node.id), next: a.body.data.minors.pageInfo.hasNextPage ? a.body.data.minors.pageInfo.endCursor : null };
      }, 1000],
      ['referrals', list(ca, 'referrals', 'id', 500), 500],
      ['notifications', list(ca, 'notifications', 'id', 500), 500],
      ['mandatoryReports', list(ca, 'mandatoryReports', 'id', 500), 500],
      ['overdueReports', list(ca, 'overdueReports', 'id', 500), 500],
      ['minors', async (after, first) => {
        const a = await send(ca, `query($a: String) { minors(first: ${first}, after: $a, filter: { regionCode: "${streets[0]}" }) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { a: after });
        expect(a.body.errors).toBeUndefined();
        return { ids: a.body.data.minors.edges.map((e: any) => e.node.id), next: a.body.data.minors.pageInfo.hasNextPage ? a.body.data.minors.pageInfo.endCursor : null };
      }, 1000],
      ['policeIncidents', async (after, first) => {
        const a = await send(po, `query($a: String) { policeIncidents(first: ${first}, after: $a) { nextCursor nodes { id } } }`, { a: after });
        expect(a.body.errors).toBeUndefined();
        return { ids: a.body.data.policeIncidents.nodes.map((n: any) => n.id), next: a.body.data.policeIncidents.nextCursor };
      }, 1000],
      ['overdueVisits', async (after, first) => {
        const a = await send(ca, `query($a: ID) { overdueVisits(first: ${first}, after: $a) { minor { id } } }`, { a: after });
        expect(a.body.errors).toBeUndefined();
        const ids = a.body.data.overdueVisits.map((r: any) => r.minor.id);
        return { ids, next: ids.length === first ? ids[ids.length - 1] : null };
      }, 500],
      ['Minor.visits', async (after, first) => {
        const a = await send(ca, `query($m: ID!, $a: ID) { minor(id: $m) { visits(first: ${first}, after: $a) { id } } }`, { m: rich, a: after });
        expect(a.body.errors).toBeUndefined();
        const ids = a.body.data.minor.visits.map((r: any) => r.id);
        return { ids, next: ids.length === first ? ids[ids.length - 1] : null };
      }, 100],
    ];
    const out: string[] = [];
    for (const [name, lister, max] of walks) {
      const whole = (await lister(null, max)).ids.slice(0, 300);
      const walked: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 300; i++) {
        const page = await lister(after, 1);
        walked.push(...page.ids);
        if (!page.next) break;
        after = page.next;
      }
      if (!whole.length && name !== 'notifications') out.push(`${name}: nothing to walk`);
      const n = Math.min(whole.length, walked.length, 300);
      if (JSON.stringify(walked.slice(0, n)) !== JSON.stringify(whole.slice(0, n)) || new Set(walked).size !== walked.length) out.push(`${name}: walked ${walked.length}, whole ${whole.length}`);
      if (whole.length < 300 && walked.length !== whole.length) out.push(`${name}: walked ${walked.length} of ${whole.length}`);
    }
    expect(out).toEqual([]);
  });

  it('reads a child by its id in capitals as by its id: the same record, the same lists, the same cursors', () => expectCapitalsReadAsLowercase(t));

  /**
   * An accepted `after` tells that its item still passes the list's filter (workflow.pages AFTER):
   * the list records the filter's tests as read of that item's child, as of each child it names;
   * a refused one records nothing.
   */
  it('records a filtered workflow list’s tests of the child of an accepted after item, and nothing for a refused one', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, user: 'rt15-after-audit' });
    const first = await send(ca, `{ referrals(first: 2, status: [PENDING, ACCEPTED, COMPLETED, DECLINED]) { id minor { id } } }`);
    expect(first.body.errors).toBeUndefined();
    const [item] = (first.body.data.referrals as any[]).filter((r) => r.minor);
    expect(item).toBeDefined();
    // A page of one after the item: its child need not be the child of the item.
    const next = await send(ca, `query($a: ID) { referrals(first: 1, after: $a, status: [PENDING, ACCEPTED, COMPLETED, DECLINED]) { __typename } }`, { a: item.id });
    expect(next.body.errors).toBeUndefined();
    const event = await eventOf(t, next.requestId);
    const ofItem = event.reads.filter((r: any) => r.minorId === item.minor.id);
    expect(ofItem.map((r: any) => Object.keys(r.fields))).toEqual([expect.arrayContaining(['Referral.status'])]);

    const refused = await send(ca, `query($a: ID) { referrals(first: 1, after: $a, status: [PENDING]) { __typename } }`, { a: '00000000-0000-4000-8000-000000000000' });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect((await eventOf(t, refused.requestId)).reads).toEqual([]);
  });

  describe('hostile text and dates on writes: a typed BAD_USER_INPUT and nothing written', () => {
    const CREATE = `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`;
    let ca: string;
    let grid: string;
    let idNumber: (birth: string, seq?: number) => string;
    beforeAll(async () => {
      ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, user: 'rt15-writer' });
      grid = (await t.sql(`SELECT code FROM registry.region WHERE length(code) = 15 ORDER BY code LIMIT 1`))[0].code;
      idNumber = (birth, seq = 777) => buildIdNumber('330102', birth, seq);
    });
    const count = async () => Number((await t.sql(`SELECT count(*) FROM registry.minor`))[0].count);
    const valid = () => ({ name: '王小明', idNumber: idNumber('2015-06-01'), householdRegistration: '杭州市上城区', currentAddress: '杭州市上城区某路1号', gridCode: grid });

    it('refuses hostile names, addresses, ID numbers and birth dates on createMinor', async () => {
      const before = await count();
      const cases: [string, Record<string, unknown>][] = [
        ['name NUL', { name: '王\u0000明' }], ['name control', { name: '王\u0007明' }], ['name lone surrogate', { name: '王\ud800明' }],
        ['name RLM', { name: '王\u200f明' }], ['name RLO', { name: '\u202e明王' }], ['name whitespace', { name: '   ' }], ['name ideographic space', { name: '\u3000' }],
        ['name NBSP', { name: '王\u00a0明' }], ['name zero-width', { name: '\u200b' }], ['name 51 chars', { name: '王'.repeat(51) }], ['name 100k', { name: 'a'.repeat(100_000) }],
        ['name newline', { name: '王\n明' }], ['name Hangul filler', { name: '\u3164' }], ['name line separator', { name: '王\u2028明' }],
        ['address NUL', { currentAddress: 'x\u0000' }], ['school NUL', { school: 'x\u0000y' }], ['school surrogate', { school: '\udc00' }],
        ['id lowercase x wrong', { idNumber: idNumber('2015-06-01').slice(0, 17) + (idNumber('2015-06-01')[17] === 'X' ? '1' : 'x') }],
        ['id full-width digits', { idNumber: idNumber('2015-06-01').replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))) }],
        ['id NUL', { idNumber: `${idNumber('2015-06-01')}\u0000` }], ['id 17', { idNumber: idNumber('2015-06-01').slice(0, 17) }],
        ['id future birth', { idNumber: idNumber('2099-01-01') }], ['id 0000 birth', { idNumber: idNumber('0000-01-01') }],
        ['id Feb 30', { idNumber: buildBad('33010220150230777') }], ['id adult', { idNumber: idNumber('1990-01-01') }],
        ['birthDate 0000-00-00', { birthDate: '0000-00-00' }], ['birthDate 2015-02-30', { birthDate: '2015-02-30' }], ['birthDate tz', { birthDate: '2015-06-01T00:00:00Z' }],
        ['birthDate mismatch', { birthDate: '2015-06-02' }], ['birthDate full-width', { birthDate: '２０１５-０６-０１' }],
        ['grid NUL', { gridCode: `${grid}\u0000` }], ['grid full-width', { gridCode: grid.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))) }],
        ['grid outside', { gridCode: '999999999999999' }], ['gender mismatch', { gender: 'FEMALE', idNumber: idNumber('2015-06-01', 771) }],
      ];
      const out: string[] = [];
      for (const [what, change] of cases) {
        const a = await send(ca, CREATE, { i: { ...valid(), ...change } });
        const cs = codes(a);
        if (cs.join() !== 'BAD_USER_INPUT' || leaks(a, JSON.stringify(change)).length || a.body.data?.createMinor) out.push(`${what}: ${a.status} ${cs} ${a.body.errors?.[0]?.message?.slice(0, 200)}`);
      }
      expect(out).toEqual([]);
      expect(await count()).toBe(before);
      // 2015-02-30 is no date: whatever its check character, the number is refused.
      function buildBad(first17: string) {
        return first17 + '1';
      }
    });

    it('accepts a leap-day birth and a lowercase check x as the number it is, and refuses the same child again', async () => {
      let seq = 100;
      let id = buildIdNumber('330102', '2016-02-29', seq);
      while (!id.endsWith('X')) id = buildIdNumber('330102', '2016-02-29', ++seq);
      const a = await send(ca, CREATE, { i: { ...valid(), idNumber: id.toLowerCase(), birthDate: '2016-02-29' } });
      expect(a.body.errors).toBeUndefined();
      const [row] = await t.sql(`SELECT id_number, birth_date::text AS birth FROM registry.minor WHERE id = $1`, [a.body.data.createMinor.id]);
      expect(row).toEqual({ id_number: id, birth: '2016-02-29' });
      const again = await send(ca, CREATE, { i: { ...valid(), idNumber: ` ${id}\u3000` } });
      expect([codes(again), again.body.errors?.[0]?.message]).toEqual([['BAD_USER_INPUT'], 'idNumber: is already registered']);
    });

    it('looks a child up by an ID number with a lowercase x, surrounding spaces or full-width digits as the number it is, or refuses it typed', async () => {
      const [row] = await t.sql(`SELECT id, id_number FROM registry.minor WHERE id_number LIKE '%X' AND grid_code LIKE '330102%' AND birth_date > now() - interval '17 years' LIMIT 1`);
      const q = `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`;
      for (const n of [row.id_number.toLowerCase(), ` ${row.id_number}\u3000`, `\ufeff${row.id_number}`]) {
        const a = await send(ca, q, { n });
        expect([n, a.body.errors, a.body.data?.minorByIdNumber?.id]).toEqual([n, undefined, row.id]);
      }
      for (const n of [row.id_number.replace(/\d/g, (d: string) => String.fromCharCode(0xff10 + Number(d))), `${row.id_number}\u0000`, row.id_number.slice(0, 17) + 'Ｘ', '\ud800', '']) {
        const a = await send(ca, q, { n });
        expect([n, codes(a), leaks(a, n)]).toEqual([n, ['BAD_USER_INPUT'], []]);
      }
    });

    it('leaves a child’s record as it was when one field of an update is refused beside valid ones', async () => {
      const [row] = await t.sql(`SELECT id, name, current_address, school, grid_code, updated_at FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id OFFSET 3 LIMIT 1`);
      const UPDATE = `mutation($m: ID!, $i: UpdateMinorInput!) { updateMinor(id: $m, input: $i) { id name } }`;
      const out: string[] = [];
      for (const bad of [{ currentAddress: 'x\u0000y' }, { school: '\ud800' }, { gridCode: '999999999999999' }, { gridCode: `${row.grid_code}\u0000` }, { householdRegistration: '\u202e' }, { school: 's'.repeat(101) }]) {
        const a = await send(ca, UPDATE, { m: row.id, i: { name: '改过的名字', ...bad } });
        if (codes(a).join() !== 'BAD_USER_INPUT' || leaks(a).length) out.push(`${JSON.stringify(bad)}: ${a.status} ${codes(a)} ${a.body.errors?.[0]?.message}`);
      }
      expect(out).toEqual([]);
      const [after] = await t.sql(`SELECT id, name, current_address, school, grid_code, updated_at FROM registry.minor WHERE id = $1`, [row.id]);
      expect(after).toEqual(row);
    });

    it('refuses hostile dates and texts on visits, assessments, categories and guardians, writing nothing', async () => {
      const m: string = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND birth_date < now() - interval '5 years' ORDER BY id LIMIT 1`))[0].id;
      const counts = async () => (await t.sql(`SELECT (SELECT count(*) FROM registry.visit) v, (SELECT count(*) FROM registry.risk_assessment) a, (SELECT count(*) FROM registry.minor_category) c, (SELECT count(*) FROM registry.guardian) g`))[0];
      const before = await counts();
      const VISIT = `mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id } }`;
      const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id } }`;
      const CAT = `mutation($m: ID!, $d: String) { addCategory(minorId: $m, category: LEFT_BEHIND, identifiedAt: $d) { id } }`;
      const GUARD = `mutation($m: ID!, $i: GuardianInput!) { addGuardian(minorId: $m, input: $i) { id } }`;
      const cases: [string, string, Record<string, unknown>][] = [];
      for (const at of ['0000-00-00', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2099-01-01T00:00:00Z', '2010-01-01T23:59:60Z', '2010-01-01', '1899-12-31T23:59:59Z', 'now', '+275760-09-13T00:00:00Z', '2026-01-01T00:00:00+25:00', '１９９９-01-01T00:00:00Z']) {
        cases.push([`visitedAt ${at}`, VISIT, { m, i: { notes: 'rt15', visitedAt: at } }]);
        cases.push([`assessedAt ${at}`, ASSESS, { m, i: { level: 'BLUE', reasons: 'rt15', assessedAt: at } }]);
      }
      for (const d of ['0000-00-00', '2026-02-30', '2099-01-01', '2010-1-1', '2010-01-01T00:00:00Z', '１９９９-01-01', '2023-02-29', '', ' ', '\u00002010-01-01']) cases.push([`identifiedAt ${JSON.stringify(d)}`, CAT, { m, d }]);
      for (const notes of ['\u0000', 'a\u0000b', '\ud800', '   ', '\u200b', '\u202e', 'x'.repeat(2001), '\u2028']) {
        cases.push([`notes ${JSON.stringify(notes.slice(0, 5))}`, VISIT, { m, i: { notes } }]);
      }
      for (const g of [{ name: '\u0000' }, { name: ' ' }, { phone: '１３９００００１８０３' }, { phone: '139\u00000001803' }, { phone: '+' }, { situationNote: '\ud83d' }, { address: '\u200e' }]) {
        cases.push([`guardian ${JSON.stringify(g)}`, GUARD, { m, i: { relationship: 'MOTHER', name: '李红', ...g } }]);
      }
      const out: string[] = [];
      for (const [what, query, variables] of cases) {
        const a = await send(ca, query, variables);
        const cs = codes(a);
        if (cs.join() !== 'BAD_USER_INPUT' || leaks(a).length) out.push(`${what}: ${a.status} ${cs} ${a.body.errors?.[0]?.message?.slice(0, 200)} ${leaks(a)}`);
      }
      expect(out).toEqual([]);
      expect(await counts()).toEqual(before);
    });

    it('reads with hostile dates in filters answer typed, never an internal error', async () => {
      const au = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, role: Role.AUDITOR });
      const out: string[] = [];
      for (const at of ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00+01:00', '9999-12-31T23:59:59.999999999Z', '2010-01-01T23:59:60Z', '1970-01-01T00:00:00Z', '0001-01-01T00:00:00-23:59']) {
        for (const [token, query, vars] of [
          [ca, `query($d: DateTimeISO) { minors(first: 1, filter: { nextVisitDueBefore: $d }) { totalCount edges { cursor } } }`, { d: at }],
          [au, `query($d: DateTimeISO) { auditEvents(first: 1, filter: { from: $d }) { edges { cursor } } }`, { d: at }],
          [au, `query($d: DateTimeISO) { auditEvents(first: 1, filter: { to: $d }) { edges { cursor } } }`, { d: at }],
        ] as [string, string, Record<string, unknown>][]) {
          const a = await send(token, query, vars);
          const cs = codes(a);
          if (leaks(a, at).length || !cs.every((c) => c === 'BAD_USER_INPUT')) out.push(`${query.slice(0, 60)} ${at}: ${a.status} ${cs} ${a.body.errors?.[0]?.message?.slice(0, 200)}`);
        }
      }
      expect(out).toEqual([]);
    });
  });
});

describe('cursors and input with every subgraph served alone (redteam15)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });
  it('answers forged cursors, foreign cursors and hostile text as the in-process hub does: typed BAD_USER_INPUT, nothing of SQL', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const po = await t.token(Department.POLICE, { region: DISTRICT });
    const m: string = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`))[0].id;
    const cases: [string, string, Record<string, unknown>][] = [
      [ca, `query($a: String) { minors(first: 1, after: $a) { edges { cursor } } }`, { a: b64(`minor:${m}\u0000`) }],
      [ca, `query($a: String) { minors(first: 1, after: $a) { edges { cursor } } }`, { a: 'A'.repeat(100_000) }],
      [po, `query($a: String) { policeIncidents(first: 1, after: $a) { nodes { id } } }`, { a: b64(`minor:${m}`) }],
      [ca, `query($a: ID) { referrals(first: 1, after: $a) { id } }`, { a: `${m}\u0000` }],
      [ca, `query($m: ID!, $a: ID) { minor(id: $m) { visits(first: 1, after: $a) { id } } }`, { m, a: '\ud800' }],
      [po, `query($m: ID!, $a: ID) { minor(id: $m) { policeIncidents(first: 1, after: $a) { id } } }`, { m, a: m }],
      [ca, `mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id } }`, { m, i: { notes: 'a\u0000b' } }],
      [ca, `mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id } }`, { m, i: { notes: '\ud800' } }],
      [ca, `mutation($m: ID!, $i: UpdateMinorInput!) { updateMinor(id: $m, input: $i) { id } }`, { m, i: { name: '\u202e王' } }],
    ];
    const visits = Number((await t.sql(`SELECT count(*) FROM registry.visit`))[0].count);
    const out: string[] = [];
    for (const [token, query, variables] of cases) {
      const res = await fetch(t.hub.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...PURPOSE }, body: JSON.stringify({ query, variables }) });
      const a: Answer = { status: res.status, requestId: '', body: (await res.json()) as Answer['body'] };
      if (codes(a).join() !== 'BAD_USER_INPUT' || leaks(a, String(variables.a ?? '')).length) out.push(`${query.slice(0, 70)}: ${a.status} ${codes(a)} ${a.body.errors?.[0]?.message?.slice(0, 150)}`);
    }
    expect(out).toEqual([]);
    expect(Number((await t.sql(`SELECT count(*) FROM registry.visit`))[0].count)).toBe(visits);
  });

  it('refuses hostile dates, inline or as variables, typed, when the gateway knows the date scalar by name only', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const au = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, role: Role.AUDITOR });
    const m: string = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`))[0].id;
    const visits = Number((await t.sql(`SELECT count(*) FROM registry.visit`))[0].count);
    const out: string[] = [];
    for (const at of ['2010-01-01T23:59:60Z', '2026-02-30T00:00:00Z', '0000-00-00', '2010-01-01', 'now', '', '１９９９-01-01T00:00:00Z', '2099-01-01T00:00:00Z', '0000-01-01T00:00:00Z']) {
      const lit = JSON.stringify(at);
      const cases: [string, string, Record<string, unknown>][] = [
        [ca, `{ minors(first: 1, filter: { nextVisitDueBefore: ${lit} }) { edges { cursor } } }`, {}],
        [ca, `query($d: DateTimeISO) { minors(first: 1, filter: { nextVisitDueBefore: $d }) { edges { cursor } } }`, { d: at }],
        [au, `{ auditEvents(first: 1, filter: { from: ${lit} }) { edges { cursor } } }`, {}],
        [ca, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "rt15", visitedAt: ${lit} }) { id } }`, { m }],
        [ca, `mutation($m: ID!, $d: DateTimeISO) { recordVisit(minorId: $m, input: { notes: "rt15", visitedAt: $d }) { id } }`, { m, d: at }],
      ];
      for (const [token, query, variables] of cases) {
        const res = await fetch(t.hub.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...PURPOSE }, body: JSON.stringify({ query, variables }) });
        const a: Answer = { status: res.status, requestId: '', body: (await res.json()) as Answer['body'] };
        const cs = codes(a);
        const served = cs.length === 0;
        // Dates that are valid instants may be served by reads (0000-01-01 is an instant; a filter before it matches nothing).
        if (served && (query.startsWith('mutation') || !['0000-01-01T00:00:00Z', '2099-01-01T00:00:00Z'].includes(at))) out.push(`${at} ${query.slice(0, 60)}: served`);
        if (!served && (!cs.every((c) => c === 'BAD_USER_INPUT' || c === 'GRAPHQL_VALIDATION_FAILED') || leaks(a, at).length)) out.push(`${at} ${query.slice(0, 60)}: ${a.status} ${cs} ${a.body.errors?.[0]?.message?.slice(0, 160)}`);
      }
    }
    expect(out).toEqual([]);
    expect(Number((await t.sql(`SELECT count(*) FROM registry.visit`))[0].count)).toBe(visits);
  });
  it('reads a child by its id in capitals as by its id, across subgraphs served alone', () => expectCapitalsReadAsLowercase(t));

});
