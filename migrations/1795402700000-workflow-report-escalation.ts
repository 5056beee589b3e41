import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A mandatory report past its verification or handling deadline escalates to civil affairs one
 * region level up (workflow.jobs.ts `runEscalations`), once per deadline: `verify_escalated_at` and
 * `handle_escalated_at` are when the job took up each lapse. The partial indexes keep its look-up
 * to the open reports whose lapse is not yet taken up, few at any time, however many reports stay
 * overdue: without them each pass read every open report again.
 *
 * Down drops both: a report the job escalated is escalated no more by this release (the dedupe key
 * of the notification stays), and the release before never escalates reports.
 */
export class WorkflowReportEscalation1795402700000 implements MigrationInterface {
  name = 'WorkflowReportEscalation1795402700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow.mandatory_report ADD COLUMN verify_escalated_at timestamptz, ADD COLUMN handle_escalated_at timestamptz`);
    await q.query(`CREATE INDEX mandatory_report_verify_lapse_idx ON workflow.mandatory_report (verify_due_at) WHERE status = 'RECEIVED' AND verify_escalated_at IS NULL`);
    await q.query(
      `CREATE INDEX mandatory_report_handle_lapse_idx ON workflow.mandatory_report (handle_due_at) WHERE status IN ('RECEIVED','VERIFYING') AND handle_escalated_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.mandatory_report_handle_lapse_idx`);
    await q.query(`DROP INDEX workflow.mandatory_report_verify_lapse_idx`);
    await q.query(`ALTER TABLE workflow.mandatory_report DROP COLUMN handle_escalated_at, DROP COLUMN verify_escalated_at`);
  }
}
