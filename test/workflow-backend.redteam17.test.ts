import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { closeReceiver as close, insertWebhook, receiver } from './support/webhooks';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED } = Department;
const DAY = 86_400_000;
const STREET = '330102001';
const ASSESS = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "redteam17" }) { id } }`;
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { checkId answer } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "RT17-复查") { batchId answers { index answer } } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;

/** YYYY-MM-DD of the China day `at` falls on, moved by `years`. */
const chinaDayYearsAgo = (at: Date, years: number, plusDays = 0) => {
  const d = new Date(at.getTime() + 8 * 3_600_000 + plusDays * DAY);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.toISOString().slice(0, 10);
};

describe('red team 17: notifications, webhooks, pre-employment checks', () => {
  let t: TestHub;
  let civil: string;
  let employer: string;
  let police: string;
  const trail = () => ({ audit: t.hub.audit, policy: buildPolicy() });

  beforeAll(async () => {
    t = await startTestHub({
      env: { HUB_WEBHOOK_MAX_ATTEMPTS: '3', HUB_WEBHOOK_RETRY_BASE_MS: '1000', HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_EMPLOYMENT_CHECK_MIN_MS: '20', HUB_EMPLOYMENT_CHECKS_PER_HOUR: '100' },
    });
    civil = await t.token(CA, { user: 'ca-rt17' });
    employer = await t.token(ED, { role: Role.EMPLOYER, user: 'kg-rt17' });
    police = await t.token(PO, { user: 'po-rt17' });
  });
  afterAll(() => t.stop());

  // README "Ageing out": the workflow reads whether the child a notification names is a minor at the
  // clock of the request or job, not by the database's now(). A delivery pass (its `Clock`: the hub's,
  // shifted by HUB_CLOCK_OFFSET_MS in a rehearsal) that runs after the child turned 18 at that clock
  // must name the child no more, as the inbox at that clock does not.
  it('names no child in a webhook delivery that has turned 18 by the pass’s clock', async () => {
    await t.sql(`UPDATE workflow.webhook SET active = false`);
    const rx = await receiver();
    try {
      const hook = await insertWebhook(t, CA, STREET, rx.url);
      const [c] = await t.sql(
        `SELECT id, grid_code FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 AND registry.is_minor(birth_date, now())
           AND NOT EXISTS (SELECT 1 FROM workflow.notification n WHERE n.minor_id = registry.minor.id) ORDER BY id LIMIT 1`,
        [`${STREET}%`],
      );
      // 18 in two days (China), 17 today.
      const birth = chinaDayYearsAgo(new Date(), 18, 2);
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [c.id, birth]);
      const r = await t.gql(civil, ASSESS, { id: c.id });
      expect(r.errors).toBeUndefined();
      const [n] = await t.sql(`SELECT n.minor_id FROM workflow.notification n JOIN workflow.webhook_delivery d ON d.notification_id = n.id WHERE d.webhook_id = $1`, [hook]);
      expect(n.minor_id).toBe(c.id); // named when told: 17 then
      const later = Date.now() + 3 * DAY; // the pass's clock: the child is 18
      // The inbox at that clock (the hub run with the same offset) names the child no more.
      const streetCa = await t.token(CA, { user: 'ca-street-rt17', region: STREET });
      t.config.workflow.clockOffsetMs = 3 * DAY;
      try {
        const inbox = await t.gql(streetCa, `query { notifications(first: 500) { id subjectId minor { id } payload { field } } }`);
        const mine = (inbox.data?.notifications ?? []).filter((x: any) => x.subjectId === r.data.recordAssessment.id);
        expect(mine.map((x: any) => [x.minor, x.payload.filter((f: any) => f.field.startsWith('Minor.')).length])).toEqual([[null, 0]]);
      } finally {
        t.config.workflow.clockOffsetMs = 0;
      }
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(later), trail());
      expect(rx.got).toHaveLength(1);
      const body = JSON.parse(rx.got[0].body);
      expect({ minorId: body.minorId, minorFields: Object.keys(body.payload).filter((k) => k.startsWith('Minor.')) }).toEqual({ minorId: null, minorFields: [] });
      await t.hub.audit.drain();
      const events = await t.sql(`SELECT body FROM audit.event WHERE body::jsonb->>'userId' = 'hub:webhook-delivery' AND body LIKE $1`, [`%${hook}%`]);
      expect(events).toHaveLength(1);
      expect(JSON.stringify(JSON.parse(events[0].body).reads)).not.toContain(c.id);
    } finally {
      await close(rx.server);
      await t.sql(`UPDATE workflow.webhook SET active = false`);
    }
  });

  const check = (idNumber: string) => t.gql(employer, CHECK, { input: { idNumber, name: '候选人', authorizationReference: 'AUTH-RT17' } });

  // GB 11643: the birth date is the holder's; a number born after today belongs to no one. The registry
  // refuses it (validateMinorIdentity: 'encodes a birth date in the future'); the check answers CLEAR
  // about it and records the check, as if a real person had been cleared.
  it('refuses an ID number whose birth date lies in the future (as the registry does) instead of answering CLEAR', async () => {
    const before = (await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check`))[0].n;
    const tomorrow = chinaDayYearsAgo(new Date(), 0, 1);
    for (const id of [buildIdNumber('330102', '2099-01-01', 123), buildIdNumber('330102', tomorrow, 124)]) {
      const r = await check(id);
      expect({ id, codes: errorCodes(r), answer: r.data?.employmentCheck?.answer ?? null }).toEqual({ id, codes: ['BAD_USER_INPUT'], answer: null });
    }
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check`))[0].n).toBe(before);
  });

  it('re-screening refuses a candidate whose number has a birth date in the future, naming the candidate, before anything is recorded', async () => {
    const who = await t.token(ED, { role: Role.EMPLOYER, user: 'kg-rescreen-rt17' });
    const ok = buildIdNumber('330102', '1985-06-01', 321);
    const future = buildIdNumber('330102', '2099-01-01', 123);
    const rs = await t.gql(who, RESCREEN, { c: [{ idNumber: ok, name: '员工甲' }, { idNumber: future, name: '员工乙' }] });
    expect({ codes: errorCodes(rs), field: rs.errors?.[0]?.extensions?.field ?? rs.errors?.[0]?.message }).toEqual({ codes: ['BAD_USER_INPUT'], field: expect.stringContaining('candidates[1].idNumber') });
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'kg-rescreen-rt17'`))[0].n).toBe(0);
  });

  it('refuses an ID number of year 0001 (no living person) instead of answering CLEAR', async () => {
    const id = buildIdNumber('330102', '0001-01-01', 125);
    const r = await check(id);
    expect({ codes: errorCodes(r), answer: r.data?.employmentCheck?.answer ?? null }).toEqual({ codes: ['BAD_USER_INPUT'], answer: null });
  });

  it('refuses to list a bar for a number born in year 0001 (no living person)', async () => {
    const id = buildIdNumber('330102', '0001-03-15', 131);
    const r = await t.gql(police, ADD, { input: { idNumber: id, name: '李某', offence: 'SEXUAL_HARM', judgementReference: '(2024)浙0102刑初RT17号' } });
    expect({ codes: errorCodes(r), data: r.data?.addBarredPerson ?? null }).toEqual({ codes: ['BAD_USER_INPUT'], data: null });
  });

  it('answers a registered child’s number exactly as an unknown one (no existence of a child record), in the fixed time', async () => {
    const [child] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const unknown = buildIdNumber('330102', '1991-02-03', 457);
    const started = performance.now();
    const a = await check(child.id_number);
    const mid = performance.now();
    const b = await check(unknown);
    const end = performance.now();
    expect([a.errors, Object.keys(a.data.employmentCheck).sort(), a.data.employmentCheck.answer]).toEqual([undefined, ['answer', 'checkId'], 'CLEAR']);
    expect([b.errors, b.data.employmentCheck.answer]).toEqual([undefined, 'CLEAR']);
    expect([mid - started >= 19, end - mid >= 19]).toEqual([true, true]);
  });
});
