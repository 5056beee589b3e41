import { buildSchema } from 'graphql';
import { PurposeCode } from '../src/audit/audit.types';
import { Department } from '../src/auth/principal';
import { FieldGrants, GrantSource } from '../src/policy/grants';
import { applyMask } from '../src/policy/masks';
import { PolicySchemas } from '../src/policy/policy.middleware';
import { MaskKind } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { CHILD_RECORD_TYPES, FIELD_GRANTS } from '../src/subgraphs';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { referralGrants } from '../src/subgraphs/workflow/workflow.policy';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, poolSize, startTestHub, statementParameters, TestHub } from './support/test-hub';
import { expectAfterFilteredOut, expectAfterRefusedAlike, expectPagedToItsEnd, expectStatementsPerPageFlat, WorkflowList } from './support/workflow-pages';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const HOUR = 3_600_000;

const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status regionCode answerDueAt grantedFields } }`;
const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id, note: "受理") { id status completeDueAt } }`;
const DECLINE = `mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id status closedAt } }`;
const COMPLETE = `mutation($id: ID!, $outcome: String!) { completeReferral(id: $id, outcome: $outcome) { id status outcome closedAt } }`;
const READ = `query($id: ID!) { minor(id: $id) { currentAddress birthDate guardians { name phone } } }`;

