import { randomUUID } from 'crypto';
import { performance } from 'perf_hooks';
import { auditEvent } from '../src/audit/audit-event';
import { AuditOutcome, PurposeCode } from '../src/audit/audit.types';
import { Department, Role } from '../src/auth/principal';
import { Access } from '../src/policy/policy.types';
import { asDba, post } from './support/audit-helpers';
import { canonicalJson, chainHash } from '../src/audit/canonical';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const DISTRICT = '330102';
const STREET_A = '330102001';
const STREET_B = '330102002';
const MIN = 60_000;
const WINDOW = 10 * MIN;

/** Red-team probes of the data officer's API: filters, pages and anomaly flags at their boundaries (redteam17). */
describe('auditor API boundaries (redteam17)', () => {
  let t: TestHub;
  let auditor: string;
  let children: string[];

  /** An event as the gateway writes it, stamped at `at`. */
  async function plant(o: {
    at: string | number;
    user: string;
    department?: Department;
    region?: string;
    reads?: string[];
    outcome?: AuditOutcome;
    errorCodes?: string[];
    purpose?: PurposeCode | null;
    operationType?: string;
    requestId?: string;
  }): Promise<string> {
    const requestId = o.requestId ?? randomUUID();
    const body = auditEvent({
      requestId,
      startedAt: performance.now(),
      principal: { userId: o.user, department: o.department ?? Department.POLICE, role: Role.OFFICER, region: o.region ?? DISTRICT },
      clientAddress: null,
      outcome: o.outcome ?? AuditOutcome.SUCCESS,
      errorCodes: o.errorCodes ?? [],
    } as any);
    body.time = new Date(o.at).toISOString();
    body.operationType = o.operationType ?? 'query';
    body.purpose = o.purpose === null ? null : { code: o.purpose ?? PurposeCode.CASE_HANDLING };
    body.reads = o.reads?.length ? [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: o.reads }] : [];
    await t.hub.audit.append(body);
    return requestId;
  }

  async function anomalies(from: string, to: string): Promise<any[]> {
    const r = await t.gql(auditor, `query($from: DateTimeISO, $to: DateTimeISO) { auditAnomalies(from: $from, to: $to) { kind userId department count requestIds description } }`, { from, to }, {});
    expect(r.errors).toBeUndefined();
    return r.data.auditAnomalies;
  }

  beforeAll(async () => {
    t = await startTestHub({
      env: { HUB_ANOMALY_DISTINCT_MINORS: '5', HUB_ANOMALY_FORBIDDEN_ATTEMPTS: '3' },
    });
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt17-auditor' });
    children = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET_A}%' ORDER BY id LIMIT 30`)).map((m) => m.id);
  });
  afterAll(() => t.stop());

  // ---------------------------------------------------------------- OFF_HOURS
  it('OFF_HOURS: judges working hours [8, 20) and weekends in China time, at each boundary', async () => {
    // 2026-11-25 is a Wednesday (China time and UTC alike at 08:00–20:00 China time).
    const cases: [string, boolean][] = [
      ['2026-11-25T00:00:00.000Z', false], // Wed 08:00 CST: working
      ['2026-11-24T23:59:59.999Z', true], // Wed 07:59:59.999 CST
      ['2026-11-25T11:59:59.999Z', false], // Wed 19:59:59.999 CST
      ['2026-11-25T12:00:00.000Z', true], // Wed 20:00 CST
      ['2026-11-28T02:00:00.000Z', true], // Sat 10:00 CST
      ['2026-11-29T02:00:00.000Z', true], // Sun 10:00 CST
      ['2026-11-30T01:00:00.000Z', false], // Mon 09:00 CST (Sun 01:00 UTC)
      ['2026-11-27T11:00:00.000Z', false], // Fri 19:00 CST
      ['2026-11-27T16:30:00.000Z', true], // Sat 00:30 CST (Fri 16:30 UTC)
    ];
    const expected: string[] = [];
    for (const [i, [at, off]] of cases.entries()) {
      const id = await plant({ at, user: 'rt17-clock', reads: [children[i]] });
      if (off) expected.push(id);
    }
    const flags = await anomalies('2026-11-20T00:00:00Z', '2026-12-05T00:00:00Z');
    const off = flags.find((f) => f.kind === 'OFF_HOURS' && f.userId === 'rt17-clock');
    expect(off && [off.count, [...off.requestIds].sort()]).toEqual([expected.length, [...expected].sort()]);
  });

  // ---------------------------------------------------------------- MANY_CHILDREN
  it('MANY_CHILDREN: 5 children with reads W − 1 ms apart are flagged, W apart are not', async () => {
    const base = Date.parse('2026-11-21T03:00:00Z');
    const inside = [await plant({ at: base, user: 'rt17-many-in', reads: children.slice(0, 4) }), await plant({ at: base + WINDOW - 1, user: 'rt17-many-in', reads: [children[4]] })];
    await plant({ at: base, user: 'rt17-many-out', reads: children.slice(0, 4) });
    await plant({ at: base + WINDOW, user: 'rt17-many-out', reads: [children[4]] });
    const flags = await anomalies('2026-11-20T00:00:00Z', '2026-12-05T00:00:00Z');
    const inFlag = flags.find((f) => f.kind === 'MANY_CHILDREN' && f.userId === 'rt17-many-in');
    expect(inFlag && [inFlag.count, [...inFlag.requestIds].sort()]).toEqual([5, [...inside].sort()]);
    expect(flags.filter((f) => f.kind === 'MANY_CHILDREN' && f.userId === 'rt17-many-out')).toEqual([]);
  });

  // ---------------------------------------------------------------- REPEATED_FORBIDDEN
  it('REPEATED_FORBIDDEN: 3 refusals within W − 1 ms are flagged, spanning W are not', async () => {
    const base = Date.parse('2026-11-21T04:00:00Z');
    const refused = { outcome: AuditOutcome.ERROR, errorCodes: ['FORBIDDEN'] };
    const inside: string[] = [];
    for (const d of [0, WINDOW / 2, WINDOW - 1]) inside.push(await plant({ at: base + d, user: 'rt17-forb-in', ...refused }));
    for (const d of [0, WINDOW / 2, WINDOW]) await plant({ at: base + d, user: 'rt17-forb-out', ...refused });
    const flags = await anomalies('2026-11-20T00:00:00Z', '2026-12-05T00:00:00Z');
    const f = flags.find((x) => x.kind === 'REPEATED_FORBIDDEN' && x.userId === 'rt17-forb-in');
    expect(f && [f.count, [...f.requestIds].sort()]).toEqual([3, [...inside].sort()]);
    expect(flags.filter((x) => x.kind === 'REPEATED_FORBIDDEN' && x.userId === 'rt17-forb-out')).toEqual([]);
  });

  // ---------------------------------------------------------------- UNFINISHED_MUTATION
  it('UNFINISHED_MUTATION: a STARTED event whose final event came after `to` is not unfinished; one without is', async () => {
    const at = Date.parse('2026-11-22T03:00:00Z');
    const finished = randomUUID();
    await plant({ at, user: 'rt17-mut', outcome: AuditOutcome.STARTED, operationType: 'mutation', requestId: finished });
    await plant({ at: at + 2000, user: 'rt17-mut', outcome: AuditOutcome.SUCCESS, operationType: 'mutation', requestId: finished, reads: [children[0]] });
    const lost = await plant({ at: at + 500, user: 'rt17-mut', outcome: AuditOutcome.STARTED, operationType: 'mutation' });
    const flags = await anomalies('2026-11-20T00:00:00Z', new Date(at + 1000).toISOString());
    const u = flags.find((x) => x.kind === 'UNFINISHED_MUTATION' && x.userId === 'rt17-mut');
    expect(u && u.requestIds).toEqual([lost]);
  });

  // ---------------------------------------------------------------- auditEvents filters and pages
  it('auditEvents: `from` inclusive, `to` exclusive, given in China time or UTC alike', async () => {
    const at = '2026-11-23T02:00:00.000Z';
    const id = await plant({ at, user: 'rt17-window', reads: [children[1]] });
    const Q = `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { node { requestId time } } } }`;
    const ids = async (f: object) => {
      const r = await t.gql(auditor, Q, { f: { userId: 'rt17-window', ...f } }, {});
      expect(r.errors).toBeUndefined();
      return r.data.auditEvents.edges.map((e: any) => e.node.requestId);
    };
    expect(await ids({ from: at })).toEqual([id]);
    expect(await ids({ from: '2026-11-23T10:00:00.000+08:00' })).toEqual([id]);
    expect(await ids({ to: at })).toEqual([]);
    expect(await ids({ to: '2026-11-23T10:00:00.001+08:00' })).toEqual([id]);
    expect(await ids({ from: '2026-11-23T10:00:00.001+08:00' })).toEqual([]);
  });

  it('auditEvents: paging one event at a time over events with one timestamp neither skips nor repeats', async () => {
    const at = '2026-11-23T03:00:00.000Z';
    const planted: string[] = [];
    for (let i = 0; i < 7; i++) planted.push(await plant({ at, user: 'rt17-same-time', reads: [children[i]] }));
    const Q = `query($after: String) { auditEvents(filter: { userId: "rt17-same-time" }, first: 2, after: $after) { edges { cursor node { requestId } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: any = await t.gql(auditor, Q, { after }, {});
      expect(r.errors).toBeUndefined();
      seen.push(...r.data.auditEvents.edges.map((e: any) => e.node.requestId));
      if (!r.data.auditEvents.pageInfo.hasNextPage) break;
      after = r.data.auditEvents.pageInfo.endCursor;
    }
    expect(seen).toEqual([...planted].reverse());
  });

  // ---------------------------------------------------------------- jurisdiction
  it('a street auditor sees nothing of another street’s callers: events, a child’s history, anomalies', async () => {
    const streetAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'rt17-street-auditor' });
    const [{ id: childB }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET_B}%' ORDER BY id LIMIT 1`);
    const base = Date.parse('2026-11-24T13:00:00Z'); // off hours
    for (let i = 0; i < 4; i++) await plant({ at: base + i, user: 'rt17-b-officer', region: STREET_B, reads: [childB], errorCodes: ['FORBIDDEN'], outcome: AuditOutcome.ERROR });
    const ev = await t.gql(streetAuditor, `query($m: ID!) { auditEvents(filter: { minorId: $m }) { edges { node { userId } } } }`, { m: childB }, {});
    expect(ev.errors).toBeUndefined();
    expect(ev.data.auditEvents.edges).toEqual([]);
    // Answered as an unknown id is: the officer's own look-ups (recorded as reads of the id asked) and nothing else.
    const unknown = randomUUID();
    await t.gql(streetAuditor, `query($m: ID!) { auditEvents(filter: { minorId: $m }) { edges { node { userId } } } }`, { m: unknown }, {});
    for (const m of [childB, unknown]) {
      const h = await t.gql(streetAuditor, `query($m: ID!) { minorAccessHistory(minorId: $m) { userId } }`, { m }, {});
      expect(h.errors).toBeUndefined();
      expect(h.data.minorAccessHistory).toEqual([{ userId: 'rt17-street-auditor' }]);
    }
    const a = await t.gql(streetAuditor, `query($from: DateTimeISO, $to: DateTimeISO) { auditAnomalies(from: $from, to: $to) { userId } }`, { from: '2026-11-20T00:00:00Z', to: '2026-12-05T00:00:00Z' }, {});
    expect(a.errors).toBeUndefined();
    expect(a.data.auditAnomalies.filter((x: any) => x.userId === 'rt17-b-officer')).toEqual([]);
  });

  // ---------------------------------------------------------------- roles
  it('no role but AUDITOR reaches any of the four root fields', async () => {
    const queries = [
      `{ auditEvents { edges { cursor } } }`,
      `query { minorAccessHistory(minorId: "${children[0]}") { seq } }`,
      `{ auditVerify { ok } }`,
      `{ auditAnomalies { kind } }`,
    ];
    for (const role of [Role.OFFICER, Role.DASHBOARD, Role.REPORTER, Role.EMPLOYER]) {
      const token = await t.token(Department.CIVIL_AFFAIRS, { role, user: `rt17-${role.toLowerCase()}` });
      for (const q of queries) {
        const r = await post(t, token, { query: q });
        expect([role, q, r.json?.data ? Object.values(r.json.data).filter((v) => v !== null) : []]).toEqual([role, q, []]);
        expect([role, q, errorCodes({ status: r.status, ...r.json })]).toEqual([role, q, expect.arrayContaining(['FORBIDDEN'])]);
      }
    }
  });

  // ---------------------------------------------------------------- minorAccessHistory pages
  it('minorAccessHistory: pages of 2 over events with one timestamp neither skip nor repeat', async () => {
    const child = children[20];
    const at = '2026-11-23T04:00:00.000Z';
    const planted: string[] = [];
    for (let i = 0; i < 5; i++) planted.push(await plant({ at, user: `rt17-hist-${i}`, reads: [child, children[21]] }));
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: any = await t.gql(auditor, `query($m: ID!, $after: String) { minorAccessHistory(minorId: $m, first: 2, after: $after) { seq requestId fields { field access } } }`, { m: child, after }, {});
      expect(r.errors).toBeUndefined();
      const rows = r.data.minorAccessHistory.filter((x: any) => planted.includes(x.requestId));
      for (const x of rows) expect(x.fields).toEqual([{ field: 'Minor.name', access: 'ALLOW' }]);
      seen.push(...rows.map((x: any) => x.requestId));
      if (r.data.minorAccessHistory.length < 2) break;
      after = r.data.minorAccessHistory[r.data.minorAccessHistory.length - 1].seq;
    }
    expect(seen).toEqual([...planted].reverse());
  });

  // ---------------------------------------------------------------- UNUSUAL_PURPOSE
  it('UNUSUAL_PURPOSE: 1 of 20 (share 0.05) is not below the share, 1 of 21 is; fewer than 20 reads never', async () => {
    const base = Date.parse('2026-11-26T02:00:00Z');
    for (let i = 0; i < 19; i++) await plant({ at: base + i * 1000, user: 'rt17-purpose-20', reads: [children[i % 10]] });
    await plant({ at: base + 30_000, user: 'rt17-purpose-20', reads: [children[0]], purpose: PurposeCode.EMPLOYMENT_CHECK });
    for (let i = 0; i < 20; i++) await plant({ at: base + i * 1000, user: 'rt17-purpose-21', reads: [children[i % 10]] });
    const odd = await plant({ at: base + 30_000, user: 'rt17-purpose-21', reads: [children[0]], purpose: PurposeCode.EMPLOYMENT_CHECK });
    const flags = await anomalies('2026-11-20T00:00:00Z', '2026-12-05T00:00:00Z');
    expect(flags.filter((f) => f.kind === 'UNUSUAL_PURPOSE' && f.userId === 'rt17-purpose-20')).toEqual([]);
    const u = flags.filter((f) => f.kind === 'UNUSUAL_PURPOSE' && f.userId === 'rt17-purpose-21');
    expect(u.map((f) => [f.count, f.requestIds])).toEqual([[1, [odd]]]);
  });

  // ---------------------------------------------------------------- ACCESS_IN_DOUBT
  it('ACCESS_IN_DOUBT: a lost answer beside served data (PARTIAL) is flagged, naming the subgraph', async () => {
    const at = Date.parse('2026-11-26T03:00:00Z');
    const id = await plant({ at, user: 'rt17-doubt', reads: [children[2]], outcome: AuditOutcome.PARTIAL, errorCodes: ['SUBGRAPH_ANSWER_LOST', 'SUBGRAPH_ANSWER_LOST:departments'] });
    const flags = await anomalies('2026-11-20T00:00:00Z', '2026-12-05T00:00:00Z');
    const d = flags.filter((f) => f.kind === 'ACCESS_IN_DOUBT' && f.userId === 'rt17-doubt');
    expect(d.map((f) => [f.count, f.requestIds])).toEqual([[1, [id]]]);
    expect(d[0].description).toContain('departments');
  });

  // ---------------------------------------------------------------- windows and dates
  it('auditAnomalies: a window of exactly 31 days is answered, one of 31 days and 1 ms refused; odd dates are no 500', async () => {
    const Q = `query($from: DateTimeISO, $to: DateTimeISO) { auditAnomalies(from: $from, to: $to) { kind } }`;
    const to = Date.parse('2026-12-01T00:00:00Z');
    const ok = await t.gql(auditor, Q, { from: new Date(to - 31 * 86_400_000).toISOString(), to: new Date(to).toISOString() }, {});
    expect(ok.errors).toBeUndefined();
    const over = await t.gql(auditor, Q, { from: new Date(to - 31 * 86_400_000 - 1).toISOString(), to: new Date(to).toISOString() }, {});
    expect(errorCodes(over)).toEqual(['BAD_USER_INPUT']);
    for (const v of [
      { from: '0001-01-01T00:00:00Z', to: '0001-01-05T00:00:00Z' },
      { to: '0001-01-03T00:00:00Z' },
      { from: '9999-12-30T00:00:00Z', to: '9999-12-31T23:59:59.999Z' },
      { from: '0000-01-01T00:00:00Z', to: '0000-01-02T00:00:00Z' },
      { to: '0000-01-03T00:00:00Z' },
      { to: '1970-01-03T00:00:00Z' },
    ]) {
      const r = await t.gql(auditor, Q, v, {});
      expect([v, r.status, errorCodes(r).filter((c) => c !== 'BAD_USER_INPUT')]).toEqual([v, expect.any(Number), []]);
    }
    const E = `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { cursor } } }`;
    for (const f of [{ from: '0000-01-01T00:00:00Z' }, { to: '0001-01-01T00:00:00Z' }, { from: '9999-12-31T23:59:59.999Z' }]) {
      const r = await t.gql(auditor, E, { f }, {});
      expect([f, errorCodes(r).filter((c) => c !== 'BAD_USER_INPUT')]).toEqual([f, []]);
    }
  });

  // ---------------------------------------------------------------- real requests
  it('real requests: a mutation counts once (not its STARTED event) in OFF_HOURS, its history shows the change', async () => {
    // Weekend or night in China time when this runs? Only then is OFF_HOURS expected.
    const now = new Date(Date.now() + 8 * 3_600_000);
    const off = now.getUTCDay() === 0 || now.getUTCDay() === 6 || now.getUTCHours() < 8 || now.getUTCHours() >= 20;
    const officer = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt17-real' });
    const child = children[25];
    const m = await post(t, officer, { query: `mutation($id: ID!) { updateMinor(id: $id, input: { school: "rt17 小学" }) { id } }`, variables: { id: child } });
    expect(m.json.errors).toBeUndefined();
    const byId = await t.gql(auditor, `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { outcome changes { minorId } } } } }`, { r: m.requestId }, {});
    expect(byId.data.auditEvents.edges.map((e: any) => e.node.outcome).sort()).toEqual(['STARTED', 'SUCCESS']);
    const h = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m, first: 5) { requestId outcome changes { mutation minorId } } }`, { m: child }, {});
    expect(h.errors).toBeUndefined();
    expect(h.data.minorAccessHistory.filter((x: any) => x.requestId === m.requestId)).toEqual([{ requestId: m.requestId, outcome: 'SUCCESS', changes: [{ mutation: 'updateMinor', minorId: child }] }]);
    const flags = await anomalies(new Date(Date.now() - 3_600_000).toISOString(), new Date(Date.now() + 60_000).toISOString());
    const o = flags.filter((f) => f.kind === 'OFF_HOURS' && f.userId === 'rt17-real');
    expect(o.map((f) => [f.count, f.requestIds])).toEqual(off ? [[1, [m.requestId]]] : []);
  });

  // ---------------------------------------------------------------- client text Postgres's jsonb cannot hold
  it('no client text (a comment, an operation name, a variable name) puts into an event what jsonb refuses: the scans stay answered', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt17-text' });
    const child = children[24];
    const sent = [
      { query: `query($id: ID!) { minor(id: $id) { name } } # \u0000 nul`, variables: { id: child } },
      { query: `query($id: ID!) { minor(id: $id) { name } } # \ud800 lone`, variables: { id: child } },
      { query: `query($id: ID!) { minor(id: $id) { name } }\n# \u0000\n`, variables: { id: child }, operationName: null },
      { query: `query Q($id: ID!) { minor(id: $id) { name } }`, variables: { id: child }, operationName: 'Q\u0000' },
      { query: `query($id: ID!) { minor(id: $id) { name @include(if: true) } } query B { regions { code } }`, variables: { id: child }, operationName: '\ud800' },
      { query: `query($id: ID!) { minor(id: $id) { name } __typename @skip(if: false) }`, variables: { id: child, '\u0000': 1 } },
    ];
    for (const body of sent) await post(t, officer, body);
    const history = await post(t, auditor, { query: `query($m: ID!) { minorAccessHistory(minorId: $m) { seq } }`, variables: { m: child } }, {});
    const flags = await post(t, auditor, { query: `query($from: DateTimeISO) { auditAnomalies(from: $from) { kind } }`, variables: { from: new Date(Date.now() - 120_000).toISOString() } }, {});
    const page = await post(t, auditor, { query: `{ auditEvents(filter: { userId: "rt17-text" }) { edges { node { seq document operationName } } } }` }, {});
    expect([history.json.errors, flags.json.errors, page.json.errors]).toEqual([undefined, undefined, undefined]);
  });

  // ---------------------------------------------------------------- one child read twice, spelt two ways
  it('minorAccessHistory shows every field a request read of the child, whichever way the request spelt its id', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt17-spelling' });
    const child = children[22];
    const r = await post(t, officer, { query: `query($u: ID!, $l: ID!) { a: minor(id: $u) { name } b: minor(id: $l) { gender } }`, variables: { u: child.toUpperCase(), l: child } });
    expect(r.json.errors).toBeUndefined();
    const h = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m, first: 3) { requestId fields { field } } }`, { m: child }, {});
    expect(h.errors).toBeUndefined();
    const mine = h.data.minorAccessHistory.filter((x: any) => x.requestId === r.requestId);
    expect(mine.map((x: any) => x.fields.map((f: any) => f.field).sort())).toEqual([['Minor.gender', 'Minor.name']]);
  });

  // ---------------------------------------------------------------- legacy user ids
  // Until 1fd7694 (2026-12-01) a token's subject was refused only C0 controls and DEL
  // (/^[^\u0000-\u001f\u007f]{1,200}$/): ids with bidirectional controls, line separators or C1
  // controls were served and recorded. The resolver says any id the trail may hold stays searchable (a70b768).
  it.each([
    ['a right-to-left override (U+202E)', 'rt17-legacy\u202Eil'],
    ['a line separator (U+2028)', 'rt17-legacy\u2028b'],
    ['a C1 control (U+009B, CSI)', 'rt17-legacy\u009b2J'],
  ])('auditEvents finds the events of a user id with %s, stored before the token rules grew stricter', async (_name, legacy) => {
    const requestId = await plant({ at: '2026-11-25T03:00:00Z', user: legacy, reads: [children[3]] });
    const r = await t.gql(auditor, `query($u: String!) { auditEvents(filter: { userId: $u }) { edges { node { userId requestId } } } }`, { u: legacy }, {});
    expect([r.errors?.map((e) => [e.extensions?.code, e.message]), r.data?.auditEvents?.edges]).toEqual([undefined, [{ node: { userId: legacy, requestId } }]]);
  });

  // ---------------------------------------------------------------- a page bounded by the children it answers
  it('auditEvents: a page answering reads stops at first × 100 fields of children answered, exactly: 100 + 100 fit, 101 + 100 do not, and nothing is skipped', async () => {
    const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
    const at = Date.parse('2026-11-23T05:00:00Z');
    const a1 = await plant({ at, user: 'rt17-bulk-a', reads: ids(100) });
    const a2 = await plant({ at: at + 1, user: 'rt17-bulk-a', reads: ids(100) });
    const b1 = await plant({ at, user: 'rt17-bulk-b', reads: ids(100) });
    const b2 = await plant({ at: at + 1, user: 'rt17-bulk-b', reads: ids(101) });
    const Q = `query($u: String!, $after: String) { auditEvents(filter: { userId: $u }, first: 2, after: $after) { edges { node { requestId reads { minorId } } } pageInfo { hasNextPage endCursor } } }`;
    const pages = async (u: string) => {
      const out: string[][] = [];
      let after: string | null = null;
      for (let i = 0; i < 5; i++) {
        const r: any = await t.gql(auditor, Q, { u, after }, {});
        expect(r.errors).toBeUndefined();
        out.push(r.data.auditEvents.edges.map((e: any) => e.node.requestId));
        if (!r.data.auditEvents.pageInfo.hasNextPage) break;
        after = r.data.auditEvents.pageInfo.endCursor;
      }
      return out;
    };
    expect(await pages('rt17-bulk-a')).toEqual([[a2, a1]]);
    expect(await pages('rt17-bulk-b')).toEqual([[b2], [b1]]);
  });

  // ---------------------------------------------------------------- a body rewritten (last: it damages the trail)
  const LEAK = /QueryFailed|syntax|Unicode|escape|stack depth|jsonb|SELECT|relation |column |\.ts:\d|\bat [A-Za-z.]+ \(/i;
  it.each([
    ['a NUL escaped in a string (jsonb refuses \\u0000: 22P05)', 28, (b: any) => canonicalJson({ ...b, operationName: 'a\u0000b' })],
    ['a number past numeric (1e1000000: 22003)', 27, (b: any) => canonicalJson(b).replace(/}$/, ',"z":1e1000000}')],
    ['JSON nested 100,000 deep (stack depth)', 29, (b: any) => canonicalJson(b).replace(/}$/, `,"z":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)],
  ])('a body rewritten as %s, its hash recomputed, is answered AUDIT_TRAIL_DAMAGED (never a 500) in a history and in anomalies', async (_name, n, forge) => {
    const child = children[n];
    const at = Date.now() - (n - 26) * 3 * 3_600_000;
    const requestId = await plant({ at, user: 'rt17-forged', reads: [child] });
    await t.hub.audit.drain();
    const [{ seq, prev_hash, body }] = await t.sql(`SELECT seq::int AS seq, prev_hash, body FROM audit.event WHERE request_id = $1`, [requestId]);
    const forged = forge(JSON.parse(body));
    await asDba(t, async (c) => {
      const next = await c.query(`SELECT seq FROM audit.event WHERE seq > $1 ORDER BY seq LIMIT 1`, [seq]);
      expect(next.rows).toEqual([]); // at the head: the chain links
      await c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [seq, forged, chainHash(prev_hash, seq, forged)]);
    });
    (t.hub.audit as unknown as { head: unknown }).head = null;
    const history = await post(t, auditor, { query: `query($m: ID!) { minorAccessHistory(minorId: $m) { seq } }`, variables: { m: child } }, {});
    const flags = await post(t, auditor, { query: `query($from: DateTimeISO, $to: DateTimeISO) { auditAnomalies(from: $from, to: $to) { kind } }`, variables: { from: new Date(at - 60_000).toISOString(), to: new Date(at + 60_000).toISOString() } }, {});
    const page = await post(t, auditor, { query: `query($u: String!) { auditEvents(filter: { userId: $u }) { edges { node { seq operationName } } } }`, variables: { u: 'rt17-forged' } }, {});
    const verify = await post(t, auditor, { query: `{ auditVerify { ok firstBreak { seq reason } } }` }, {});
    const codes = (r: any) => (r.json?.errors ?? []).map((e: any) => e.extensions?.code);
    // The page and the walk read the body in JavaScript, which takes it (an event with an odd name,
    // or a key more): answered as such. Postgres cannot read it as jsonb: the history and the scans
    // must say the trail is damaged, typed, not "Internal server error".
    expect([page.status, codes(page), LEAK.test(JSON.stringify(page.json))]).toEqual([200, [], false]);
    expect([verify.status, codes(verify)]).toEqual([200, []]);
    const answered = Object.entries({ history, flags }).map(([name, r]) => [name, r.status, codes(r), LEAK.test(JSON.stringify(r.json))]);
    expect(answered).toEqual(['history', 'flags'].map((name) => [name, 200, ['AUDIT_TRAIL_DAMAGED'], false]));
  });

  // Bodies JavaScript reads as events (readEventBody / isHistoryPart take them) whose values the schema cannot answer.
  it.each([
    ['a field read with an access that is none', 26, (b: any) => canonicalJson({ ...b, reads: b.reads.map((r: any) => ({ ...r, fields: { 'Minor.name': 'BOGUS' } })) })],
  ])('a body rewritten with %s is answered AUDIT_TRAIL_DAMAGED in a page and a history, never "Internal server error"', async (_name, n, forge) => {
    const child = children[n];
    const requestId = await plant({ at: Date.now() - 60_000, user: `rt17-forged-${n}`, reads: [child] });
    await t.hub.audit.drain();
    const [{ seq, prev_hash, body }] = await t.sql(`SELECT seq::int AS seq, prev_hash, body FROM audit.event WHERE request_id = $1`, [requestId]);
    const forged = forge(JSON.parse(body));
    await asDba(t, async (c) => {
      expect((await c.query(`SELECT seq FROM audit.event WHERE seq > $1`, [seq])).rows).toEqual([]);
      await c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [seq, forged, chainHash(prev_hash, seq, forged)]);
    });
    (t.hub.audit as unknown as { head: unknown }).head = null;
    const page = await post(t, auditor, { query: `query($u: String!) { auditEvents(filter: { userId: $u }) { edges { node { seq time reads { minorId fields { field access } } } } } }`, variables: { u: `rt17-forged-${n}` } }, {});
    const history = await post(t, auditor, { query: `query($m: ID!) { minorAccessHistory(minorId: $m) { seq time fields { field access } } }`, variables: { m: child } }, {});
    const codes = (r: any) => (r.json?.errors ?? []).map((e: any) => e.extensions?.code);
    expect([['page', codes(page)], ['history', codes(history)]]).toEqual([
      ['page', ['AUDIT_TRAIL_DAMAGED']],
      ['history', ['AUDIT_TRAIL_DAMAGED']],
    ]);
  });

  it('a body rewritten with children that are no ids (a read, a change) is answered, or AUDIT_TRAIL_DAMAGED: never "Internal server error"', async () => {
    const child = children[23];
    const requestId = await plant({ at: Date.now() - 30_000, user: 'rt17-forged-ids', reads: [child] });
    await t.hub.audit.drain();
    const [{ seq, prev_hash, body }] = await t.sql(`SELECT seq::int AS seq, prev_hash, body FROM audit.event WHERE request_id = $1`, [requestId]);
    const b = JSON.parse(body);
    const forged = canonicalJson({ ...b, reads: [{ fields: { 'Minor.name': 'ALLOW' }, minorIds: [child, 'not-an-id', '', 'x'.repeat(5000)] }], changes: [{ mutation: 'updateMinor', id: 'zz', minorId: 'not-an-id', fields: [] }] });
    await asDba(t, async (c) => {
      expect((await c.query(`SELECT seq FROM audit.event WHERE seq > $1`, [seq])).rows).toEqual([]);
      await c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [seq, forged, chainHash(prev_hash, seq, forged)]);
    });
    (t.hub.audit as unknown as { head: unknown }).head = null;
    const page = await post(t, auditor, { query: `{ auditEvents(filter: { userId: "rt17-forged-ids" }) { edges { node { seq reads { minorId } changes { minorId } } } } }` }, {});
    const history = await post(t, auditor, { query: `query($m: ID!) { minorAccessHistory(minorId: $m) { seq changes { minorId } } }`, variables: { m: child } }, {});
    const codes = (r: any) => (r.json?.errors ?? []).map((e: any) => e.extensions?.code);
    for (const r of [page, history]) expect([r.status, codes(r).filter((c: string) => c !== 'AUDIT_TRAIL_DAMAGED')]).toEqual([200, []]);
  });
});
