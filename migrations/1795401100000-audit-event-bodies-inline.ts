import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit rows up to a heap page (8160 bytes) are stored as they are, without TOAST: Postgres no
 * longer tries to compress a body over 2 KB, nor moves it into the TOAST table. A page event's
 * body (5 KB for 100 children, most of it their ids) does not compress, so each such event paid
 * for a failed pglz attempt and three out-of-line chunks: its INSERT costs about a third less
 * without them (290 → 190 µs of backend CPU per page event, bench/RESULTS.md). The price: bodies
 * of 2–8 KB that would compress (long documents) are stored whole — in a sample of the benchmark's
 * trail, 0.6% of the events, about 1% more space. Bodies over a page are compressed as before.
 */
export class AuditEventBodiesInline1795401100000 implements MigrationInterface {
  name = 'AuditEventBodiesInline1795401100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.event SET (toast_tuple_target = 8160)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.event RESET (toast_tuple_target)`);
  }
}
