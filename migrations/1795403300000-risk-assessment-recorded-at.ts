import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When an assessment was recorded, which its date (`assessed_at`, perhaps back-dated) does not tell:
 * a late entry of another level dated inside a RED period splits it, and a CHILD_RED sent after the
 * split was recorded told the grid of the RED the child is at (src/subgraphs/registry/resolvers/
 * minor-mutation.resolver.ts, `toldRedHere`). Null for an assessment recorded before this migration
 * or by the seeds: not known.
 *
 * Down drops it.
 */
export class RiskAssessmentRecordedAt1795403300000 implements MigrationInterface {
  name = 'RiskAssessmentRecordedAt1795403300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry.risk_assessment ADD COLUMN recorded_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry.risk_assessment DROP COLUMN recorded_at`);
  }
}
