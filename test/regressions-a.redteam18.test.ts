import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventsOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 18, group 0: regression review of recent fixes (deep variables, audit outcome, phone
 * validation, updateMinor's changed fields, escalation jobs …): siblings the fixes did not touch,
 * and what the fixes themselves may have broken. Every test asserts the behaviour README promises.
 */
const LEAK = /constraint|violat|relation |column |syntax error|QueryFailed|RangeError|Maximum call stack|\.ts:\d|\bat [A-Za-z.]+ \(/i;

describe('regressions (red team 18, a)', () => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t.stop());

  const nested = (n: number) => `${'['.repeat(n)}"x"${']'.repeat(n)}`;
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

  describe('4d1930a (graver first at one instant): the assessments page and its cursor', () => {
    it('pages three assessments of one instant gravest first, each once, whichever order they were recorded in', async () => {
      const [m] = await t.sql(`SELECT id FROM registry.minor WHERE registry.is_minor(birth_date, now()) AND birth_date < '2020-01-01' ORDER BY id OFFSET 40 LIMIT 1`);
      const ASSESS = `mutation($id: ID!, $l: RiskLevel!) { recordAssessment(minorId: $id, input: { level: $l, reasons: "同时评估", assessedAt: "2026-11-03T00:00:00+08:00" }) { id } }`;
      const ids: Record<string, string> = {};
      for (const l of ['BLUE', 'RED', 'YELLOW', 'ORANGE']) {
        const r = await t.gql(civil, ASSESS, { id: m.id, l });
        expect(r.errors).toBeUndefined();
        ids[l] = r.data.recordAssessment.id;
      }
      const seen: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 6; i++) {
        const r: any = await t.gql(civil, `query($id: ID!, $a: ID) { minor(id: $id) { riskLevel assessments(first: 1, after: $a) { id level assessedAt } } }`, { id: m.id, a: after });
        expect(r.errors).toBeUndefined();
        expect(r.data.minor.riskLevel).toBe('RED');
        const page = r.data.minor.assessments.filter((a: any) => a.assessedAt === '2026-11-02T16:00:00.000Z');
        if (!r.data.minor.assessments.length || !page.length) break;
        seen.push(page[0].level);
        after = r.data.minor.assessments[0].id;
      }
      expect(seen).toEqual(['RED', 'ORANGE', 'YELLOW', 'BLUE']);
    });
  });

  describe('0136253 (updateMinor names the fields it changed): school, which null or empty clears', () => {
    const UPDATE = `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { school } }`;
    it('clears the school given null, naming it; given empty or blank once cleared, changes nothing', async () => {
      const [m] = await t.sql(`SELECT id, school FROM registry.minor WHERE school IS NOT NULL AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 30 LIMIT 1`);
      const cleared = await post(t, civil, { query: UPDATE, variables: { id: m.id, input: { school: null } } });
      expect(cleared.json).toEqual({ data: { updateMinor: { school: null } } });
      expect((await eventsOf(t, cleared.requestId)).pop()!.body.changes).toEqual([{ fields: ['id', 'input.school'], id: m.id, minorId: m.id, mutation: 'updateMinor' }]);
      const [{ updated_at }] = await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [m.id]);
      for (const school of ['', '   ']) {
        const again = await post(t, civil, { query: UPDATE, variables: { id: m.id, input: { school } } });
        expect(again.json).toEqual({ data: { updateMinor: { school: null } } });
        expect((await eventsOf(t, again.requestId)).pop()!.body.changes ?? []).toEqual([]);
      }
      expect((await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [m.id]))[0].updated_at).toEqual(updated_at);
    });
  });

  describe('8a23f02 (deep variables): the other members of the body', () => {
    const QUERY = JSON.stringify('query Q($id: ID!) { minor(id: $id) { name } }');
    it.each([
      ['a list literal 2,400 deep', (n: number) => `query { minor(id: ${'['.repeat(n)}"x"${']'.repeat(n)}) { name } }`, 2_400],
      ['an object literal 1,200 deep', (n: number) => `query { minor(id: ${'{a:'.repeat(n)}1${'}'.repeat(n)}) { name } }`, 1_200],
      ['a list literal 1,000 deep', (n: number) => `query { minor(id: ${'['.repeat(n)}"x"${']'.repeat(n)}) { name } }`, 1_000],
      ['a mutation input list literal 1,000 deep', (n: number) => `mutation { updateMinor(id: "x", input: { name: ${'['.repeat(n)}"x"${']'.repeat(n)} }) { name } }`, 1_000],
      ['a mutation input list literal 2,400 deep', (n: number) => `mutation { updateMinor(id: "x", input: { name: ${'['.repeat(n)}"x"${']'.repeat(n)} }) { name } }`, 2_400],
    ])('the document itself holding %s (within the token bound) is refused as a client error, audited once', async (_what, doc, n) => {
      const r = await post(t, civil, { query: (doc as (n: number) => string)(n as number) });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      const outcomes = (await eventsOf(t, r.requestId)).map((e) => e.outcome);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatch(/^(INVALID|LIMIT_EXCEEDED)$/);
    });
    it('a body whose extensions nest 20,000 deep is served (extensions are no input), audited once', async () => {
      const r = await post(t, civil, `{"query":${QUERY},"variables":{"id":"x"},"extensions":${deepObject(20_000)}}`);
      expect([r.status, r.json]).toEqual([200, { data: { minor: null } }]);
      expect((await eventsOf(t, r.requestId)).map((e) => e.outcome)).toEqual(['SUCCESS']);
    });
    it.each([
      ['operationName', `{"query":${QUERY},"variables":{"id":"x"},"operationName":${nested(20_000)}}`],
      ['variables as a list', `{"query":${QUERY},"variables":${nested(20_000)}}`],
      ['undeclared variable', `{"query":${QUERY},"variables":{"id":"x","other":${deepObject(20_000)}}}`],
    ])('a body whose %s nests 20,000 deep is answered as a client error, typed, audited once', async (_what, body) => {
      const r = await post(t, civil, body);
      expect(r.status).toBeLessThan(500);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      expect(r.json.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|BAD_REQUEST|GRAPHQL_VALIDATION_FAILED|LIMIT_EXCEEDED)$/);
      const events = await eventsOf(t, r.requestId);
      expect(events.map((e) => e.outcome)).toEqual(['INVALID']);
    });
  });
});

