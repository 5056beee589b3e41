import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Department } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { deliverWebhooks, signWebhook } from '../src/subgraphs/workflow/workflow.webhooks';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { expectAfterFilteredOut, expectAfterRefusedAlike, expectPagedToItsEnd, expectStatementsPerPageFlat, WorkflowList } from './support/workflow-pages';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const MIN = 60_000;
/** What a delivery audits itself with: the test hub's trail and the policy. */
const trail = (t: TestHub) => ({ audit: t.hub.audit, policy: buildPolicy() });

const ASSESS = `mutation($id: ID!, $level: RiskLevel!) { recordAssessment(minorId: $id, input: { level: $level, reasons: "家暴致伤，需立即干预" }) { id } }`;
const CATEGORY = `mutation($id: ID!, $c: DifficultyCategory!) { addCategory(minorId: $id, category: $c) { id } }`;
const INBOX = `query($u: Boolean) { notifications(unacknowledged: $u, first: 500) { id kind subjectId regionCode minor { id } payload { field value } acknowledgedAt acknowledgedBy } }`;

/** 信息通报: who is told, what they are told, acknowledgement, escalation, and webhook delivery. */
describe('workflow: notifications', () => {
  let t: TestHub;
  let civil: string;
  const policy = buildPolicy();
  const pickChild = async (where: string) =>
    (await t.sql(`SELECT m.id, m.name, trim(m.id_number) AS id_number, m.current_address, m.grid_code, m.risk_level FROM registry.minor m WHERE ${where} ORDER BY m.id LIMIT 1`))[0];

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_RED_ACK_MINUTES: '30', HUB_WEBHOOK_MAX_ATTEMPTS: '3', HUB_WEBHOOK_RETRY_BASE_MS: '1000', HUB_WEBHOOK_TIMEOUT_MS: '2000' } });
    civil = await t.token(CA, { user: 'director-zhao' });
  });
  afterAll(() => t.stop());

  const told = (minorId: string, kind: string) =>
    t.sql(`SELECT department, region_code, payload FROM workflow.notification WHERE minor_id = $1 AND kind = $2 ORDER BY department`, [minorId, kind]);

  it('tells a child newly at RED to exactly the departments the policy names, each with only the fields it may read', async () => {
    const c = await pickChild(`m.risk_level = 'YELLOW' AND m.grid_code LIKE '330102001%'`);
    expect((await t.gql(civil, ASSESS, { id: c.id, level: 'RED' })).errors).toBeUndefined();
    const rows = await told(c.id, 'CHILD_RED');
    expect(rows.map((r) => r.department)).toEqual([CA, ED, PO, WF].sort());
    const byDept = Object.fromEntries(rows.map((r) => [r.department, r.payload]));
    for (const r of rows) expect(r.region_code).toBe(c.grid_code);
    // Civil affairs and police read everything of the event.
    expect(byDept[CA]).toMatchObject({ 'Minor.name': c.name, 'Minor.idNumber': c.id_number, 'Minor.currentAddress': c.current_address, 'RiskAssessment.reasons': '家暴致伤，需立即干预', 'RiskAssessment.level': 'RED' });
    expect(byDept[PO]['RiskAssessment.reasons']).toBe('家暴致伤，需立即干预');
    // Education: masked ID number and address, no reasons.
    expect(byDept[ED]['Minor.idNumber']).toBe(c.id_number.slice(0, 6) + '*'.repeat(12));
    expect(byDept[ED]['Minor.currentAddress']).not.toBe(c.current_address);
    expect(byDept[ED]).not.toHaveProperty('RiskAssessment.reasons');
    expect(byDept[ED]).not.toHaveProperty('RiskAssessment.assessor');
    // Women's federation: full address (home visits), masked ID number, no reasons.
    expect(byDept[WF]['Minor.currentAddress']).toBe(c.current_address);
    expect(byDept[WF]).not.toHaveProperty('RiskAssessment.reasons');
    // Every payload field is one the recipient may read, shown as its policy shows it.
    for (const r of rows) {
      for (const key of Object.keys(r.payload)) expect(policy.access(r.department, key)).not.toBe('DENY');
    }
    // A second RED assessment is not "newly RED".
    await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
    expect(await told(c.id, 'CHILD_RED')).toHaveLength(4);
  });

  it('tells a dropout report to education, civil affairs and the Youth League, with what each may read, or not at all if the write fails', async () => {
    const c = await pickChild(`m.grid_code LIKE '330102002%' AND NOT EXISTS (SELECT 1 FROM education.dropout_report d WHERE d.minor_id = m.id) AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years'`);
    const school = await t.token(ED, { user: 'teacher-li' });
    const create = `mutation($id: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $id, input: $i) { id } }`;
    const input = { school: '湖滨小学', reportedOn: new Date().toISOString().slice(0, 10), daysAbsent: 21 };
    const bad = await t.gql(school, create, { id: c.id, i: { ...input, daysAbsent: -1 } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(await told(c.id, 'DROPOUT')).toHaveLength(0);
    const r = await t.gql(school, create, { id: c.id, i: input });
    expect(r.errors).toBeUndefined();
    const rows = await told(c.id, 'DROPOUT');
    expect(rows.map((x) => x.department)).toEqual([CA, ED, YL].sort());
    for (const x of rows) {
      expect(x.region_code).toBe(c.grid_code);
      expect(x.payload['DropoutReport.school']).toBe('湖滨小学');
      expect(x.payload['DropoutReport.daysAbsent']).toBe('21'); // payload values are stored as text
      for (const key of Object.keys(x.payload)) expect(policy.access(x.department, key)).not.toBe('DENY');
    }
  });

  it('shows none of a department record’s facts in a dropout notification once its child has moved out of the reader’s street, nor records a read of the child', async () => {
    const c = await pickChild(`m.grid_code LIKE '330102001%' AND NOT EXISTS (SELECT 1 FROM education.dropout_report d WHERE d.minor_id = m.id) AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years'`);
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '330102002%' AND length(code) = 15 ORDER BY code LIMIT 1`);
    const created = await t.gql(await t.token(ED), `mutation($id: ID!) { createDropoutReport(minorId: $id, input: { school: "清波小学", reportedOn: "${new Date().toISOString().slice(0, 10)}", daysAbsent: 37 }) { id } }`, { id: c.id });
    expect(created.errors).toBeUndefined();
    const reportId = created.data.createDropoutReport.id;
    const league = await t.token(YL, { region: '330102001', user: 'yl-street-1' });
    const toldOf = async () => {
      const r = await post(t, league, { query: INBOX });
      return { n: r.json.data.notifications.find((x: { subjectId: string }) => x.subjectId === reportId), event: await eventOf(t, r.requestId) };
    };

    const before = await toldOf();
    expect([before.n.minor, before.n.payload.map((f: { field: string }) => f.field)]).toEqual([{ id: c.id }, ['DropoutReport.daysAbsent', 'DropoutReport.reportedOn', 'DropoutReport.school']]);
    expect((await t.gql(civil, `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: c.id, g: elsewhere })).errors).toBeUndefined();

    // The report left the street's lists with its child; its school, date and days absent leave the inbox too.
    const after = await toldOf();
    expect([after.n.minor, after.n.payload]).toEqual([null, []]);
    expect(after.event.reads.filter((g: { minorId: string }) => g.minorId === c.id)).toEqual([]);
  });

  it('tells a guardianship-failure case to civil affairs, police and the women’s federation, but the sensitive category only to those who read it', async () => {
    const c = await pickChild(`m.grid_code LIKE '330102001%' AND NOT EXISTS (SELECT 1 FROM registry.minor_category x WHERE x.minor_id = m.id AND x.category IN ('DOMESTIC_VIOLENCE', 'LACK_OF_GUARDIANSHIP'))`);
    expect((await t.gql(civil, CATEGORY, { id: c.id, c: 'LACK_OF_GUARDIANSHIP' })).errors).toBeUndefined();
    const lack = await told(c.id, 'GUARDIANSHIP_FAILURE');
    expect(lack.map((r) => r.department)).toEqual([CA, PO, WF]);
    for (const r of lack) expect(r.payload['MinorCategory.category']).toBe('LACK_OF_GUARDIANSHIP');
    // Only two categories raise the event: told to the federation, which sees DOMESTIC_VIOLENCE as
    // NEEDS_SUPPORT, it would name the category anyway.
    expect((await t.gql(civil, CATEGORY, { id: c.id, c: 'DOMESTIC_VIOLENCE' })).errors).toBeUndefined();
    const rows = (await told(c.id, 'GUARDIANSHIP_FAILURE')).filter((r) => r.payload['MinorCategory.category'] !== 'LACK_OF_GUARDIANSHIP');
    expect(rows.map((r) => r.department)).toEqual([CA, PO]);
    const byDept = Object.fromEntries(rows.map((r) => [r.department, r.payload]));
    expect(byDept[CA]['MinorCategory.category']).toBe('DOMESTIC_VIOLENCE');
    // Other categories tell nobody.
    const count = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE minor_id = $1`, [c.id]))[0].n;
    const before = await count();
    expect((await t.gql(civil, CATEGORY, { id: c.id, c: 'POVERTY' })).errors).toBeUndefined();
    expect(await count()).toBe(before);
  });

  it('serves each department its own inbox in its jurisdiction, and acknowledges for the department, audited', async () => {
    const c = await pickChild(`m.risk_level = 'BLUE' AND m.grid_code LIKE '330102001%'`);
    await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
    const inbox = async (token: string, u?: boolean) => ((await t.gql(token, INBOX, { u })).data.notifications as any[]).filter((n) => n.minor?.id === c.id);
    const edu = await t.token(ED, { user: 'edu-1' });
    const [mine] = await inbox(edu, true);
    expect(mine).toMatchObject({ kind: 'CHILD_RED', regionCode: c.grid_code, acknowledgedAt: null });
    expect(mine.payload.map((f: any) => f.field)).not.toContain('RiskAssessment.reasons');
    expect(await inbox(await t.token(ED, { region: '330102002' }), true)).toEqual([]);
    expect(await inbox(await t.token(JU))).toEqual([]);
    expect(await inbox(await t.token(YL))).toEqual([]);

    const r = await post(t, edu, { query: `mutation($id: ID!) { acknowledge(id: $id) { acknowledgedAt acknowledgedBy } }`, variables: { id: mine.id } });
    expect(r.json.data.acknowledge.acknowledgedBy).toBe('edu-1');
    expect(await inbox(edu, true)).toEqual([]);
    expect(await inbox(await t.token(ED, { user: 'edu-2' }), false)).toHaveLength(1);
    const stored = async () => t.sql(`SELECT acknowledged_at, acknowledged_by FROM workflow.notification WHERE id = $1`, [mine.id]);
    const acknowledged = await stored();
    expect(acknowledged).toEqual([{ acknowledged_at: expect.any(Date), acknowledged_by: 'edu-1' }]);
    const again = await post(t, await t.token(ED, { user: 'edu-2' }), { query: `mutation($id: ID!) { acknowledge(id: $id) { acknowledgedBy } }`, variables: { id: mine.id } });
    expect(again.json).toEqual({ data: { acknowledge: { acknowledgedBy: 'edu-1' } } });
    const e = await eventOf(t, r.requestId);
    expect(e.changes).toEqual([{ mutation: 'acknowledge', id: mine.id, minorId: c.id, fields: ['id'] }]);
    // Acknowledging again changes nothing, and its event says so: a call, audited as the read it is.
    expect(await stored()).toEqual(acknowledged);
    const repeat = await eventOf(t, again.requestId);
    expect(repeat).toMatchObject({ outcome: 'SUCCESS', userId: 'edu-2', changes: [] });
    expect(repeat.reads).toEqual([{ minorId: c.id, fields: { 'Notification.acknowledgedBy': 'ALLOW' } }]);
    // Another department's notification reads as missing.
    const [police] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'POLICE'`, [c.id]);
    expect(errorCodes(await t.gql(edu, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: police.id }))).toEqual(['NOT_FOUND']);
  });

  it('records reading a payload as reads of the child’s fields it carries, ALLOW or MASK as it was built for the department', async () => {
    const c = await pickChild(`m.risk_level = 'YELLOW' AND m.grid_code LIKE '330102002%'`);
    const assessed = await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
    expect(assessed.errors).toBeUndefined();
    const reads: Record<string, Record<string, string>> = {};
    for (const department of [PO, ED]) {
      const r = await post(t, await t.token(department, { user: `inbox-${department}` }), { query: `{ notifications(first: 1) { subjectId payload { field value } } }` });
      const [n] = r.json.data.notifications;
      expect(n.subjectId).toBe(assessed.data.recordAssessment.id);
      const e = await eventOf(t, r.requestId);
      expect(e.reads).toHaveLength(1);
      expect(e.reads[0].minorId).toBe(c.id);
      reads[department] = e.reads[0].fields;
      // Exactly the payload's fields, each as the department was served it, as a webhook delivery records them.
      const payload = Object.fromEntries(n.payload.map((f: { field: string }) => [f.field, policy.access(department, f.field) === 'MASK' ? 'MASK' : 'ALLOW']));
      expect(reads[department]).toEqual({ 'Notification.subjectId': 'ALLOW', 'Notification.payload': 'ALLOW', ...payload });
    }
    expect(reads[PO]).toMatchObject({ 'Minor.name': 'ALLOW', 'Minor.idNumber': 'ALLOW', 'Minor.currentAddress': 'ALLOW', 'RiskAssessment.reasons': 'ALLOW' });
    expect(reads[ED]).toMatchObject({ 'Minor.idNumber': 'MASK', 'Minor.currentAddress': 'MASK' });
    expect(reads[ED]).not.toHaveProperty('RiskAssessment.reasons');
  });

  it('records an acknowledgement filter as a read of each listed notification’s acknowledgedAt, for the child it names', async () => {
    const c = await pickChild(`m.risk_level = 'ORANGE' AND m.grid_code LIKE '330102002%'`);
    expect((await t.gql(civil, ASSESS, { id: c.id, level: 'RED' })).errors).toBeUndefined();
    const police = await t.token(PO, { user: 'inbox-filter' });
    const readOf = async (args: string) => {
      const r = await post(t, police, { query: `{ notifications(${args}first: 500) { id minor { id } } }` });
      expect(r.json.data.notifications.some((n: { minor: { id: string } | null }) => n.minor?.id === c.id)).toBe(true);
      return (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === c.id).fields;
    };
    expect(await readOf('')).not.toHaveProperty('Notification.acknowledgedAt');
    expect(await readOf('unacknowledged: true, ')).toMatchObject({ 'Notification.id': 'ALLOW', 'Notification.acknowledgedAt': 'ALLOW' });
    const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'POLICE' AND kind = 'CHILD_RED'`, [c.id]);
    expect((await t.gql(police, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: n.id })).errors).toBeUndefined();
    expect(await readOf('unacknowledged: false, ')).toMatchObject({ 'Notification.id': 'ALLOW', 'Notification.acknowledgedAt': 'ALLOW' });
  });

  it('escalates a RED notification left unacknowledged, once, to civil affairs one level up', async () => {
    const c = await pickChild(`m.risk_level = 'ORANGE' AND m.grid_code LIKE '330102001%'`);
    await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
    const reds = await t.sql(`SELECT id, department, created_at FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED'`, [c.id]);
    const acked = reds.find((n) => n.department === PO);
    await t.gql(await t.token(PO), `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: acked.id });
    const createdAt = reds[0].created_at.getTime();
    const escalated = () => t.sql(`SELECT subject_id, department, region_code FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = ANY($1)`, [reds.map((n) => n.id)]);
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(createdAt + 29 * MIN));
    expect(await escalated()).toEqual([]);
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(createdAt + 31 * MIN));
    const parent = (await t.sql(`SELECT parent_code FROM registry.region WHERE code = $1`, [c.grid_code]))[0].parent_code;
    const rows = await escalated();
    expect(rows.map((r) => r.subject_id).sort()).toEqual(reds.filter((n) => n.department !== PO).map((n) => n.id).sort());
    for (const r of rows) expect(r).toMatchObject({ department: CA, region_code: parent });
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(createdAt + 90 * MIN));
    expect(await escalated()).toHaveLength(3);
  });

  it('escalates a RED notification whose child has moved away still saying what went unacknowledged, without naming the child', async () => {
    const c = await pickChild(`m.risk_level = 'BLUE' AND m.grid_code LIKE '330102002%'`);
    await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
    const reds: { id: string; created_at: Date }[] = await t.sql(`SELECT id, created_at FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED'`, [c.id]);
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102003%' ORDER BY code LIMIT 1`);
    expect((await t.gql(civil, `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: c.id, g: elsewhere })).errors).toBeUndefined();
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(Math.max(...reds.map((n) => n.created_at.getTime())) + 31 * MIN));
    const rows = await t.sql(`SELECT minor_id, payload FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = ANY($1)`, [reds.map((n) => n.id)]);
    expect(rows).toHaveLength(reds.length);
    for (const r of rows) {
      expect(r.minor_id).toBeNull();
      expect(Object.keys(r.payload).sort()).toEqual(['Notification.createdAt', 'Notification.department', 'Notification.kind']);
      expect(r.payload['Notification.kind']).toBe('CHILD_RED');
    }
  });

  it('goes on escalating past an item it cannot escalate, and escalates that one at a later pass', async () => {
    const c = await pickChild(`m.risk_level = 'YELLOW' AND m.grid_code LIKE '330102002%'`);
    await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
    const reds: { id: string; created_at: Date }[] = await t.sql(`SELECT id, created_at FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' ORDER BY created_at, id`, [c.id]);
    expect(reds.length).toBeGreaterThan(1);
    // The first in the step's order cannot be escalated (a row no notification can be made of).
    const [stuck] = reds;
    await t.sql(`CREATE FUNCTION workflow.refuse_one_escalation() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.kind = 'ESCALATION' AND NEW.subject_id = '${stuck.id}' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await t.sql(`CREATE TRIGGER refuse_one_escalation BEFORE INSERT ON workflow.notification FOR EACH ROW EXECUTE FUNCTION workflow.refuse_one_escalation()`);
    const escalated = async () =>
      (await t.sql(`SELECT subject_id FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = ANY($1)`, [reds.map((n) => n.id)])).map((r) => r.subject_id).sort();
    const at = new Date(reds[reds.length - 1].created_at.getTime() + 31 * MIN);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const summary = await runEscalations(t.hub.db.ds, t.config, policy, at);
      expect(summary.failed).toBe(1);
      expect(await escalated()).toEqual(reds.slice(1).map((n) => n.id).sort());
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining(`workflow escalation: RED notification ${stuck.id} failed, left for the next pass`)]);
      // Its notification is not marked escalated: the next pass tries it again.
      expect((await t.sql(`SELECT escalated_at FROM workflow.notification WHERE id = $1`, [stuck.id]))[0].escalated_at).toBeNull();
    } finally {
      log.mockRestore();
      await t.sql(`DROP TRIGGER refuse_one_escalation ON workflow.notification`);
      await t.sql(`DROP FUNCTION workflow.refuse_one_escalation()`);
    }
    expect((await runEscalations(t.hub.db.ds, t.config, policy, at)).failed).toBe(0);
    expect(await escalated()).toEqual(reds.map((n) => n.id).sort());
  });

  describe('paging', () => {
    const STREET = '330102003';
    const PAGE = `query($first: Int!, $after: ID, $u: Boolean) { notifications(unacknowledged: $u, first: $first, after: $after) { id kind } }`;
    const list = (token: string, variables: Record<string, unknown> = {}): WorkflowList => ({ t, token, query: PAGE, list: 'notifications', idOf: (n) => n.id, variables });
    const inboxOf = (department: string, where = 'TRUE') =>
      t.sql(`SELECT id FROM workflow.notification WHERE department = $1 AND region_code LIKE '${STREET}%' AND ${where} ORDER BY created_at DESC, id`, [department]);
    const notify = (department: string, region: string, n: number) =>
      // Three at each instant (ties on created_at), every fourth acknowledged, every fifth naming no child.
      t.sql(
        `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, payload, created_at, acknowledged_at, acknowledged_by)
         SELECT gen_random_uuid(), 'CHILD_RED', $1, m.grid_code, CASE WHEN i % 5 = 0 THEN NULL ELSE m.id END, '{}', now() - (i / 3) * interval '1 minute',
                CASE WHEN i % 4 = 0 THEN now() END, CASE WHEN i % 4 = 0 THEN 'paging' END
           FROM generate_series(0, $3 - 1) i
           JOIN LATERAL (SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE $2 ORDER BY id OFFSET i LIMIT 1) m ON TRUE`,
        [department, `${region}%`, n],
      );
    let justice: string;
    beforeAll(async () => {
      await notify(JU, STREET, 150);
      justice = await t.token(JU, { region: STREET, user: 'ju-paging' });
    });

    it('goes on after the notification a page ended with, to the end of the inbox, through notifications made at one instant', async () => {
      expect(await expectPagedToItsEnd(list(justice))).toEqual((await inboxOf(JU)).map((n) => n.id));
      for (const u of [true, false]) {
        const filtered = (await inboxOf(JU, `acknowledged_at IS ${u ? '' : 'NOT '}NULL`)).map((n) => n.id);
        expect(await expectPagedToItsEnd(list(justice, { u }))).toEqual(filtered);
      }
    });

    it('refuses a notification the inbox does not list as a random id: of another street, another department, acknowledged, no id', async () => {
      await notify(JU, '330102001', 1);
      await notify(PO, STREET, 1);
      const [elsewhere] = await t.sql(`SELECT id FROM workflow.notification WHERE department = 'JUSTICE' AND region_code NOT LIKE '${STREET}%' LIMIT 1`);
      const [police] = await inboxOf(PO);
      const [acknowledged] = await inboxOf(JU, 'acknowledged_at IS NOT NULL AND minor_id IS NOT NULL');
      await expectAfterRefusedAlike(list(justice, { u: true }), [elsewhere.id, police.id]);
      const [{ minor_id }] = await t.sql(`SELECT minor_id FROM workflow.notification WHERE id = $1`, [acknowledged.id]);
      await expectAfterFilteredOut(list(justice, { u: true }), [{ id: acknowledged.id, minorId: minor_id }], { 'Notification.acknowledgedAt': 'ALLOW' });
    });

    it('records the notification it goes on after as tested, as each one it names: still unacknowledged', async () => {
      const [first, second] = (await inboxOf(JU, 'acknowledged_at IS NULL')).map((n) => n.id);
      const r = await post(t, justice, { query: PAGE, variables: { first: 1, after: first, u: true } });
      expect(r.json.data.notifications.map((n: { id: string }) => n.id)).toEqual([second]);
      const children = await t.sql(`SELECT minor_id FROM workflow.notification WHERE id = ANY($1) AND minor_id IS NOT NULL`, [[first, second]]);
      expect(children).toHaveLength(2);
      const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
      expect(reads.map((x) => x.minorId).sort()).toEqual(children.map((c) => c.minor_id).sort());
      for (const x of reads) expect(x.fields).toMatchObject({ 'Notification.acknowledgedAt': 'ALLOW' });
    });

    it('reads a page in the same statements whatever its size', async () => {
      const [start] = await inboxOf(JU);
      await expectStatementsPerPageFlat(list(justice), start.id);
    });
  });

  describe('webhooks', () => {
    let server: Server;
    let url: string;
    let received: { headers: IncomingMessage['headers']; body: string }[];
    let failNext = 0;

    beforeAll(async () => {
      received = [];
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          if (failNext > 0) {
            failNext--;
            res.writeHead(503).end();
          } else res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub-events`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('registers a department system, signs every delivery with its secret, and retries with back-off until delivered', async () => {
      const edu = await t.token(ED, { user: 'edu-system-admin', region: '330102001' });
      const reg = await t.gql(edu, `mutation($url: String!) { registerWebhook(url: $url) { secret maxAttempts webhook { id department regionCode url active } } }`, { url });
      expect(reg.errors).toBeUndefined();
      const { secret, webhook } = reg.data.registerWebhook;
      expect(webhook).toMatchObject({ department: ED, regionCode: '330102001', url, active: true });
      expect((await t.gql(edu, `{ webhooks { id } }`)).data.webhooks).toEqual([{ id: webhook.id }]);
      expect((await t.gql(await t.token(PO), `{ webhooks { id } }`)).data.webhooks).toEqual([]);

      const c = await pickChild(`m.risk_level = 'YELLOW' AND m.grid_code LIKE '330102001%' ORDER BY m.id DESC --`);
      await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
      const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' AND department = 'EDUCATION'`, [c.id]);
      const deliveries = await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE notification_id = $1`, [n.id]);
      expect(deliveries).toHaveLength(1);
      // Only the education notification goes to the education webhook.
      expect((await t.sql(`SELECT count(*)::int AS k FROM workflow.webhook_delivery d JOIN workflow.notification x ON x.id = d.notification_id WHERE x.minor_id = $1`, [c.id]))[0].k).toBe(1);

      failNext = 1;
      const now = Date.now();
      expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t))).toEqual({ delivered: 0, failed: 0 });
      const [pending] = await t.sql(`SELECT status, attempts, next_attempt_at, last_error FROM workflow.webhook_delivery WHERE id = $1`, [deliveries[0].id]);
      expect(pending).toMatchObject({ status: 'PENDING', attempts: 1, last_error: 'HTTP 503' });
      expect(pending.next_attempt_at.getTime()).toBe(now + 1000);
      expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now + 500), trail(t))).toEqual({ delivered: 0, failed: 0 });
      expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now + 1000), trail(t))).toEqual({ delivered: 1, failed: 0 });
      expect((await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE id = $1`, [deliveries[0].id]))[0]).toEqual({ status: 'DELIVERED', attempts: 2 });

      expect(received).toHaveLength(2);
      const last = received[1];
      const ts = String(last.headers['x-hub-timestamp']);
      expect(last.headers['x-hub-signature']).toBe(signWebhook(secret, ts, last.body));
      expect(last.headers['x-hub-signature']).not.toBe(signWebhook('wrong-secret', ts, last.body));
      const body = JSON.parse(last.body);
      expect(body).toMatchObject({ id: n.id, kind: 'CHILD_RED', department: ED, minorId: c.id });
      expect(body.payload).not.toHaveProperty('RiskAssessment.reasons');
      expect(body.payload['Minor.idNumber']).toBe(c.id_number.slice(0, 6) + '*'.repeat(12));
      expect(last.body).not.toContain(c.id_number);
    });

    it('gives up after the bounded number of attempts, and stops delivering to a deactivated webhook', async () => {
      const wf = await t.token(WF, { user: 'wf-admin' });
      const reg = await t.gql(wf, `mutation($url: String!) { registerWebhook(url: $url) { webhook { id } } }`, { url });
      const c = await pickChild(`m.risk_level = 'BLUE' AND m.grid_code LIKE '330102002%'`);
      await t.gql(civil, ASSESS, { id: c.id, level: 'RED' });
      const [d] = await t.sql(
        `SELECT d.id FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id WHERE n.minor_id = $1 AND d.webhook_id = $2`,
        [c.id, reg.data.registerWebhook.webhook.id],
      );
      failNext = 3;
      let now = Date.now();
      for (let i = 0; i < 3; i++) {
        await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t));
        now += 10_000;
      }
      expect((await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE id = $1`, [d.id]))[0]).toEqual({ status: 'FAILED', attempts: 3 });

      expect((await t.gql(wf, `mutation($id: ID!) { deactivateWebhook(id: $id) { active } }`, { id: reg.data.registerWebhook.webhook.id })).data.deactivateWebhook.active).toBe(false);
      const c2 = await pickChild(`m.risk_level = 'YELLOW' AND m.grid_code LIKE '330102002%'`);
      await t.gql(civil, ASSESS, { id: c2.id, level: 'RED' });
      expect(await t.sql(`SELECT 1 FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id WHERE n.minor_id = $1`, [c2.id])).toEqual([]);
    });

    it('refuses a URL that is not http(s)', async () => {
      const r = await t.gql(await t.token(ED), `mutation { registerWebhook(url: "file:///etc/passwd") { secret } }`);
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions!.field).toBe('url');
    });
  });
});