/** 转介: the answer and completion steps, SLA escalation, and the time-bound field grant. */
describe('workflow: referrals', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let child: Record<string, any>;
  let other: Record<string, any>;
  const policy = buildPolicy();

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_REFERRAL_ANSWER_HOURS: '48', HUB_REFERRAL_COMPLETE_DAYS: '10' } });
    civil = await t.token(CA, { user: 'director-zhao', region: '330102001' });
    education = await t.token(ED, { user: 'teacher-office' });
    const pick = (offset: number) =>
      t.sql(
        `SELECT m.id, m.current_address, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date FROM registry.minor m
          WHERE m.grid_code LIKE '330102001%' AND (SELECT count(*) FROM registry.guardian g WHERE g.minor_id = m.id AND g.phone IS NOT NULL) = 1
          ORDER BY m.id OFFSET $1 LIMIT 1`,
        [offset],
      );
    [child] = await pick(0);
    [other] = await pick(1);
    child.guardian = (await t.sql(`SELECT name, phone FROM registry.guardian WHERE minor_id = $1`, [child.id]))[0];
  });
  afterAll(() => t.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  async function refer(type = 'EDUCATION_AID', to: Department = ED, minorId = child.id): Promise<string> {
    const r = await t.gql(civil, CREATE, { input: { minorId, type, toDepartment: to, need: '家庭困难，需要帮扶' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  }
  const status = async (id: string) => (await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]))[0].status;

  it('declares only fields of children’s records that exist in the policy table', () => {
    for (const keys of Object.values(referralGrants)) {
      for (const key of keys) {
        expect(policy.row(key)).toBeDefined();
        expect(CHILD_RECORD_TYPES.has(key.split('.')[0])).toBe(true);
      }
    }
  });

  it('addresses the referral to the referrer’s region, with an answer deadline, and tells the receiving department', async () => {
    const r = await t.gql(civil, CREATE, { input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '申请教育资助' } });
    expect(r.errors).toBeUndefined();
    const ref = r.data.createReferral;
    expect(ref).toMatchObject({ status: 'PENDING', regionCode: '330102001', grantedFields: referralGrants.EDUCATION_AID });
    const told = await t.sql(`SELECT department, kind, payload FROM workflow.notification WHERE subject_id = $1`, [ref.id]);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ department: ED, kind: 'REFERRAL_RECEIVED' });
    expect(told[0].payload['Referral.need']).toBe('申请教育资助');
  });

  it.each([
    ['its own department', { toDepartment: CA }, 'toDepartment', 'BAD_USER_INPUT'],
    ['no department', { toDepartment: 'HOSPITAL' }, 'toDepartment', 'BAD_USER_INPUT'],
    ['an empty need', { need: '  ' }, 'need', 'BAD_USER_INPUT'],
  ])('refuses a referral to %s', async (_what, over, field, code) => {
    const r = await t.gql(civil, CREATE, { input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: 'x', ...over } });
    expect(errorCodes(r)).toEqual([code]);
    expect(r.errors![0].extensions!.field).toBe(field);
  });

  it('refuses a child outside the referrer’s jurisdiction as missing', async () => {
    const [far] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102002%' LIMIT 1`);
    const r = await t.gql(civil, CREATE, { input: { minorId: far.id, type: 'EDUCATION_AID', toDepartment: ED, need: 'x' } });
    expect(errorCodes(r)).toEqual(['NOT_FOUND']);
  });

  it('shows a referral to the departments on it and to civil affairs only, in the list and on the child', async () => {
    const id = await refer();
    const listed = async (token: string) => ((await t.gql(token, `{ referrals(first: 500) { id } }`)).data.referrals as any[]).some((r) => r.id === id);
    const onChild = async (token: string) => {
      const r = await t.gql(token, `query($id: ID!) { minor(id: $id) { referrals { id } } }`, { id: child.id });
      expect(r.errors).toBeUndefined();
      return ((r.data.minor?.referrals ?? []) as any[]).some((x) => x.id === id);
    };
    for (const visible of [listed, onChild]) {
      expect(await visible(education)).toBe(true);
      expect(await visible(civil)).toBe(true);
      expect(await visible(await t.token(CA))).toBe(true);
      expect(await visible(await t.token(YL))).toBe(false);
      expect(await visible(await t.token(PO))).toBe(false);
      expect(await visible(await t.token(ED, { region: '330102002' }))).toBe(false);
    }
  });

  it('sends the status list to the database as the set it means, however often a status repeats', async () => {
    const id = await refer();
    const sent = await statementParameters(t, async () => {
      const Q = `query($s: [ReferralStatus!]) { referrals(status: $s, first: 500) { id } }`;
      const repeated = await t.gql(civil, Q, { s: [...Array(5000).fill('PENDING'), 'DECLINED'] });
      const once = await t.gql(civil, Q, { s: ['PENDING', 'DECLINED'] });
      expect(repeated.errors).toBeUndefined();
      expect(repeated.data.referrals.map((r: { id: string }) => r.id)).toContain(id);
      expect(repeated.data).toEqual(once.data);
    });
    const arrays = sent.flat().filter((p): p is unknown[] => Array.isArray(p) && p.includes('DECLINED'));
    expect(arrays.length).toBeGreaterThan(0);
    for (const a of arrays) expect(a.length).toBeLessThanOrEqual(2);
  });

  it('records a status or direction filter as a read of what it tested of each listed referral, for the child it names', async () => {
    const id = await refer('MEDICAL_AID');
    const readOf = async (token: string, args: string) => {
      const r = await post(t, token, { query: `{ referrals(${args}first: 500) { id } }` });
      expect(r.json.data.referrals.map((x: { id: string }) => x.id)).toContain(id);
      return (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === child.id).fields;
    };
    const unfiltered = await readOf(education, '');
    for (const tested of ['Referral.status', 'Referral.fromDepartment', 'Referral.toDepartment']) expect(unfiltered).not.toHaveProperty(tested);
    expect(await readOf(education, 'status: [PENDING], ')).toMatchObject({ 'Referral.id': 'ALLOW', 'Referral.status': 'ALLOW' });
    expect(await readOf(education, 'direction: RECEIVED, ')).toMatchObject({ 'Referral.id': 'ALLOW', 'Referral.toDepartment': 'ALLOW' });
    expect(await readOf(civil, 'direction: SENT, ')).toMatchObject({ 'Referral.id': 'ALLOW', 'Referral.fromDepartment': 'ALLOW' });
  });

  it('answers a child’s newest 20 referrals by default and up to 100 when asked, each department still only its own', async () => {
    // A prolific referrer: 60 referrals of one child, 40 to schools and 20 to the police, closed (they grant nothing).
    const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND id <> ALL($1) ORDER BY id LIMIT 1`, [[child.id, other.id]]);
    await t.sql(
      `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at, answered_at, answered_by, answer_reason, closed_at)
       SELECT gen_random_uuid(), $1, 'COUNSELLING', '心理疏导', 'CIVIL_AFFAIRS', 'director-zhao', CASE WHEN k % 3 = 0 THEN 'POLICE' ELSE 'EDUCATION' END, '330102001',
              'DECLINED', at, at + interval '48 hours', at + interval '1 hour', 'teacher-office', '不属本部门职责', at + interval '1 hour'
       FROM generate_series(1, 60) k, LATERAL (SELECT now() - (k * 37 % 60) * interval '1 day' AS at) c`,
      [minorId],
    );
    const newest = async (to?: Department) =>
      (await t.sql(`SELECT id FROM workflow.referral WHERE minor_id = $1 AND ($2::text IS NULL OR to_department = $2) ORDER BY created_at DESC, id`, [minorId, to ?? null])).map((r: any) => r.id);
    const Q = `query($id: ID!, $first: Int) { minor(id: $id) { referrals(first: $first) { id } } }`;
    const page = async (token: string, first?: number) => {
      const r = await t.gql(token, Q, { id: minorId, first });
      expect(r.errors).toBeUndefined();
      return r.data.minor.referrals.map((x: { id: string }) => x.id);
    };
    const all = await newest();
    expect(all).toHaveLength(60);
    expect(await page(civil)).toEqual(all.slice(0, 20));
    expect(await page(civil, 100)).toEqual(all);
    const toSchools = await newest(ED);
    expect(toSchools).toHaveLength(40);
    expect(await page(education)).toEqual(toSchools.slice(0, 20));
    expect(await page(education, 100)).toEqual(toSchools);
    for (const first of [0, 101]) {
      const r = await t.gql(civil, Q, { id: minorId, first });
      expect([errorCodes(r), r.errors![0].extensions!.field, r.data.minor.referrals]).toEqual([['BAD_USER_INPUT'], 'first', null]);
    }
    await t.sql(`DELETE FROM workflow.referral WHERE minor_id = $1`, [minorId]);
  });

  describe('paging', () => {
    const STREET = '330102003';
    const PAGE = `query($first: Int!, $after: ID, $d: ReferralDirection, $s: [ReferralStatus!]) { referrals(direction: $d, status: $s, first: $first, after: $after) { id status } }`;
    const list = (token: string, variables: Record<string, unknown> = {}): WorkflowList => ({ t, token, query: PAGE, list: 'referrals', idOf: (r) => r.id, variables });
    const listed = (where: string) =>
      t.sql(`SELECT id FROM workflow.referral WHERE region_code LIKE '${STREET}%' AND ${where} ORDER BY created_at DESC, id`).then((rows) => rows.map((r) => r.id as string));
    /** `n` referrals of the region's children, three at each instant (ties on created_at), every fourth declined. */
    const referMany = (from: Department, to: Department, region: string, n: number) =>
      t.sql(
        `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at, closed_at)
         SELECT gen_random_uuid(), m.id, 'COUNSELLING', '心理疏导', $1, 'paging', $2, $3, CASE WHEN i % 4 = 0 THEN 'DECLINED' ELSE 'PENDING' END,
                now() - (i / 3) * interval '1 minute', now() + interval '48 hours', CASE WHEN i % 4 = 0 THEN now() END
           FROM generate_series(0, $5 - 1) i
           JOIN LATERAL (SELECT id FROM registry.minor WHERE grid_code LIKE $4 ORDER BY id OFFSET i LIMIT 1) m ON TRUE`,
        [from, to, region, `${region}%`, n],
      );
    let streetEducation: string;
    beforeAll(async () => {
      await referMany(CA, ED, STREET, 120);
      await referMany(ED, CA, STREET, 30);
      streetEducation = await t.token(ED, { region: STREET, user: 'ed-paging' });
    });

    it('goes on after the referral a page ended with, to the end of the list, through referrals made at one instant', async () => {
      const party = `(from_department = 'EDUCATION' OR to_department = 'EDUCATION')`;
      expect(await expectPagedToItsEnd(list(streetEducation))).toEqual(await listed(party));
      expect(await expectPagedToItsEnd(list(streetEducation, { d: 'RECEIVED', s: ['PENDING'] }))).toEqual(await listed(`to_department = 'EDUCATION' AND status = 'PENDING'`));
      expect(await expectPagedToItsEnd(list(await t.token(CA, { region: STREET }), { d: 'SENT' }))).toEqual(await listed(`from_department = 'CIVIL_AFFAIRS'`));
    });

    it('refuses a referral the list does not name as a random id: of another street, between other departments, of another direction or status, no id', async () => {
      await referMany(CA, ED, '330102002', 1);
      await referMany(CA, PO, STREET, 1);
      const [elsewhere] = await t.sql(`SELECT id FROM workflow.referral WHERE to_department = 'EDUCATION' AND region_code NOT LIKE '${STREET}%' LIMIT 1`);
      const [police] = await listed(`to_department = 'POLICE'`);
      const [sent] = await listed(`from_department = 'EDUCATION' AND status = 'PENDING'`);
      const [declined] = await listed(`to_department = 'EDUCATION' AND status = 'DECLINED'`);
      await expectAfterRefusedAlike(list(streetEducation, { d: 'RECEIVED', s: ['PENDING'] }), [elsewhere.id, police]);
      const filteredOut = await t.sql(`SELECT id, minor_id AS "minorId" FROM workflow.referral WHERE id = ANY($1::uuid[])`, [[sent, declined]]);
      expect(filteredOut).toHaveLength(2);
      await expectAfterFilteredOut(list(streetEducation, { d: 'RECEIVED', s: ['PENDING'] }), filteredOut, { 'Referral.status': 'ALLOW', 'Referral.toDepartment': 'ALLOW' });
    });

    it('reads a page in the same statements whatever its size', async () => {
      const [start] = await listed(`to_department = 'EDUCATION'`);
      await expectStatementsPerPageFlat(list(streetEducation), start);
    });
  });

  describe('answer and completion', () => {
    it('accepts, completes, and sends the outcome back to the referrer', async () => {
      const id = await refer();
      const accepted = await t.gql(education, ACCEPT, { id });
      expect(accepted.errors).toBeUndefined();
      expect(accepted.data.acceptReferral.status).toBe('ACCEPTED');
      const done = await t.gql(education, COMPLETE, { id, outcome: '已发放教育资助 2000 元' });
      expect(done.data.completeReferral).toMatchObject({ status: 'COMPLETED', outcome: '已发放教育资助 2000 元' });
      const back = await t.gql(civil, `query($id: ID!) { referral(id: $id) { status outcome completedBy } }`, { id });
      expect(back.data.referral).toEqual({ status: 'COMPLETED', outcome: '已发放教育资助 2000 元', completedBy: 'teacher-office' });
      const told = await t.sql(`SELECT department, payload FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME' ORDER BY created_at, dedupe_key`, [id]);
      expect(told.map((n) => n.department)).toEqual([CA, CA]);
      expect(told.map((n) => n.payload['Referral.status']).sort()).toEqual(['ACCEPTED', 'COMPLETED']);
    });

    it('declines only with a reason', async () => {
      const id = await refer();
      const r = await t.gql(education, DECLINE, { id, reason: ' ' });
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions!.field).toBe('reason');
      expect(await status(id)).toBe('PENDING');
      expect((await t.gql(education, DECLINE, { id, reason: '不属本部门职责' })).data.declineReferral.status).toBe('DECLINED');
    });

    it('lets only the receiving department answer, and each step only from its status', async () => {
      const id = await refer();
      expect(errorCodes(await t.gql(civil, ACCEPT, { id }))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await t.gql(await t.token(YL), ACCEPT, { id }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await t.gql(education, COMPLETE, { id, outcome: 'x' }))).toEqual(['BAD_USER_INPUT']);
      expect((await t.gql(education, ACCEPT, { id })).errors).toBeUndefined();
      const again = await t.gql(education, DECLINE, { id, reason: 'x' });
      expect(errorCodes(again)).toEqual(['BAD_USER_INPUT']);
      expect(again.errors![0].extensions!.field).toBe('id');
      expect(errorCodes(await t.gql(civil, COMPLETE, { id, outcome: 'x' }))).toEqual(['FORBIDDEN']);
      expect(await status(id)).toBe('ACCEPTED');
    });

    it('answers a burst of answers to one referral larger than the pool: one accepted, the rest refused, and the hub answers after it', async () => {
      // Each answer locks the referral in a transaction, holding a pooled connection: a look-up
      // through the pool inside it waited for a connection that no answer in the burst gave back.
      const id = await refer();
      const callers = Array.from({ length: poolSize(t) + 5 }, (_, i) => (i % 2 ? civil : education));
      const answers = await Promise.all(callers.map((token) => t.gql(token, ACCEPT, { id })));
      const outcomes = answers.map((a) => errorCodes(a)[0] ?? a.data.acceptReferral.status).sort();
      const answering = callers.filter((c) => c === education).length;
      expect(outcomes).toEqual([
        'ACCEPTED',
        ...Array(answering - 1).fill('BAD_USER_INPUT'),
        ...Array(callers.length - answering).fill('FORBIDDEN'),
      ]);
      expect((await t.gql(civil, READ, { id: child.id })).data.minor.currentAddress).toBe(child.current_address);
    }, 30_000);

    it('stays with the region it was addressed to when its child moves away: answered still, naming the child to that region no more', async () => {
      const [moving] = await t.sql(`SELECT id, name FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id DESC LIMIT 1`);
      const [away] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
      const id = await refer('COUNSELLING', YL, moving.id);
      const youth = await t.token(YL, { region: '330102001', user: 'youth-league-street' });
      const SEE = `query($id: ID!) { referral(id: $id) { need minor { id } } }`;
      expect((await t.gql(youth, SEE, { id })).data.referral.minor).toEqual({ id: moving.id });
      const district = await t.token(CA, { user: 'district-registrar' });
      const moved = await t.gql(district, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: moving.id, g: away.code });
      expect(moved.errors).toBeUndefined();

      // The receivers of the street read the referral, and their inbox, as about no child; their
      // events name none (the street's auditors would learn where the child went).
      const seen = await post(t, youth, { query: SEE, variables: { id } });
      expect(seen.json).toEqual({ data: { referral: { need: '家庭困难，需要帮扶', minor: null } } });
      const inbox = await post(t, youth, { query: `{ notifications(first: 500) { subjectId minor { id } payload { field value } } }` });
      const received = inbox.json.data.notifications.find((n: any) => n.subjectId === id);
      expect(received.minor).toBeNull();
      // Told while the child lived there, the stored notification named it; read now, it does not.
      expect(JSON.stringify(received.payload)).not.toContain(moving.name);
      const accepted = await post(t, youth, { query: `mutation($id: ID!) { acceptReferral(id: $id, note: "收到") { status minor { id } } }`, variables: { id } });
      expect(accepted.json).toEqual({ data: { acceptReferral: { status: 'ACCEPTED', minor: null } } });
      const acceptedEvent = await eventOf(t, accepted.requestId);
      expect(acceptedEvent.changes).toEqual([{ mutation: 'acceptReferral', id, minorId: null, fields: ['id', 'note'] }]);
      for (const r of [seen, inbox, accepted]) expect(JSON.stringify(await eventOf(t, r.requestId))).not.toContain(moving.id);

      // The answer flows back to the referrer's street (and its webhooks: the body is this row) without the child.
      const completed = await t.gql(youth, COMPLETE, { id, outcome: '已完成心理疏导' });
      expect(completed.errors).toBeUndefined();
      const back = await t.sql(`SELECT minor_id, payload FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME' ORDER BY dedupe_key`, [id]);
      expect(back.map((n) => [n.minor_id, n.payload['Referral.status']])).toEqual([[null, 'ACCEPTED'], [null, 'COMPLETED']]);
      expect(JSON.stringify(back)).not.toContain(moving.name);
      const referrer = await t.gql(civil, `query($id: ID!) { referral(id: $id) { status minor { id } } }`, { id });
      expect(referrer.data.referral).toEqual({ status: 'COMPLETED', minor: null });

      // The district, whose jurisdiction covers both streets, still sees whose referral it is.
      expect((await t.gql(district, SEE, { id })).data.referral.minor).toEqual({ id: moving.id });
      const stored = await t.sql(`SELECT minor_id FROM workflow.referral WHERE id = $1`, [id]);
      expect(stored).toEqual([{ minor_id: moving.id }]);
    });
  });

  describe('SLA and escalation', () => {
    it('escalates an unanswered referral once to civil affairs one region level up, and an accepted one that is late again', async () => {
      const id = await refer();
      const [{ created_at }] = await t.sql(`SELECT created_at FROM workflow.referral WHERE id = $1`, [id]);
      const escalations = () => t.sql(`SELECT department, region_code, dedupe_key FROM workflow.notification WHERE subject_id = $1 AND kind = 'ESCALATION' ORDER BY created_at`, [id]);
      await runEscalations(t.hub.db.ds, t.config, policy, new Date(created_at.getTime() + 47 * HOUR));
      expect(await escalations()).toEqual([]);
      await runEscalations(t.hub.db.ds, t.config, policy, new Date(created_at.getTime() + 49 * HOUR));
      expect(await escalations()).toEqual([{ department: CA, region_code: '330102', dedupe_key: `ESCALATION:referral:${id}:ANSWER:${CA}` }]);
      const [row] = await t.sql(`SELECT escalation_region, escalated_at FROM workflow.referral WHERE id = $1`, [id]);
      expect(row.escalation_region).toBe('330102');
      const overdue = await t.gql(civil, `query($id: ID!) { referral(id: $id) { overdue escalationRegion } }`, { id });
      expect(overdue.data.referral.escalationRegion).toBe('330102');
      await runEscalations(t.hub.db.ds, t.config, policy, new Date(created_at.getTime() + 60 * HOUR));
      expect(await escalations()).toHaveLength(1);
      // The district civil-affairs officer sees it in the inbox.
      const inbox = await t.gql(await t.token(CA), `{ notifications(unacknowledged: true, first: 500) { kind subjectId regionCode } }`);
      expect(inbox.data.notifications).toContainEqual({ kind: 'ESCALATION', subjectId: id, regionCode: '330102' });

      // Accepted late; 10 days to complete.
      t.config.workflow.clockOffsetMs = 50 * HOUR;
      expect((await t.gql(education, ACCEPT, { id })).errors).toBeUndefined();
      const [{ complete_due_at }] = await t.sql(`SELECT complete_due_at FROM workflow.referral WHERE id = $1`, [id]);
      await runEscalations(t.hub.db.ds, t.config, policy, new Date(complete_due_at.getTime() - HOUR));
      expect(await escalations()).toHaveLength(1);
      await runEscalations(t.hub.db.ds, t.config, policy, new Date(complete_due_at.getTime() + HOUR));
      expect((await escalations()).map((e) => e.dedupe_key)).toEqual([`ESCALATION:referral:${id}:ANSWER:${CA}`, `ESCALATION:referral:${id}:COMPLETION:${CA}`]);
    });

    it('does not escalate a referral answered in time', async () => {
      const id = await refer();
      await t.gql(education, DECLINE, { id, reason: '不属本部门职责' });
      await runEscalations(t.hub.db.ds, t.config, policy, new Date(Date.now() + 100 * HOUR));
      expect(await t.sql(`SELECT 1 FROM workflow.notification WHERE subject_id = $1 AND kind = 'ESCALATION'`, [id])).toEqual([]);
    });
  });

  describe('field grants', () => {
    const read = (token: string, purpose: string, id = child.id) => post(t, token, { query: READ, variables: { id } }, { 'x-purpose': purpose });
    const masked = () => ({
      currentAddress: applyMask(MaskKind.ADDRESS, child.current_address),
      birthDate: null,
      guardians: [{ name: applyMask(MaskKind.NAME, child.guardian.name), phone: applyMask(MaskKind.PHONE, child.guardian.phone) }],
    });

    it('opens the granted fields of that child to the receiving department under purpose REFERRAL naming it, audited', async () => {
      const id = await refer('EDUCATION_AID');
      const before = await read(education, 'CASE_HANDLING');
      expect(before.json.data.minor).toEqual(masked());
      const r = await read(education, `REFERRAL; ${id}`);
      expect(r.json.data.minor).toEqual({
        currentAddress: child.current_address,
        birthDate: null, // not granted by EDUCATION_AID: still denied
        guardians: [{ name: child.guardian.name, phone: child.guardian.phone }],
      });
      expect(errorCodes({ status: r.status, ...r.json })).toEqual(['FORBIDDEN']);
      const e = await eventOf(t, r.requestId);
      expect(e.purpose).toEqual({ code: 'REFERRAL', reference: id });
      expect(e.reads).toEqual([
        {
          minorId: child.id,
          fields: { 'Guardian.name': 'ALLOW', 'Guardian.phone': 'ALLOW', 'Minor.birthDate': 'DENY', 'Minor.currentAddress': 'ALLOW', 'Minor.guardians': 'ALLOW' },
        },
      ]);
      await t.gql(education, DECLINE, { id, reason: '已由学校资助' });
    });

    it('opens the child’s address and its guardians’ together: a guardian at home lives there', async () => {
      const ADDRESSES = `query($id: ID!) { minor(id: $id) { currentAddress guardians { address } } }`;
      const [guardian] = await t.sql(`SELECT address FROM registry.guardian WHERE minor_id = $1 AND address IS NOT NULL`, [child.id]);
      for (const type of ['EDUCATION_AID', 'FAMILY_EDUCATION_GUIDANCE']) {
        const id = await refer(type);
        const r = await post(t, education, { query: ADDRESSES, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
        expect([type, r.json.errors]).toEqual([type, undefined]);
        expect([type, r.json.data.minor.currentAddress, r.json.data.minor.guardians.map((g: { address: string | null }) => g.address)]).toEqual([
          type,
          child.current_address,
          expect.arrayContaining([guardian.address]),
        ]);
        await t.gql(education, DECLINE, { id, reason: '不需要' });
      }
    });

    it('records a field served masked in a notification and exact under the grant, in one answer, as read exactly', async () => {
      const id = await refer('EDUCATION_AID');
      const assessed = await t.gql(civil, `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "夜不归宿" }) { id } }`, { id: child.id });
      expect(assessed.errors).toBeUndefined();
      const [notice] = await t.sql(
        `SELECT id FROM workflow.notification WHERE kind = 'CHILD_RED' AND department = 'EDUCATION' AND minor_id = $1 ORDER BY created_at DESC LIMIT 1`,
        [child.id],
      );
      const ACK = `mutation($n: ID!) { acknowledge(id: $n) { payload { field value } minor { currentAddress } } }`;
      const r = await post(t, education, { query: ACK, variables: { n: notice.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      const payload = Object.fromEntries(r.json.data.acknowledge.payload.map((f: { field: string; value: unknown }) => [f.field, f.value]));
      expect([payload['Minor.currentAddress'], r.json.data.acknowledge.minor.currentAddress]).toEqual([
        applyMask(MaskKind.ADDRESS, child.current_address),
        child.current_address,
      ]);
      const e = await eventOf(t, r.requestId);
      expect(e.reads.find((x: { minorId: string }) => x.minorId === child.id).fields['Minor.currentAddress']).toBe('ALLOW');
      await t.gql(education, DECLINE, { id, reason: '已由学校资助' });
    });

    it('lifts a DENY too (LEGAL_AID opens the guardian’s situation), for the referred child only; a query under the referral that reads another child is refused whole', async () => {
      const id = await refer('LEGAL_AID');
      const SITUATION = `query($a: ID!) { a: minor(id: $a) { guardians { situation } } }`;
      const r = await post(t, education, { query: SITUATION, variables: { a: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      const [truth] = await t.sql(`SELECT situation FROM registry.guardian WHERE minor_id = $1`, [child.id]);
      expect([r.json.data, r.json.errors]).toEqual([{ a: { guardians: [{ situation: truth.situation }] } }, undefined]);
      // The referral is about one child: reading another under it would lend that read a purpose that checks out.
      for (const [query, variables] of [
        [`query($a: ID!, $b: ID!) { a: minor(id: $a) { guardians { situation } } b: minor(id: $b) { name } }`, { a: child.id, b: other.id }],
        [`query($b: ID!) { b: minor(id: $b) { name } }`, { b: other.id }],
        [`{ minors(first: 5) { edges { node { id } } } }`, {}],
      ] as const) {
        const refused = await post(t, education, { query, variables }, { 'x-purpose': `REFERRAL; ${id}` });
        expect([refused.status, refused.json.data, refused.json.errors.map((e: any) => e.extensions.code)]).toEqual([403, undefined, ['FORBIDDEN']]);
        const e = await eventOf(t, refused.requestId);
        expect([e.outcome, e.purpose]).toEqual(['DENIED', { code: 'REFERRAL', reference: id }]);
      }
      // Nor through a mutation's answer: acknowledging again changes nothing, and would read any child of the inbox.
      const otherReferral = await refer('LEGAL_AID', ED, other.id);
      const [notice] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'EDUCATION'`, [otherReferral]);
      const ACK = `mutation($n: ID!) { acknowledge(id: $n) { id minor { id name } } }`;
      const ack = await post(t, education, { query: ACK, variables: { n: notice.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      expect([ack.status, ack.json.data, ack.json.errors[0].extensions.code]).toEqual([403, undefined, 'FORBIDDEN']);
      expect(ack.json.errors[0].message).toMatch(/the mutation ran; its answer is withheld/);
      expect(JSON.stringify(ack.json)).not.toContain(other.id);
      // Its change stands, and its event says it was made: not DENIED, which reads "nothing done".
      const acked = await eventOf(t, ack.requestId);
      expect([acked.outcome, acked.errorCodes, acked.changes.map((c: any) => [c.mutation, c.id])]).toEqual(['PARTIAL', ['FORBIDDEN'], [['acknowledge', notice.id]]]);
      await t.gql(education, DECLINE, { id: otherReferral, reason: '转卫健' });
      await t.gql(education, DECLINE, { id, reason: '转卫健' });
    });

    it('never opens the birth date to a department that sees the ID number masked (the two rebuild the full number)', async () => {
      const id = await refer('MEDICAL_AID');
      const r = await post(t, education, { query: `query($id: ID!) { minor(id: $id) { idNumber birthDate age } }`, variables: { id: child.id } }, {
        'x-purpose': `REFERRAL; ${id}`,
      });
      const [stored] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE id = $1`, [child.id]);
      expect(r.json.data.minor).toEqual({ idNumber: applyMask(MaskKind.ID_NUMBER, stored.id_number), birthDate: null, age: expect.any(Number) });
      expect(r.json.errors.map((x: any) => [x.path, x.extensions.code])).toEqual([[['minor', 'birthDate'], 'FORBIDDEN']]);
      const e = await eventOf(t, r.requestId);
      expect(e.reads).toEqual([{ minorId: child.id, fields: { 'Minor.idNumber': 'MASK', 'Minor.birthDate': 'DENY', 'Minor.age': 'ALLOW' } }]);
      await t.gql(education, DECLINE, { id, reason: '转卫健' });
    });

    it('opens a guardian’s situation only with the exact categories: SERVING_SENTENCE is the INCARCERATED_PARENT the mask hides', async () => {
      await t.sql(`UPDATE registry.guardian SET situation = 'SERVING_SENTENCE' WHERE minor_id = $1`, [child.id]);
      await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'INCARCERATED_PARENT', current_date) ON CONFLICT DO NOTHING`, [child.id]);
      for (const type of ['MEDICAL_AID', 'LIVING_ASSISTANCE']) {
        const id = await refer(type);
        const r = await post(t, education, { query: `query($id: ID!) { minor(id: $id) { categories { category } guardians { situation } } }`, variables: { id: child.id } }, {
          'x-purpose': `REFERRAL; ${id}`,
        });
        expect(r.json.data.minor.categories.map((c: { category: string }) => c.category)).not.toContain('INCARCERATED_PARENT');
        expect(r.json.data.minor.guardians).toEqual([{ situation: null }]);
        await t.gql(education, DECLINE, { id, reason: '转其他部门' });
      }
      const placement = await refer('PLACEMENT');
      const r = await post(t, education, { query: `query($id: ID!) { minor(id: $id) { categories { category } guardians { situation } } }`, variables: { id: child.id } }, {
        'x-purpose': `REFERRAL; ${placement}`,
      });
      expect(r.json.data.minor.categories.map((c: { category: string }) => c.category)).toContain('INCARCERATED_PARENT');
      expect(r.json.data.minor.guardians).toEqual([{ situation: 'SERVING_SENTENCE' }]);
      await t.gql(education, DECLINE, { id: placement, reason: '转其他部门' });
    });

    it('opens, and lists, no field the receiving department cannot reach: the police’s record of the 户籍地 to justice and the Youth League', async () => {
      const QUERY = `query($id: ID!) { minor(id: $id) { householdRegistration identityVerifications { householdPlace } } }`;
      const [stored] = await t.sql(`SELECT household_registration FROM registry.minor WHERE id = $1`, [child.id]);
      for (const to of [Department.JUSTICE, YL]) {
        const id = await refer('LIVING_ASSISTANCE', to);
        const listed = (await t.gql(civil, `query($id: ID!) { referral(id: $id) { grantedFields } }`, { id })).data.referral.grantedFields;
        expect(listed).toEqual(referralGrants.LIVING_ASSISTANCE.filter((key) => key !== 'IdentityVerification.householdPlace'));
        // What it lists, it opens: the registry's 户籍地; the police's verifications stay refused.
        const receiver = await t.token(to, { region: '330102001' });
        const r = await post(t, receiver, { query: QUERY, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
        expect([r.json.data.minor, r.json.errors?.map((e: { path: string[] }) => e.path.join('.'))]).toEqual([
          { householdRegistration: stored.household_registration, identityVerifications: null },
          ['minor.identityVerifications'],
        ]);
        expect((await t.gql(receiver, DECLINE, { id, reason: '转其他部门' })).errors).toBeUndefined();
      }
      // A school reaches them: its list keeps the field.
      const id = await refer('LIVING_ASSISTANCE', ED);
      expect((await t.gql(civil, `query($id: ID!) { referral(id: $id) { grantedFields } }`, { id })).data.referral.grantedFields).toEqual(referralGrants.LIVING_ASSISTANCE);
      await t.gql(education, DECLINE, { id, reason: '转其他部门' });
    });

    it('opens only what the referring department reads exactly itself: a department cannot hand on a category or a situation it is refused', async () => {
      await t.sql(`UPDATE registry.guardian SET situation = 'SERVING_SENTENCE' WHERE minor_id = $1`, [child.id]);
      await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'INCARCERATED_PARENT', current_date) ON CONFLICT DO NOTHING`, [child.id]);
      const QUERY = `query($id: ID!) { minor(id: $id) { currentAddress categories { category } guardians { situation } } }`;
      const referFrom = async (from: Department, type: string) => {
        const r = await t.gql(await t.token(from, { region: '330102001' }), CREATE, { input: { minorId: child.id, type, toDepartment: ED, need: '需要帮扶' } });
        expect(r.errors).toBeUndefined();
        return r.data.createReferral as { id: string; grantedFields: string[] };
      };
      const readUnder = async (id: string) => {
        const r = await post(t, education, { query: QUERY, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
        const { minor } = r.json.data;
        return { categories: minor.categories.map((c: { category: string }) => c.category), situations: minor.guardians.map((g: { situation: string | null }) => g.situation), address: minor.currentAddress, r };
      };

      // The Youth League sees the category as NEEDS_SUPPORT and no situation: its legal-aid referral opens neither.
      const league = await referFrom(YL, 'LEGAL_AID');
      expect(league.grantedFields).toEqual([]);
      const underLeague = await readUnder(league.id);
      expect([underLeague.categories, underLeague.situations]).toEqual([expect.not.arrayContaining(['INCARCERATED_PARENT']), [null]]);
      expect(underLeague.categories).toContain('NEEDS_SUPPORT');
      const leagueEvent = await eventOf(t, underLeague.r.requestId);
      expect(leagueEvent.reads.find((x: { minorId: string }) => x.minorId === child.id).fields).toMatchObject({ 'MinorCategory.category': 'MASK', 'Guardian.situation': 'DENY' });
      expect((await t.gql(education, `query($id: ID!) { referral(id: $id) { grantedFields } }`, { id: league.id })).data.referral.grantedFields).toEqual([]);

      // The women's federation reads addresses and guardians exactly, not the categories: a placement it asks for opens those only.
      const federation = await referFrom(WF, 'PLACEMENT');
      expect(federation.grantedFields).toEqual(['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.name', 'Guardian.phone', 'Guardian.address']);
      const underFederation = await readUnder(federation.id);
      expect([underFederation.address, underFederation.situations]).toEqual([child.current_address, [null]]);
      expect(underFederation.categories).not.toContain('INCARCERATED_PARENT');

      // Police read both exactly: its legal-aid referral opens them, as civil affairs' does.
      const police = await referFrom(PO, 'LEGAL_AID');
      expect(police.grantedFields).toEqual(referralGrants.LEGAL_AID);
      const underPolice = await readUnder(police.id);
      expect([underPolice.categories, underPolice.situations]).toEqual([expect.arrayContaining(['INCARCERATED_PARENT']), ['SERVING_SENTENCE']]);

      for (const id of [league.id, federation.id, police.id]) await t.gql(education, DECLINE, { id, reason: '转其他部门' });
    });

    it('refuses to start with a grant that would open the birth date beside a masked ID number', () => {
      const source = (kinds: Record<string, string[]>): GrantSource => ({
        purpose: PurposeCode.REFERRAL,
        fields: new Set(Object.values(kinds).flat()),
        kinds,
        openGrant: async () => null,
      });
      expect(policy.rebuildLeaks(FIELD_GRANTS)).toEqual([]);
      const leaky = new FieldGrants([source({ MEDICAL_AID: ['Minor.birthDate', 'Guardian.phone'] })]);
      const leaks = policy.rebuildLeaks(leaky);
      for (const d of [ED, Department.JUSTICE, WF]) {
        expect(leaks).toContain(`${d} reads Minor.birthDate but Minor.idNumber is MASK under grant REFERRAL MEDICAL_AID: the two rebuild Minor.idNumber`);
      }
      expect(leaks).toContain(`${YL} reads Minor.birthDate but Minor.idNumber is DENY under grant REFERRAL MEDICAL_AID: the two rebuild Minor.idNumber`);
      expect(leaks.some((l) => l.startsWith(CA) || l.startsWith(PO))).toBe(false);
      expect(policy.rebuildLeaks(new FieldGrants([source({ MEDICAL_AID: ['Guardian.situation'] })]))).toContain(
        `${ED} reads Guardian.situation but MinorCategory.category is MASK under grant REFERRAL MEDICAL_AID: the two rebuild MinorCategory.category`,
      );
      // Two fields of the same value (a guardian at home lives at the child's address) are opened together.
      expect(policy.rebuildLeaks(new FieldGrants([source({ X: ['Guardian.address'] })]))).toContain(
        `${ED} reads Guardian.address as ALLOW but Minor.currentAddress as MASK under grant REFERRAL X: they hold the same value`,
      );
      expect(policy.rebuildLeaks(new FieldGrants([source({ X: ['RiskAssessment.reasons'] })]))).toContain(
        `${ED} reads RiskAssessment.reasons but MinorCategory.category is MASK under grant REFERRAL X: the two rebuild MinorCategory.category`,
      );
      // A due date a visit set is the visit's time plus the level's interval.
      const due = policy.rebuildLeaks(new FieldGrants([source({ X: ['Minor.nextVisitDue'] })]));
      for (const d of [ED, YL]) expect(due).toContain(`${d} reads Minor.nextVisitDue but Visit.visitedAt is DENY under grant REFERRAL X: the two rebuild Visit.visitedAt`);
      expect(due.some((l) => !l.startsWith(ED) && !l.startsWith(YL))).toBe(false);
      // Opening the whole number with it is no rebuild (whether such a grant is wise is the table's business),
      // but the number's region code tells the 户籍 district, which the Youth League is refused.
      expect(policy.rebuildLeaks(new FieldGrants([source({ X: ['Minor.birthDate', 'Minor.idNumber'] })]))).toEqual([
        `${YL} reads Minor.idNumber as ALLOW but Minor.householdRegistration is DENY under grant REFERRAL X: the first tells part of the second`,
      ]);
      // The check runs where start-up checks the table's completeness.
      const schema = buildSchema('type Query { regions: Int }');
      expect(() => new PolicySchemas(schema, policy, 'registry', CHILD_RECORD_TYPES, FIELD_GRANTS)).not.toThrow();
      expect(() => new PolicySchemas(schema, policy, 'registry', CHILD_RECORD_TYPES, leaky)).toThrow(/EDUCATION reads Minor\.birthDate but Minor\.idNumber is MASK/);
    });

    it('refuses a REFERRAL purpose that names no open referral to the caller’s department', async () => {
      const id = await refer('EDUCATION_AID');
      for (const [token, purpose] of [
        [education, 'REFERRAL'],
        [education, 'REFERRAL; 00000000-0000-4000-8000-000000000000'],
        [await t.token(YL), `REFERRAL; ${id}`],
      ] as const) {
        const r = await read(token, purpose);
        expect(r.json.errors.map((x: any) => x.extensions.code)).toContain('BAD_USER_INPUT');
        expect(r.json.errors.find((x: any) => x.extensions.code === 'BAD_USER_INPUT').extensions.field).toBe('x-purpose');
        expect(r.json.data).toBeUndefined();
      }
      // Also when the request reads nothing a grant opens: the purpose itself is refused, before
      // anything runs, on the compiled path's shape and the general path's alike.
      for (const query of [`query($id: ID!) { minor(id: $id) { name gender age } }`, `query($id: ID!) { minor(id: $id) { name categories { identifiedAt } } }`]) {
        for (const purpose of ['REFERRAL', 'REFERRAL; 00000000-0000-4000-8000-000000000000', `REFERRAL; ${id}`]) {
          const token = purpose.endsWith(id) ? await t.token(YL) : education;
          const r = await post(t, token, { query, variables: { id: child.id } }, { 'x-purpose': purpose });
          expect([r.status, r.json.data, r.json.errors.map((x: any) => [x.extensions.code, x.extensions.field])]).toEqual([400, undefined, [['BAD_USER_INPUT', 'x-purpose']]]);
          expect((await eventOf(t, r.requestId)).reads).toEqual([]);
        }
        const named = await post(t, education, { query, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
        expect(named.json.errors).toBeUndefined();
      }
      await t.gql(education, DECLINE, { id, reason: 'x' });
    });

    it('keeps the grant while accepted and loses it when the referral closes', async () => {
      const declined = await refer('EDUCATION_AID');
      expect((await read(education, `REFERRAL; ${declined}`)).json.data.minor.currentAddress).toBe(child.current_address);
      await t.gql(education, DECLINE, { id: declined, reason: '不属本部门职责' });
      const after = await read(education, `REFERRAL; ${declined}`);
      expect(after.json.errors.map((x: any) => x.extensions.code)).toContain('BAD_USER_INPUT');
      expect((await read(education, 'CASE_HANDLING')).json.data.minor).toEqual(masked());

      const completed = await refer('EDUCATION_AID');
      await t.gql(education, ACCEPT, { id: completed });
      expect((await read(education, `REFERRAL; ${completed}`)).json.data.minor.guardians[0].phone).toBe(child.guardian.phone);
      await t.gql(education, COMPLETE, { id: completed, outcome: '已资助' });
      const closed = await read(education, `REFERRAL; ${completed}`);
      expect([closed.status, closed.json.data]).toEqual([400, undefined]);
    });

    it('grants nothing to a department that is not the receiver, nor beyond the receiver’s jurisdiction', async () => {
      const id = await refer('COUNSELLING', WF);
      const reasons = `query($id: ID!) { minor(id: $id) { latestAssessment { reasons } } }`;
      const wf = await post(t, await t.token(WF), { query: reasons, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      expect(wf.json.errors).toBeUndefined();
      expect(wf.json.data.minor.latestAssessment.reasons).toEqual(expect.any(String));
      const streetTwo = await post(t, await t.token(WF, { region: '330102002' }), { query: reasons, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      expect(streetTwo.json.data?.minor ?? null).toBeNull();
      // Another department's referral is no purpose of education's: refused whole.
      const ed = await post(t, education, { query: reasons, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      expect([ed.status, ed.json.data, ed.json.errors[0].extensions.field]).toEqual([400, undefined, 'x-purpose']);
      await t.gql(await t.token(WF), DECLINE, { id, reason: 'x' });
    });
  });
});
