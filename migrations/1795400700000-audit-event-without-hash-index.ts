import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit.event.hash` without its UNIQUE index. Nothing looks an event up by its hash, and the
 * index guarded nothing the chain does not: `seq` is the primary key, so two writers appending
 * after the same head collide there, and each hash covers its `seq`, so verification (which
 * recomputes every hash from the stored body) finds any copied or forged row. The index was the
 * largest of the table (random 64-character keys: 216 MB at 1.4M events, more than the other four
 * together) and its random inserts wrote a full-page image into the WAL for almost every event after
 * a checkpoint: about 30 µs of Postgres CPU per audited request at city scale.
 */
export class AuditEventWithoutHashIndex1795400700000 implements MigrationInterface {
  name = 'AuditEventWithoutHashIndex1795400700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.event DROP CONSTRAINT event_hash_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.event ADD CONSTRAINT event_hash_key UNIQUE (hash)`);
  }
}
