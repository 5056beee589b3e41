import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The barred-person registry holds ID numbers only as HMACs under HUB_AUDIT_KEY, so a hub started
 * with another key (rotated, mistyped, lost) finds no one listed and answers every check CLEAR.
 * One row keeps an HMAC of a fixed text under the key the registry is hashed with, recorded on first
 * use: a hub whose key gives another value refuses the registry's operations (workflow.employment.ts)
 * instead of voiding every bar in silence. It says nothing of the key without the key.
 */
export class BarredPersonKey1795402000000 implements MigrationInterface {
  name = 'BarredPersonKey1795402000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workflow.barred_person_key (
        singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        key_check   char(64) NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE workflow.barred_person_key`);
  }
}
