import { loadConfig } from '../src/config/hub.config';
import { Department, Role } from '../src/auth/principal';
import { post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Regression review, red team 18 (group 4). a6d5b58 made README promise, for every variable:
 * "A variable set to blanks is its default, as unset; whole numbers are written in decimal digits
 * (`0x3E8` stops the boot)". It changed `wholeInRange` only; its siblings in hub.config.ts
 * (`positive`, `positiveCount`, `bool`, `hours`, HUB_CLOCK_OFFSET_MS, `utcOffset`) kept the old reading.
 */
describe('configuration: blanks are the default and whole numbers are decimal, for every variable (a6d5b58 siblings)', () => {
  const base = { HUB_DATA_DIR: '/tmp/rt18-config' };
  const defaults = loadConfig(base);

  it.each([
    ['HUB_ANOMALY_DISTINCT_MINORS', (c: ReturnType<typeof loadConfig>) => c.audit.anomalies.distinctMinors],
    ['HUB_ANOMALY_FORBIDDEN_ATTEMPTS', (c: ReturnType<typeof loadConfig>) => c.audit.anomalies.forbiddenAttempts],
    ['HUB_ANOMALY_WINDOW_MINUTES', (c: ReturnType<typeof loadConfig>) => c.audit.anomalies.windowMinutes],
    ['HUB_ANOMALY_UNUSUAL_PURPOSE_SHARE', (c: ReturnType<typeof loadConfig>) => c.audit.anomalies.unusualPurposeShare],
    ['HUB_REFERRAL_ANSWER_HOURS', (c: ReturnType<typeof loadConfig>) => c.workflow.referralAnswerHours],
    ['HUB_REFERRAL_COMPLETE_DAYS', (c: ReturnType<typeof loadConfig>) => c.workflow.referralCompleteDays],
    ['HUB_RED_ACK_MINUTES', (c: ReturnType<typeof loadConfig>) => c.workflow.redAckMinutes],
    ['HUB_ANOMALY_WORKING_HOURS', (c: ReturnType<typeof loadConfig>) => c.audit.anomalies.workingHours],
    ['HUB_SEED_DEMO', (c: ReturnType<typeof loadConfig>) => c.seedDemo],
    ['HUB_CLOCK_OFFSET_MS', (c: ReturnType<typeof loadConfig>) => c.workflow.clockOffsetMs],
    // wholeInRange, fixed by a6d5b58, as the reference.
    ['HUB_EMPLOYMENT_CHECKS_PER_HOUR', (c: ReturnType<typeof loadConfig>) => c.workflow.employmentChecksPerHour],
  ] as [string, (c: ReturnType<typeof loadConfig>) => unknown][])('%s set to blanks takes its default, as unset', (name, read) => {
    let got: unknown;
    try {
      got = read(loadConfig({ ...base, [name]: '   ' }));
    } catch (e) {
      got = `boot stopped: ${(e as Error).message}`;
    }
    expect(got).toEqual(read(defaults));
  });

  it.each([
    ['HUB_ANOMALY_DISTINCT_MINORS', '0x32'],
    ['HUB_ANOMALY_FORBIDDEN_ATTEMPTS', '0b101'],
    ['HUB_ANOMALY_DISTINCT_MINORS', '5e1'],
    ['HUB_CLOCK_OFFSET_MS', '0x3E8'],
    ['HUB_CLOCK_OFFSET_MS', '1e3'],
    ['HUB_ANOMALY_UTC_OFFSET', '0x8'],
    // wholeInRange, fixed by a6d5b58, as the reference.
    ['HUB_EMPLOYMENT_CHECKS_PER_HOUR', '0x3E8'],
  ])('%s=%s (a whole number not in decimal digits) stops the boot', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow();
  });
});

describe('configuration: text variables set to blanks (a6d5b58 siblings)', () => {
  const base = { HUB_DATA_DIR: '/tmp/rt18-config' };
  const defaults = loadConfig(base);
  it.each([
    ['HUB_JWT_ISSUER', (c: ReturnType<typeof loadConfig>) => c.jwt.issuer],
    ['HUB_JWT_AUDIENCE', (c: ReturnType<typeof loadConfig>) => c.jwt.audience],
    ['HUB_JWT_ALGORITHMS', (c: ReturnType<typeof loadConfig>) => c.jwt.algorithms],
  ] as [string, (c: ReturnType<typeof loadConfig>) => unknown][])('%s set to blanks takes its default, as unset', (name, read) => {
    let got: unknown;
    try {
      got = read(loadConfig({ ...base, [name]: '   ' }));
    } catch (e) {
      got = `boot stopped: ${(e as Error).message}`;
    }
    expect(got).toEqual(read(defaults));
  });
});

