import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trail searchable by request id (`auditEvents(filter: { requestId })`): the id a caller is
 * answered in `x-request-id`, and the id each anomaly lists, is what a data officer is handed when
 * a request is questioned. New request ids begin with their millisecond (UUID version 7,
 * src/audit/request-id.ts), so the index grows at its right edge as `seq`'s does; the random ids of
 * events written before are indexed as they are.
 */
export class AuditEventRequestIndex1795402500000 implements MigrationInterface {
  name = 'AuditEventRequestIndex1795402500000';

  async up(q: QueryRunner): Promise<void> {
    // Built here, the index holds the trail's writes, and so every request (AUDIT_UNAVAILABLE), for
    // as long as the build takes: minutes on a trail of tens of millions of events. An operator may
    // build it beforehand with CREATE INDEX CONCURRENTLY under this name (README, Upgrading); one such
    // build that failed leaves an invalid index of that name, which is built again here.
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = to_regclass('audit.event_request_idx') AND NOT indisvalid) THEN
          DROP INDEX audit.event_request_idx;
        END IF;
      END $$`);
    await q.query(`CREATE INDEX IF NOT EXISTS event_request_idx ON audit.event (request_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit.event_request_idx`);
  }
}
