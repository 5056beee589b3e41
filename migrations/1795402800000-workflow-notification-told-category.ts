import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A GUARDIANSHIP_FAILURE is raised by two categories only (LACK_OF_GUARDIANSHIP, DOMESTIC_VIOLENCE),
 * so a department told of one with the category masked learns what its mask hides: to the women's
 * federation, which reads DOMESTIC_VIOLENCE as NEEDS_SUPPORT, "guardianship failure, NEEDS_SUPPORT"
 * is DOMESTIC_VIOLENCE. Since 5bfa2db such a department is not told (`tells` in workflow.notify.ts);
 * the releases before told it, and those notifications stayed in its inbox, served to every officer
 * of the federation whose jurisdiction covers them, and queued to its webhooks — as would be what a
 * replica of such a release writes during a rolling deploy.
 *
 * Up removes the stored ones (their deliveries first: a delivery names its notification; the audit
 * trail keeps every read and delivery made of them) and installs a trigger that writes no such row
 * again: the insert is skipped, so the release before's `ON CONFLICT … RETURNING id` returns none and
 * it queues no delivery. This release never writes one: it tells only a department that reads the
 * category exactly. Down drops the trigger; the removed rows stay removed.
 */
const MASKED_FAILURE = (row: string) =>
  `${row}kind = 'GUARDIANSHIP_FAILURE' AND ${row}payload->>'MinorCategory.category' NOT IN ('LACK_OF_GUARDIANSHIP', 'DOMESTIC_VIOLENCE')`;

export class WorkflowNotificationToldCategory1795402800000 implements MigrationInterface {
  name = 'WorkflowNotificationToldCategory1795402800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION workflow.notification_tells_no_masked_category() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
    // Created before the removal below: its lock waits for inserts under way, and every later one goes through it.
    await q.query(`
      CREATE TRIGGER notification_tells_no_masked_category BEFORE INSERT ON workflow.notification
        FOR EACH ROW WHEN (${MASKED_FAILURE('NEW.')})
        EXECUTE FUNCTION workflow.notification_tells_no_masked_category()`);
    await q.query(`DELETE FROM workflow.webhook_delivery d USING workflow.notification n WHERE n.id = d.notification_id AND ${MASKED_FAILURE('n.')}`);
    await q.query(`DELETE FROM workflow.notification n WHERE ${MASKED_FAILURE('n.')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER notification_tells_no_masked_category ON workflow.notification`);
    await q.query(`DROP FUNCTION workflow.notification_tells_no_masked_category()`);
  }
}
