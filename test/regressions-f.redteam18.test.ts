import { Department, Role } from '../src/auth/principal';
import { eventsOf, post } from './support/audit-helpers';
import { exchange } from './support/raw-socket';
import { buildIdNumber } from '../src/common/id-number';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status minor { id } transitions { fromStatus toStatus } } }`;
const STREET_A = '330102001';
const STREET_B = '330102002';

/**
 * Regression review (round 18, group f): the recent fixes to reports' and notifications' children
 * (996e082, d0b3ec9, c9485b3), the child-id spelling (aa51f64), and what they left in siblings.
 */
describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('regressions f (redteam18), %s', (_mode, distributed) => {
  let t: TestHub;
  let reporter: string;
  let civilDistrict: string;

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt18f-teacher' });
    civilDistrict = await t.token(CA, { user: 'rt18f-civil' });
  });
  afterAll(() => t.stop());

  const input = (over: Record<string, unknown>) => ({
    harmType: 'PHYSICAL_ABUSE',
    observation: '手臂多处淤青',
    location: '某小学',
    urgency: 'URGENT',
    ...over,
  });

  const namedIn = (events: { body: Record<string, any> }[], id: string) => events.filter((e) => JSON.stringify(e.body).includes(id)).map((e) => e.body.outcome ?? 'STARTED');

  it('a child who moved away after a report: the old street officer steps the report without the trail or the answer naming the child', async () => {
    const [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET_A}%' AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`);
    const [newGrid] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${STREET_B}%' AND length(code) = 15 LIMIT 1`);
    const officerA = await t.token(PO, { region: STREET_A, user: 'rt18f-officer-a' });
    const filed = await t.gql(reporter, FILE, { input: input({ regionCode: child.grid_code, childIdNumber: child.id_number }) }, {});
    expect(filed.errors).toBeUndefined();
    const reportId = filed.data.fileMandatoryReport.id;
    // Before the move the street's officer sees the child.
    const before = await t.gql(officerA, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } } }`, { id: reportId });
    expect(before.data.mandatoryReport.minor).toEqual({ id: child.id });
    const moved = await t.gql(civilDistrict, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: child.id, g: newGrid.code });
    expect(moved.errors).toBeUndefined();

    const step = await post(t, officerA, { query: STEP, variables: { id: reportId, to: 'VERIFYING', note: '核查' } });
    expect(step.json.errors).toBeUndefined();
    expect(step.json.data.transitionReport.minor).toBeNull();
    const events = await eventsOf(t, step.requestId);
    expect(namedIn(events, child.id)).toEqual([]);

    const inbox = await post(t, officerA, { query: `{ notifications(first: 500) { id subjectId minor { id } payload { field value } } }` });
    expect(inbox.json.errors).toBeUndefined();
    const told = inbox.json.data.notifications.find((n: { subjectId: string }) => n.subjectId === reportId);
    expect(told.minor).toBeNull();
    expect(told.payload.map((p: { field: string }) => p.field)).not.toContain('Minor.name');
    expect(namedIn(await eventsOf(t, inbox.requestId), child.id)).toEqual([]);

    // Acknowledging it: the answer and the change name no child either.
    const ack = await post(t, officerA, { query: `mutation($id: ID!) { acknowledge(id: $id) { id minor { id } payload { field } } }`, variables: { id: told.id } });
    expect(ack.json.errors).toBeUndefined();
    expect(ack.json.data.acknowledge.minor).toBeNull();
    expect(namedIn(await eventsOf(t, ack.requestId), child.id)).toEqual([]);
    // The street's lists of reports name no child either, nor does their event.
    const lists = await post(t, officerA, { query: `{ mandatoryReports(first: 500) { id minor { id } transitions { toStatus } } overdueReports(first: 500) { id minor { id } } }` });
    expect(lists.json.errors).toBeUndefined();
    const listed = lists.json.data.mandatoryReports.find((r: { id: string }) => r.id === reportId);
    expect(listed.minor).toBeNull();
    expect(JSON.stringify(lists.json.data)).not.toContain(child.id);
    expect(namedIn(await eventsOf(t, lists.requestId), child.id)).toEqual([]);
    // The district still sees the link on the report and its steps.
    const district = await t.token(PO, { user: 'rt18f-police-district' });
    const seen = await t.gql(district, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } transitions { toStatus } } }`, { id: reportId });
    expect(seen.data.mandatoryReport).toEqual({ minor: { id: child.id }, transitions: [{ toStatus: 'VERIFYING' }] });
  });

  it('a report filed naming a child id written in capitals links, answers and audits the child under the registry id', async () => {
    const [child] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET_A}%' AND birth_date > now() - interval '15 years' ORDER BY id DESC LIMIT 1`);
    const officerA = await t.token(PO, { region: STREET_A, user: 'rt18f-officer-a2' });
    const r = await post(t, officerA, { query: FILE, variables: { input: input({ regionCode: child.grid_code, childId: child.id.toUpperCase() }) } });
    expect(r.json.errors).toBeUndefined();
    const id = r.json.data.fileMandatoryReport.id;
    const [row] = await t.sql(`SELECT minor_id::text AS minor_id FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(row.minor_id).toBe(child.id);
    const final = (await eventsOf(t, r.requestId)).find((e) => e.outcome !== 'STARTED')!;
    expect(final.body.changes).toEqual([expect.objectContaining({ mutation: 'fileMandatoryReport', id, minorId: child.id })]);
    const read = await t.gql(officerA, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } } }`, { id });
    expect(read.data.mandatoryReport.minor).toEqual({ id: child.id });
  });
  it('extreme but well-formed times in filters and windows are answered or refused as input, never as an internal error', async () => {
    const auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt18f-auditor' });
    const officer = await t.token(CA, { user: 'rt18f-civil-2' });
    const cases: [string, string, string, Record<string, unknown>][] = [
      ['minors, nextVisitDueBefore year 1', officer, `query($d: DateTimeISO) { minors(first: 1, filter: { nextVisitDueBefore: $d }) { totalCount } }`, { d: '0001-01-01T00:00:00.000Z' }],
      ['minors, nextVisitDueBefore year 9999', officer, `query($d: DateTimeISO) { minors(first: 1, filter: { nextVisitDueBefore: $d }) { totalCount } }`, { d: '9999-12-31T23:59:59.999Z' }],
      ['auditAnomalies, year 1', auditor, `query($f: DateTimeISO, $t: DateTimeISO) { auditAnomalies(from: $f, to: $t) { kind } }`, { f: '0001-01-01T00:00:00.000Z', t: '0001-01-20T00:00:00.000Z' }],
      ['auditAnomalies, year 9999', auditor, `query($f: DateTimeISO, $t: DateTimeISO) { auditAnomalies(from: $f, to: $t) { kind } }`, { f: '9999-12-01T00:00:00.000Z', t: '9999-12-31T00:00:00.000Z' }],
    ];
    const got: Record<string, unknown> = {};
    for (const [name, token, query, variables] of cases) {
      const r = await t.gql(token, query, variables);
      got[name] = (r.errors ?? []).map((e) => e.extensions?.code).filter((c) => !['BAD_USER_INPUT'].includes(c));
    }
    expect(got).toEqual(Object.fromEntries(cases.map(([name]) => [name, []])));
  });
  it('odd HTTP requests to the hub and to each subgraph server are answered in JSON, never with an HTML page or a stack', async () => {
    const token = await t.token(CA, { user: 'rt18f-raw' });
    const ports = [Number(new URL(t.hub.url).port), ...Object.values((t.config as { subgraphUrls?: Record<string, string> }).subgraphUrls ?? {}).map((u) => Number(new URL(u).port))];
    const body = '{"query":"{ __typename }"}';
    const requests = [
      'GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /graphql/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /graphql?query=%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      `POST /graphql?x=% HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=iso-8859-1\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-16\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: identity, gzip\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: br\r\nAuthorization: Bearer ${token}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: deflate\r\nAuthorization: Bearer ${token}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`,
      `PROPFIND /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"a":`,
      `GET /graphql?query=%7B__typename%7D&variables=%7Bbad HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\napollo-require-preflight: 1\r\nConnection: close\r\n\r\n`,
      `GET /graphql?query=%7B__typename%7D&extensions=%5B1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\napollo-require-preflight: 1\r\nConnection: close\r\n\r\n`,
    ];
    const bad: string[] = [];
    for (const port of ports) {
      for (const r of requests) {
        const answer = (await exchange(port, [r])).toString('utf8');
        const [head, ...rest] = answer.split('\r\n\r\n');
        const text = rest.join('\r\n\r\n');
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
        const json = /content-type: application\/json/i.test(head);
        if (!status || status >= 500 || (text.length > 0 && !json) || /<html|<!doctype|<pre>|\bat [A-Za-z.<>]+ \(|node_modules/i.test(text)) {
          bad.push(`${port} ${r.split('\r\n')[0]} [${r.split('\r\n').find((l) => /content-(type|encoding)/i.test(l)) ?? ''}] -> ${head.split('\r\n')[0]} ${text.slice(0, 160)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
  it('1f85c2e: an officer who reads ID numbers masked cannot learn from the monthly trend whether a full ID number is a registered child of their street', async () => {
    // An education officer of a street reads the street's children with the ID number masked to its
    // first 6 characters (masks.ts: the rest must not be rebuilt), cannot look a child up by number,
    // and cannot read the reports they file. Filing a report for their street naming a number, then
    // reading their monthly trend after the next refresh, must teach them nothing about the number.
    const STREET = STREET_B;
    const filer = await t.token(ED, { region: STREET, user: 'rt18f-teacher-office' });
    const [child] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`);
    const unknownNumber = buildIdNumber('110105', '2015-01-01', 7);
    expect(await t.sql(`SELECT 1 FROM registry.minor WHERE id_number = $1`, [unknownNumber])).toEqual([]);
    const [grid] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${STREET}%' AND length(code) = 15 ORDER BY code LIMIT 1`);
    const file = async (regionCode: string, childIdNumber: string | null) => {
      const r = await t.gql(filer, FILE, { input: input({ regionCode, childIdNumber }) }, {});
      expect(r.errors).toBeUndefined();
    };
    const reportsThisMonth = async () => {
      await refreshStatistics(t.hub.db.ds);
      const r = await t.gql(filer, `{ monthlyTrend(months: 1) { points { series count { value suppressed } } } }`);
      expect(r.errors).toBeUndefined();
      return r.data.monthlyTrend.points.find((p: { series: string }) => p.series === 'REPORTS').count;
    };
    // Enough reports this month for the count to be shown (k = 5), filed for a grid: counted whoever they name.
    for (let i = 0; i < 6; i++) await file(grid.code, null);
    const before = await reportsThisMonth();
    expect(before.suppressed).toBe(false);
    await file(STREET, unknownNumber);
    const afterUnknown = await reportsThisMonth();
    await file(STREET, child.id_number);
    const afterRegistered = await reportsThisMonth();
    // The same filing, one naming a number the registry does not know, one naming a child of the street:
    // the trend must move alike (the filer is never told whether a number is a registered child).
    expect(afterRegistered.value - afterUnknown.value).toBe(afterUnknown.value - before.value);
  });
});
