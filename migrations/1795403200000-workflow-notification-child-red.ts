import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A child's CHILD_RED notices, in the order they were sent: whether a grid was told of the RED a
 * child is at reads when anyone was first told of that RED (src/subgraphs/registry/resolvers/
 * minor-mutation.resolver.ts, `toldRedHere`), which the inbox index (by department and region)
 * cannot answer for a child.
 *
 * Down drops it.
 */
export class WorkflowNotificationChildRed1795403200000 implements MigrationInterface {
  name = 'WorkflowNotificationChildRed1795403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX notification_child_red_idx ON workflow.notification (minor_id, created_at) WHERE kind = 'CHILD_RED'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.notification_child_red_idx`);
  }
}
