import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The latest pre-employment check, one index probe: a listing or revocation of a bar is dated no
 * earlier than it (src/subgraphs/workflow/resolvers/employment.resolver.ts), since a check that
 * answered without it came first.
 *
 * Down drops it.
 */
export class EmploymentCheckTimes1795403400000 implements MigrationInterface {
  name = 'EmploymentCheckTimes1795403400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX employment_check_checked_idx ON workflow.employment_check (checked_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.employment_check_checked_idx`);
  }
}
