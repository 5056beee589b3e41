import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How each field of a notification's payload was built for its department: ALLOW (exact) or MASK
 * (masked), by the policy of the release that told it. A field is served only while the
 * department's access to it is still the same (src/subgraphs/workflow/workflow.notify.ts,
 * `servedPayload`): a release that masks a field education read exactly had served the exact
 * value, stored, as masked. Rows told before this column (or by the release before it, during a
 * rolling deploy) have none: built under today's masks, they are served as before, a field left
 * out only when denied. A release that masks a field such a row holds exactly must still rewrite it.
 *
 * Down drops the column: every row is served as before.
 */
export class WorkflowNotificationPayloadAccess1795403600000 implements MigrationInterface {
  name = 'WorkflowNotificationPayloadAccess1795403600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow.notification ADD COLUMN payload_access jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow.notification DROP COLUMN payload_access`);
  }
}
