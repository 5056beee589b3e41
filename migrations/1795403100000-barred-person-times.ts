import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry's latest listing and latest revocation, each one index probe: a pre-employment check
 * or re-screening is dated no earlier than either (src/subgraphs/workflow/resolvers/employment.resolver.ts),
 * since it answers from the registry as they left it. The listing's index also serves
 * `barredPersons`, newest first.
 *
 * Down drops both.
 */
export class BarredPersonTimes1795403100000 implements MigrationInterface {
  name = 'BarredPersonTimes1795403100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX barred_person_created_idx ON workflow.barred_person (created_at)`);
    await q.query(`CREATE INDEX barred_person_revoked_idx ON workflow.barred_person (revoked_at) WHERE revoked_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.barred_person_revoked_idx`);
    await q.query(`DROP INDEX workflow.barred_person_created_idx`);
  }
}
