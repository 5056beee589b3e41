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
    await q.query(`CREATE INDEX event_request_idx ON audit.event (request_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit.event_request_idx`);
  }
}