/**
 * b24fca1 / 6984355: the escalation job reads a report's child FOR KEY SHARE (childNow), which waits
 * for a registry write holding the child FOR UPDATE. takeLapse skips a locked row instead, its comment
 * saying why: "a wait that ran out ended the pass, and with it every lapse and step after it, at every
 * pass for as long as the lock was held". eachItem rethrows a lock wait that ran out (isDatabaseTimeout)
 * and so ends the pass: one child held locked stops every referral, reassessment and overdue visit.
 */
describe('escalation pass while another session holds a row an item waits for (red team 18, a)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '1000', HUB_REPORT_DEADLINES: 'URGENT=60/1440,HIGH=240/4320,NORMAL=1440/10080' } });
  });
  afterAll(() => t.stop());

  /** One pass of the escalation job while a second session holds a row (`lock`): its summary, or what it threw. */
  async function escalateWhileHeld(lock: string, params: unknown[], now: Date): Promise<unknown> {
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await holder.query('BEGIN');
      await holder.query(lock, params);
      return await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now).then(
        (summary) => summary,
        (e: Error) => e,
      );
    } finally {
      log.mockRestore();
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }

  it('a report whose child another session holds is left for the next pass; the referrals after it still escalate', async () => {
    const [child] = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > (now() - interval '15 years')::date ORDER BY id LIMIT 1`,
    );
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt18-teacher' });
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt18-civil' });
    const filed = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'PHYSICAL_ABUSE', observation: '手臂多处淤青', location: '清波小学', regionCode: child.grid_code, urgency: 'URGENT', reporterUnit: '清波小学', childIdNumber: child.id_number } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    const reportId = filed.data.fileMandatoryReport.id;
    const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND id <> $1 AND birth_date > (now() - interval '15 years')::date ORDER BY id LIMIT 1`, [child.id]);
    const made = await t.gql(civil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id answerDueAt } }`, {
      input: { minorId: other.id, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' },
    });
    expect(made.errors).toBeUndefined();
    const referralId = made.data.createReferral.id;
    // Both overdue at the pass's clock: the report's verification (60 min) and the referral's answer.
    const now = new Date(Math.max(Date.parse(made.data.createReferral.answerDueAt), Date.now() + 2 * 3600_000) + 60_000);

    // A registry write under way on the report's child (updateMinor, recordAssessment … lock it FOR UPDATE).
    const outcome = await escalateWhileHeld(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [child.id], now);
    // The pass went on past the held child: the overdue referral escalated in this pass.
    expect(outcome).not.toBeInstanceOf(Error);
    const [ref] = await t.sql(`SELECT escalated_at FROM workflow.referral WHERE id = $1`, [referralId]);
    expect(ref.escalated_at).not.toBeNull();
    // And the report, left for the next pass, is escalated then.
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now);
    const [rep] = await t.sql(`SELECT verify_escalated_at FROM workflow.mandatory_report WHERE id = $1`, [reportId]);
    expect(rep.verify_escalated_at).not.toBeNull();
  });

  it('a webhook row another session holds (a deactivation under way) leaves the escalations it would be told of for the next pass; the others go on', async () => {
    // A street's webhook: the RED escalation of its grid is told to it, the district's referral's (one level up from the district) not.
    const street = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt18-hook-owner', region: '330102001' });
    const hook = (await t.gql(street, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: 'http://127.0.0.1:9/rt18' })).data.registerWebhook.webhook.id;
    const [m] = await t.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > (now() - interval '15 years')::date AND risk_level IS DISTINCT FROM 'RED' ORDER BY id DESC LIMIT 1`,
    );
    const red = await t.gql(street, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "危" }) { id } }`, { m: m.id });
    expect(red.errors).toBeUndefined();
    const [told] = await t.sql(`SELECT id FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1 AND department = 'CIVIL_AFFAIRS'`, [red.data.recordAssessment.id]);
    const district = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt18-district', region: '330102' });
    const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102002%' AND birth_date > (now() - interval '15 years')::date ORDER BY id DESC LIMIT 1`);
    const made = await t.gql(district, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id answerDueAt } }`, {
      input: { minorId: other.id, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' },
    });
    expect(made.errors).toBeUndefined();
    const now = new Date(Math.max(Date.parse(made.data.createReferral.answerDueAt), Date.now() + 2 * 3600_000) + 60_000);
    const escalated = async () =>
      (await t.sql(`SELECT (SELECT escalated_at FROM workflow.notification WHERE id = $1) AS red, (SELECT escalated_at FROM workflow.referral WHERE id = $2) AS referral`, [told.id, made.data.createReferral.id]))[0];
    // As deactivateWebhook holds it while it fails the webhook's pending deliveries.
    const outcome = await escalateWhileHeld(`SELECT 1 FROM workflow.webhook WHERE id = $1 FOR UPDATE`, [hook], now);
    expect(outcome).not.toBeInstanceOf(Error);
    expect((outcome as { failed: number }).failed).toBeGreaterThan(0);
    const during = await escalated();
    expect([during.red, during.referral === null]).toEqual([null, false]);
    // Once the webhook is let go, the next pass tells the RED escalation.
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now);
    expect((await escalated()).red).not.toBeNull();
  });

  it('1b97a70: a child of another street held locked by a write there is answered to a street officer at once, as an unknown id', async () => {
    const [m] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102002%' AND birth_date > (now() - interval '15 years')::date ORDER BY id DESC LIMIT 1`);
    const unknown = '5f0c8a52-8c1e-4d7b-9a3e-2b6f1d0c9e77';
    const edu = await t.token(Department.EDUCATION, { user: 'rt18-edu-001', region: '330102001' });
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt18-ca-001', region: '330102001' });
    const calls: [string, string, (id: string) => Record<string, unknown>][] = [
      [edu, `mutation($m: ID!) { createDropoutReport(minorId: $m, input: { school: "清波小学", reportedOn: "2026-11-02", daysAbsent: 20 }) { id } }`, (id) => ({ m: id })],
      [civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "走访" }) { id } }`, (id) => ({ m: id })],
      [civil, `mutation($m: ID!) { createReferral(input: { minorId: $m, type: EDUCATION_AID, toDepartment: EDUCATION, need: "帮扶" }) { id } }`, (id) => ({ m: id })],
    ];
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [m.id]);
      for (const [token, query, vars] of calls) {
        const started = Date.now();
        const held = await t.gql(token, query, vars(m.id));
        const took = Date.now() - started;
        const none = await t.gql(token, query, vars(unknown));
        expect([held.errors?.map((e) => e.extensions?.code), took < 700]).toEqual([none.errors?.map((e) => e.extensions?.code), true]);
      }
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });
});
