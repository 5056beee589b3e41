import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry's published contract for the department subgraphs: which grid each child lives in,
 * and nothing else. Departments join it to apply the jurisdiction rule to their own records
 * without reading the registry's tables (names, ID numbers, addresses stay behind the registry's
 * own policy). A view, so it is always current and cannot be written through by accident
 * (security_barrier keeps a caller's predicates from running before the view's own).
 */
export class RegistryMinorJurisdiction1795400050000 implements MigrationInterface {
  name = 'RegistryMinorJurisdiction1795400050000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW registry.minor_jurisdiction WITH (security_barrier) AS
        SELECT id AS minor_id, grid_code FROM registry.minor`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW registry.minor_jurisdiction`);
  }
}
