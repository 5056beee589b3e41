import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trail's append lock, taken shared by every INSERT into audit.event. A writer whose batch
 * collided with another's on `seq` takes it alone to read the head and append (src/audit/audit.writer.ts):
 * no INSERT can then come between the two, so the batch gets through however busy the other writers are.
 * Keyed by two integers, a key space apart from the one-key advisory locks the hub takes elsewhere
 * (some keyed by a user id's hash, which a chosen id could otherwise make collide with this one).
 *
 * Down drops the trigger and its function.
 */
export class AuditEventAppendLock1795403500000 implements MigrationInterface {
  name = 'AuditEventAppendLock1795403500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit.share_append_lock() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(hashtext('audit.event'), hashtext('append')); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER event_append_lock BEFORE INSERT ON audit.event FOR EACH STATEMENT EXECUTE FUNCTION audit.share_append_lock()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER event_append_lock ON audit.event`);
    await q.query(`DROP FUNCTION audit.share_append_lock()`);
  }
}
