import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A bar is revoked, no longer deleted: the row stays with when, by whom (user, department, region)
 * and why it was revoked, so that who was barred, for what and on which judgement survives a
 * mistaken or malicious removal, and the bar can be listed again from it. The five columns are set
 * together or not at all. A judgement is listed at most once per person among the bars not revoked;
 * a person may be under several (each listing its own judgement), so that neither a bar that has
 * ended nor one listed first with an early end keeps a later judgement's bar out (a partial index
 * cannot say "still in force": that depends on the date).
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
    await q.query(`CREATE UNIQUE INDEX barred_person_judgement_key ON workflow.barred_person (id_number_hash, judgement_reference) WHERE revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX workflow.barred_person_judgement_key`);
    // The old model held one row per person: the revoked rows go, and of several bars of a person
    // the one that restricts longest stays.
    await q.query(`DELETE FROM workflow.barred_person WHERE revoked_at IS NOT NULL`);
    await q.query(`
      DELETE FROM workflow.barred_person b WHERE EXISTS (
        SELECT 1 FROM workflow.barred_person o WHERE o.id_number_hash = b.id_number_hash AND o.id <> b.id
           AND (coalesce(o.restricted_until, 'infinity'), o.created_at, o.id) > (coalesce(b.restricted_until, 'infinity'), b.created_at, b.id))`);
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
