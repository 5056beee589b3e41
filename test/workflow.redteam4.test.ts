import { Department } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { startTestHub, TestHub } from './support/test-hub';

const MIN = 60_000;

/** 强制报告 / 信息通报: escalation, red team 4. */
describe('workflow escalations: red team 4', () => {
  let t: TestHub;
  const policy = buildPolicy();

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_RED_ACK_MINUTES: '30' } });
  });
  afterAll(() => t.stop());

  it('escalates every RED notification left unacknowledged in one run, however many there are, as it tells every overdue visit', async () => {
    // A screening round (摸底排查) assesses many children RED at once; a backlog of unacknowledged
    // CHILD_RED notifications (or the job down for a while) must not be escalated 500 a pass.
    const [child] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const at = new Date(Date.now() - 60 * MIN);
    const backlog = 1100;
    await t.sql(
      `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
       SELECT gen_random_uuid(), 'CHILD_RED', $1, $2, $3, gen_random_uuid(), '{}'::jsonb, $4::timestamptz + make_interval(secs => i), 'rt4-red:' || i
         FROM generate_series(1, $5::int) i`,
      [Department.EDUCATION, child.grid_code, child.id, at, backlog],
    );
    // One of them cannot be escalated: it is tried once in the run, left for the next pass, and the
    // run goes on past it to the end of the backlog.
    const [stuck] = await t.sql(`SELECT id FROM workflow.notification WHERE dedupe_key = 'rt4-red:1'`);
    await t.sql(`CREATE FUNCTION workflow.rt4_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.kind = 'ESCALATION' AND NEW.subject_id = '${stuck.id}' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await t.sql(`CREATE TRIGGER rt4_refuse BEFORE INSERT ON workflow.notification FOR EACH ROW EXECUTE FUNCTION workflow.rt4_refuse()`);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const summary = await runEscalations(t.hub.db.ds, t.config, policy, new Date());
      expect(summary.failed).toBe(1);
      expect(log).toHaveBeenCalledTimes(1);
      const left = await t.sql(`SELECT id FROM workflow.notification WHERE dedupe_key LIKE 'rt4-red:%' AND escalated_at IS NULL`);
      expect(left).toEqual([{ id: stuck.id }]);
      expect(summary.redNotifications).toBeGreaterThanOrEqual(backlog - 1);
    } finally {
      log.mockRestore();
      await t.sql(`DROP TRIGGER rt4_refuse ON workflow.notification`);
      await t.sql(`DROP FUNCTION workflow.rt4_refuse()`);
    }
    expect((await runEscalations(t.hub.db.ds, t.config, policy, new Date())).failed).toBe(0);
    expect(await t.sql(`SELECT id FROM workflow.notification WHERE dedupe_key LIKE 'rt4-red:%' AND escalated_at IS NULL`)).toEqual([]);
  });

  it('escalates every referral past its deadline in one run, however many there are', async () => {
    const [child] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const created = new Date(Date.now() - 10 * 86_400_000);
    const backlog = 1100;
    await t.sql(
      `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at)
       SELECT gen_random_uuid(), $1, 'EDUCATION_AID', 'rt4-backlog', 'CIVIL_AFFAIRS', 'rt4', 'EDUCATION', $2, 'PENDING', $3::timestamptz, $3::timestamptz + make_interval(secs => i)
         FROM generate_series(1, $4::int) i`,
      [child.id, child.grid_code.slice(0, 9), created, backlog],
    );
    const summary = await runEscalations(t.hub.db.ds, t.config, policy, new Date());
    expect(summary.failed).toBe(0);
    const [left] = await t.sql(`SELECT count(*)::int AS n FROM workflow.referral WHERE need = 'rt4-backlog' AND escalated_at IS NULL`);
    expect(left.n).toBe(0);
  });
});
