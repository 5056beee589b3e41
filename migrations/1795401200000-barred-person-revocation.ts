import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A bar is revoked, no longer deleted: the row stays with when, by whom (user, department, region)
 * and why it was revoked, so that who was barred, for what and on which judgement survives a
 * mistaken or malicious removal, and the bar can be listed again from it. The five columns are set
 * together or not at all. A person is listed at most once among the bars in force; a revoked row
 * no longer counts, so the same person may be listed again on a new judgement.
 *
 * Down restores the old model, where a removed bar was a deleted row: revoked rows are deleted
 * (they would also break the restored uniqueness), then the columns dropped.
 */
export class BarredPersonRevocation1795401200000 implements MigrationInterface {
  name = 'BarredPersonRevocation1795401200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE workflow.barred_person
        ADD COLUMN revoked_at            timestamptz,
        ADD COLUMN revoked_by            text,
        ADD COLUMN revoked_by_department text,
        ADD COLUMN revoked_by_region     varchar(15),
        ADD COLUMN revocation_reason     text,
        ADD CONSTRAINT barred_person_revocation_whole
          CHECK (num_nulls(revoked_at, revoked_by, revoked_by_department, revoked_by_region, revocation_reason) IN (0, 5)),
        DROP CONSTRAINT barred_person_id_number_hash_key`);
    await q.query(`CREATE UNIQUE INDEX barred_person_in_force_key ON workflow.barred_person (id_number_hash) WHERE revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.barred_person_in_force_key`);
    await q.query(`DELETE FROM workflow.barred_person WHERE revoked_at IS NOT NULL`);
    await q.query(`
      ALTER TABLE workflow.barred_person
        DROP CONSTRAINT barred_person_revocation_whole,
        DROP COLUMN revoked_at,
        DROP COLUMN revoked_by,
        DROP COLUMN revoked_by_department,
        DROP COLUMN revoked_by_region,
        DROP COLUMN revocation_reason,
        ADD CONSTRAINT barred_person_id_number_hash_key UNIQUE (id_number_hash)`);
  }
}