describe('HTTP: every path no route serves is a JSON 404, no-store (cbc9c9f siblings)', () => {
  let t: TestHub;
  let token: string;
  beforeAll(async () => {
    t = await startTestHub();
    token = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t?.stop());

  const origin = () => new URL(t.hub.url).origin;
  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${origin()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-purpose': 'CASE_HANDLING; rt18' },
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), text };
  };

  it.each([
    ['GET', '/nope'],
    ['POST', '/nope'],
    ['DELETE', '/'],
    ['GET', '/dashboardx'],
    ['GET', '/dashboard/nope.js'],
    ['POST', '/dashboard/index.html'],
    ['GET', '/%E0%A4%A'],
    ['POST', '/health'],
  ])('%s %s', async (method, path) => {
    const a = await call(method, path, method === 'GET' ? undefined : '{}');
    expect({ status: a.status, type: a.type, cache: a.cache, code: JSON.parse(a.text).errors?.[0]?.extensions?.code }).toEqual({
      status: 404,
      type: 'application/json; charset=utf-8',
      cache: 'no-store',
      code: 'NOT_FOUND',
    });
  });

  it('a malformed path under /dashboard is a typed JSON refusal, no-store', async () => {
    const a = await call('GET', '/dashboard/%E0%A4%A');
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
    expect(a.type).toMatch(/application\/json/);
    expect(a.cache).toBe('no-store');
  });

  it('a POST to a path under /graphql that is not /graphql is not served as GraphQL', async () => {
    const a = await call('POST', '/graphql/anything', JSON.stringify({ query: '{ regions { code } }' }));
    expect({ status: a.status, code: JSON.parse(a.text).errors?.[0]?.extensions?.code ?? null }).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

/**
 * 9d319f0: under `x-purpose: REFERRAL; <id>` an answer that serves a record about a child it names to no
 * one here (a report of an unregistered child, its notification) is refused whole — the field wrapper
 * notes such a record served. A record selected with nothing but `__typename` has no field resolver:
 * the locating wrapper notes a *named* child as found (recorded as a read of `__typename`, which the
 * purpose check refuses), but one whose child is unnamed is not noted at all.
 */
describe.each(['in process', 'distributed'] as const)('referral purpose and records of unnamed children selected by __typename only (9d319f0, %s)', (mode) => {
  const STREET = '330102001';
  let t: TestHub;
  let child: { id: string };
  let streetCivil: string;
  let streetPolice: string;
  let reporter: string;
  beforeAll(async () => {
    const env = { HUB_WORKFLOW_JOB_INTERVAL_MS: '0' };
    t = mode === 'in process' ? await startTestHub({ env }) : await startDistributedTestHub(env);
    [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 3 LIMIT 1`);
    streetCivil = await t.token(Department.CIVIL_AFFAIRS, { region: STREET, user: 'rt18-civil' });
    streetPolice = await t.token(Department.POLICE, { region: STREET, user: 'rt18-police' });
    reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt18-teacher' });
  });
  afterAll(() => t?.stop());

  const openReferral = async () => {
    const r = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, type: 'LEGAL_AID', toDepartment: Department.POLICE, need: '需要法律援助' },
    });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id as string;
  };
  const fileUnlinkedReport = async () => {
    const r = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'NEGLECT', observation: '孩子长期独自在家，无人照料', location: '某小区3栋', regionCode: STREET, urgency: 'NORMAL', observedAt: new Date(Date.now() - 60_000).toISOString(), childDescription: '约八岁男孩' } },
      {},
    );
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id as string;
  };

  it('(control) refuses whole another, named child selected by __typename only', async () => {
    const ref = await openReferral();
    const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND id <> $1 ORDER BY id LIMIT 1`, [child.id]);
    const r = await post(t, streetPolice, { query: `query($id: ID!) { minor(id: $id) { __typename } }`, variables: { id: other.id } }, { 'x-purpose': `REFERRAL; ${ref}` });
    expect([r.status, r.json.data ?? null, r.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([403, null, ['FORBIDDEN']]);
  });

  it('refuses whole a look-up of a report about an unregistered child selected by __typename only', async () => {
    const ref = await openReferral();
    const report = await fileUnlinkedReport();
    const q = `query($id: ID!) { mandatoryReport(id: $id) { __typename } }`;
    const plain = await t.gql(streetPolice, q, { id: report });
    expect(plain.data?.mandatoryReport).toEqual({ __typename: 'MandatoryReport' });
    const r = await post(t, streetPolice, { query: q, variables: { id: report } }, { 'x-purpose': `REFERRAL; ${ref}` });
    expect([r.status, r.json.data ?? null, r.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([403, null, ['FORBIDDEN']]);
  });

  it('refuses whole an inbox page holding a notification about an unregistered child selected by __typename only', async () => {
    const ref = await openReferral();
    await fileUnlinkedReport();
    const q = `{ notifications(first: 1) { __typename } }`;
    const plain = await t.gql(streetPolice, q);
    expect(plain.data?.notifications).toEqual([{ __typename: 'Notification' }]);
    const r = await post(t, streetPolice, { query: q }, { 'x-purpose': `REFERRAL; ${ref}` });
    expect([r.status, r.json.data ?? null, r.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([403, null, ['FORBIDDEN']]);
  });
});

