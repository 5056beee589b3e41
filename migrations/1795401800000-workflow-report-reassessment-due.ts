import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A report stepped to HANDLED about a registered child asks civil affairs to reassess the child
 * (REASSESSMENT_REQUESTED). The request did that itself, reading the child and writing the
 * notification and its deliveries inside the step, so the step cost more statements and time when
 * the report named a registered child: a filer may name any ID number, and stepping the report told
 * them whether it was a registered child elsewhere in the hub, which every read of it hides from
 * them. The step now only marks the report (`reassessment_due`), in the same UPDATE whether or not
 * the report names a child, and the escalation job (workflow.jobs.ts `runEscalations`) reads the
 * child, sends the request and clears the mark. The partial index keeps the job's look-up to the
 * marked reports, few at any time, however many reports there are.
 *
 * Down drops the mark: a report still marked when it runs (handled within the last job interval)
 * is not asked about — run the job first.
 */
export class WorkflowReportReassessmentDue1795401800000 implements MigrationInterface {
  name = 'WorkflowReportReassessmentDue1795401800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow.mandatory_report ADD COLUMN reassessment_due boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX mandatory_report_reassessment_due_idx ON workflow.mandatory_report (updated_at) WHERE reassessment_due`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.mandatory_report_reassessment_due_idx`);
    await q.query(`ALTER TABLE workflow.mandatory_report DROP COLUMN reassessment_due`);
  }
}
