import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { refreshStatistics } from '../src/subgraphs/statistics/statistics.refresh';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { childAtLeast, daysAgo } from './support/department-records';
import { errorLogOfEachTest } from './support/error-log';
import { GqlResult, startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const STREET = '330102001';

/**
 * Invariants of racing writes and jobs through the public endpoint on the real Postgres: each race
 * has one winner, its event names what it changed against the state it overwrote, the escalation
 * job run by several processes at once tells each thing once, and a burst larger than the pool
 * neither hangs nor surfaces an internal error.
 */
describe('concurrent writes, red team 5', () => {
  let t: TestHub;
  const { noInternal } = errorLogOfEachTest(/unexpected|rolled back|failed/i);

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  const child = async (n: number) =>
    (await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET $2 LIMIT 1`, [`${STREET}%`, n]))[0];
  /** A child old enough to drop out (no child under 6 does), counted from the other end of the ids, so as to be none of `child`'s. */
  const schoolAgeChild = (n: number) => childAtLeast(t, STREET, 6, n);

  it('answers a referral once when accepts and declines race, tells the referrer once, and completes it once while the job escalates', async () => {
    const civil = await t.token(CA, { user: 'c-ref5', region: STREET });
    const edus = await Promise.all([1, 2, 3].map((i) => t.token(ED, { user: `e-ref5-${i}`, region: STREET })));
    const m = await child(3);
    for (let round = 0; round < 3; round++) {
      let id = (await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
        i: { minorId: m.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' },
      })).data.createReferral.id;
      const rs = await Promise.all(
        edus.flatMap((e) => [
          post(t, e, { query: `mutation($id: ID!) { acceptReferral(id: $id) { id status } }`, variables: { id } }),
          post(t, e, { query: `mutation($id: ID!) { declineReferral(id: $id, reason: "不属本部门") { id status } }`, variables: { id } }),
        ]),
      );
      noInternal(rs.map((r) => r.json));
      const ok = rs.filter((r) => !r.json.errors);
      expect(ok.length).toBe(1);
      const status = (ok[0].json.data.acceptReferral ?? ok[0].json.data.declineReferral).status;
      const [row] = await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]);
      expect(row.status).toBe(status);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME'`, [id]))[0].n).toBe(1);
      // The completion race needs an accepted referral, whichever answer won above.
      if (status !== 'ACCEPTED') {
        id = (await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
          i: { minorId: m.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' },
        })).data.createReferral.id;
        expect((await t.gql(edus[0], `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id })).errors).toBeUndefined();
      }
      const later = new Date(Date.now() + 400 * 86_400_000);
      const [cs, ...jobs] = await Promise.all([
        Promise.all(edus.map((e) => post(t, e, { query: `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") { id status } }`, variables: { id } }))),
        runEscalations(t.hub.db.ds, t.config, buildPolicy(), later),
        runEscalations(t.hub.db.ds, t.config, buildPolicy(), later),
      ]);
      noInternal(cs.map((r) => r.json));
      expect(cs.filter((r) => !r.json.errors).length).toBe(1);
      for (const j of jobs) expect(j.failed).toBe(0);
      const esc = (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1 AND kind = 'ESCALATION'`, [id]))[0].n;
      expect(esc).toBeLessThanOrEqual(1);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME'`, [id]))[0].n).toBe(2);
    }
  });

  it('names in each of two racing updates of one record the fields it changed against the state it overwrote', async () => {
    const a = await t.token(PO, { user: 'p-a5', region: STREET });
    const b = await t.token(PO, { user: 'p-b5', region: STREET });
    const m = await child(5);
    const input = { type: 'ABUSE', occurredOn: daysAgo(4), status: 'INVESTIGATING', handlingUnit: '清波派出所', narrative: '邻居报警' };
    const UPDATE = `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id } }`;
    for (let round = 0; round < 6; round++) {
      const c = await t.gql(a, `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: m.id, i: input });
      const id = c.data.createPoliceIncident.id;
      const rs = await Promise.all([
        post(t, a, { query: UPDATE, variables: { id, i: { ...input, status: 'CLOSED' } } }),
        post(t, b, { query: UPDATE, variables: { id, i: { ...input, narrative: '已送返监护人' } } }),
      ]);
      noInternal(rs.map((r) => r.json));
      const [ea, eb] = await Promise.all(rs.map(async (r) => (await eventOf(t, r.requestId)).changes.map((ch: { fields: string[] }) => ch.fields)));
      const [row] = await t.sql(`SELECT status, narrative FROM police.incident WHERE id = $1`, [id]);
      // The later writer reverted the earlier's field too.
      if (row.status === 'CLOSED') expect([ea, eb]).toEqual([[['id', 'input.narrative', 'input.status']], [['id', 'input.narrative']]]);
      else expect([ea, eb]).toEqual([[['id', 'input.status']], [['id', 'input.narrative', 'input.status']]]);
    }
  });

  it('escalates an unacknowledged RED notification at most once when two jobs and acknowledgements race', async () => {
    const civil = await t.token(CA, { user: 'c-red5', region: STREET });
    for (let round = 0; round < 4; round++) {
      const m = await child(10 + round);
      const r = await t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "危" }) { id } }`, { m: m.id });
      expect(r.errors).toBeUndefined();
      const reds = await t.sql(`SELECT id, department FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1 AND acknowledged_at IS NULL`, [m.id]);
      expect(reds.length).toBeGreaterThan(0);
      const later = new Date(Date.now() + 10 * 86_400_000);
      const tokens = await Promise.all(reds.map((n: { department: Department }) => t.token(n.department, { user: `ack5-${round}`, region: STREET })));
      const [acks, ...jobs] = await Promise.all([
        Promise.all(reds.map((n: { id: string }, i: number) => post(t, tokens[i], { query: `mutation($id: ID!) { acknowledge(id: $id) { id } }`, variables: { id: n.id } }))),
        runEscalations(t.hub.db.ds, t.config, buildPolicy(), later),
        runEscalations(t.hub.db.ds, t.config, buildPolicy(), later),
      ]);
      noInternal(acks.map((r) => r.json));
      for (const j of jobs) expect(j.failed).toBe(0);
      for (const n of reds) {
        const [{ esc, escalated }] = await t.sql(
          `SELECT (SELECT count(*)::int FROM workflow.notification WHERE subject_id = $1 AND kind = 'ESCALATION') AS esc,
                  (SELECT escalated_at IS NOT NULL FROM workflow.notification WHERE id = $1) AS escalated`,
          [n.id],
        );
        expect([esc, escalated]).toEqual(escalated ? [1, true] : [0, false]);
      }
    }
  });

  it('keeps a child’s level and next visit due to what its assessments and visits say after a burst of them racing moves', async () => {
    const civil = await t.token(CA, { user: 'c-burst5', region: '330102' });
    const m = await child(30);
    const grids: string[] = (await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102%' ORDER BY code LIMIT 3`)).map((r: { code: string }) => r.code);
    const levels = ['RED', 'ORANGE', 'YELLOW', 'BLUE'];
    const DAY = 86_400_000;
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(
        Array.from({ length: 45 }, (_, i) => {
          const at = new Date(Date.now() - ((i * 7 + round) % 13) * DAY - i * 1000).toISOString();
          if (i % 3 === 0)
            return t.gql(civil, `mutation($m: ID!, $l: RiskLevel!, $at: DateTimeISO) { recordAssessment(minorId: $m, input: { level: $l, reasons: "评估", assessedAt: $at }) { id } }`, { m: m.id, l: levels[i % 4], at });
          if (i % 3 === 1) return t.gql(civil, `mutation($m: ID!, $at: DateTimeISO) { recordVisit(minorId: $m, input: { notes: "走访", visitedAt: $at }) { id } }`, { m: m.id, at });
          return t.gql(civil, `mutation($m: ID!, $g: ID!, $n: String!) { updateMinor(id: $m, input: { gridCode: $g, name: $n }) { id } }`, { m: m.id, g: grids[i % 3], n: `童${i % 3}` });
        }),
      );
      noInternal(rs);
      const failures = rs.filter((r) => r.errors).map((r) => r.errors!.map((e) => e.message).join());
      expect(failures).toEqual([]);
      const [row] = await t.sql(
        `SELECT m.risk_level, m.next_visit_due,
                (SELECT a.level FROM registry.risk_assessment a WHERE a.minor_id = m.id ORDER BY a.assessed_at DESC, CASE a.level WHEN 'RED' THEN 0 WHEN 'ORANGE' THEN 1 WHEN 'YELLOW' THEN 2 ELSE 3 END, a.id LIMIT 1) AS latest
           FROM registry.minor m WHERE m.id = $1`,
        [m.id],
      );
      expect(row.risk_level).toBe(row.latest);
    }
  });

  it('refreshes the statistics once when refreshes race each other and writes', async () => {
    const civil = await t.token(CA, { user: 'c-stat5', region: STREET });
    const m = await child(40);
    for (let round = 0; round < 3; round++) {
      const out = await Promise.allSettled([
        refreshStatistics(t.hub.db.ds),
        refreshStatistics(t.hub.db.ds),
        t.gql(civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "走访" }) { id } }`, { m: m.id }),
        refreshStatistics(t.hub.db.ds),
      ]);
      expect(out.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    }
  });

  it('registers, delivers and deactivates webhooks racing each other: one registration per address, no delivery posted twice, none left queued for a stopped webhook', async () => {
    const civil = await t.token(CA, { user: 'c-hook5', region: STREET });
    const got: string[] = [];
    const server = createServer((req, res) => {
      got.push(String(req.headers['x-hub-delivery']));
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const REGISTER = `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`;
    try {
      const same = await Promise.all(Array.from({ length: 6 }, () => t.gql(civil, REGISTER, { u: `${base}/same` })));
      noInternal(same);
      expect(same.filter((r) => !r.errors).length).toBe(1);
      const cfg = t.config.workflow.webhook;
      const later = () => new Date(Date.now() + 5 * 60_000);
      for (let round = 0; round < 3; round++) {
        const hooks = await Promise.all([0, 1].map((i) => t.gql(civil, REGISTER, { u: `${base}/r${round}/${i}` })));
        noInternal(hooks);
        const ids = hooks.map((h) => h.data.registerWebhook.webhook.id as string);
        const kids = await Promise.all([0, 1, 2, 3].map((i) => child(50 + round * 4 + i)));
        const rs = await Promise.all([
          ...kids.map((k) => t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "危" }) { id } }`, { m: k.id })),
          deliverWebhooks(t.hub.db.ds, cfg, later, { audit: t.hub.audit, policy: buildPolicy() }).then(() => ({}) as GqlResult),
          t.gql(civil, `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, { id: ids[0] }),
          deliverWebhooks(t.hub.db.ds, cfg, later, { audit: t.hub.audit, policy: buildPolicy() }).then(() => ({}) as GqlResult),
          t.gql(civil, `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, { id: ids[0] }),
        ]);
        noInternal(rs);
        await deliverWebhooks(t.hub.db.ds, cfg, later, { audit: t.hub.audit, policy: buildPolicy() });
        expect(await t.sql(`SELECT d.id FROM workflow.webhook_delivery d JOIN workflow.webhook w ON w.id = d.webhook_id WHERE NOT w.active AND d.status = 'PENDING'`)).toEqual([]);
        expect(got.length).toBe(new Set(got).size);
        const delivered = await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE status = 'DELIVERED'`);
        for (const d of delivered) expect(got).toContain(d.id);
        expect(await t.sql(`SELECT d.id FROM workflow.webhook_delivery d WHERE d.webhook_id = $1 AND d.status = 'PENDING'`, [ids[1]])).toEqual([]);
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers a burst of many more concurrent writes of every kind than the pool has connections, each on its own record, without an error', async () => {
    const civil = await t.token(CA, { user: 'c-pool5', region: STREET });
    const edu = await t.token(ED, { user: 'e-pool5', region: STREET });
    const police = await t.token(PO, { user: 'p-pool5', region: STREET });
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'r-pool5' });
    const N = 22;
    const kids = await Promise.all(Array.from({ length: N }, (_, i) => schoolAgeChild(i)));
    const input = { type: 'ABUSE', occurredOn: daysAgo(4), status: 'INVESTIGATING', handlingUnit: '清波派出所', narrative: '邻居报警' };
    const incidents: string[] = [];
    const reports: string[] = [];
    const referrals: string[] = [];
    for (const k of kids) {
      incidents.push((await t.gql(police, `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: k.id, i: input })).data.createPoliceIncident.id);
      reports.push((await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
        i: { harmType: 'NEGLECT', observation: '无人照看', location: '小区', regionCode: k.grid_code, urgency: 'URGENT', childIdNumber: k.id_number },
      }, {})).data.fileMandatoryReport.id);
      referrals.push((await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
        i: { minorId: k.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' },
      })).data.createReferral.id);
    }
    const rs = await Promise.all([
      ...incidents.map((id) => t.gql(police, `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id minor { id } } }`, { id, i: { ...input, status: 'CLOSED' } })),
      ...reports.map((id) => t.gql(police, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核实") { id minor { id } } }`, { id })),
      ...referrals.map((id) => t.gql(edu, `mutation($id: ID!) { acceptReferral(id: $id) { id minor { id } } }`, { id })),
      ...kids.map((k) => t.gql(civil, `mutation($m: ID!) { addCategory(minorId: $m, category: LACK_OF_GUARDIANSHIP) { id } }`, { m: k.id })),
      ...kids.map((k) => t.gql(edu, `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`, { m: k.id, i: { school: '清波小学', reportedOn: daysAgo(3), daysAbsent: 9 } })),
      ...kids.map((k) => t.gql(civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "走访" }) { id } }`, { m: k.id })),
    ]);
    expect(rs.filter((r) => r.errors).map((r) => r.errors!.map((e) => `${e.extensions?.code} ${e.message}`).join())).toEqual([]);
    noInternal(rs);
  });

  it('escalates a backlog once when three jobs run it at once, their summaries adding up to what was written', async () => {
    const civil = await t.token(CA, { user: 'c-jobs5', region: STREET });
    const DAY = 86_400_000;
    const kids = await Promise.all(Array.from({ length: 12 }, (_, i) => child(120 + i)));
    for (const [i, k] of kids.entries()) {
      const level = i % 2 ? 'RED' : 'ORANGE';
      const r = await t.gql(civil, `mutation($m: ID!, $l: RiskLevel!, $at: DateTimeISO) { recordAssessment(minorId: $m, input: { level: $l, reasons: "评估", assessedAt: $at }) { id } }`, {
        m: k.id,
        l: level,
        at: new Date(Date.now() - 9 * DAY - i * 60_000).toISOString(),
      });
      expect(r.errors).toBeUndefined();
      expect((await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: k.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' } })).errors).toBeUndefined();
    }
    const later = new Date(Date.now() + 20 * DAY);
    const count = async () =>
      (await t.sql(`SELECT kind, count(*)::int AS n, count(DISTINCT dedupe_key)::int AS keys FROM workflow.notification WHERE kind IN ('ESCALATION', 'VISIT_OVERDUE', 'REASSESSMENT_REQUESTED') GROUP BY kind ORDER BY kind`)) as { kind: string; n: number; keys: number }[];
    const before = await count();
    const runs = await Promise.all([0, 1, 2].map(() => runEscalations(t.hub.db.ds, t.config, buildPolicy(), later)));
    const after = await count();
    for (const r of runs) expect(r.failed).toBe(0);
    const made = (kind: string) => (after.find((a) => a.kind === kind)?.n ?? 0) - (before.find((b) => b.kind === kind)?.n ?? 0);
    const sum = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0);
    expect([sum((r) => r.redNotifications + r.reports + r.referrals), sum((r) => r.overdueVisits)]).toEqual([made('ESCALATION'), made('VISIT_OVERDUE')]);
    const again = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), later);
    expect(again).toEqual({ referrals: 0, redNotifications: 0, reports: 0, overdueVisits: 0, reassessments: 0, failed: 0 });
  });
});
