import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Jurisdiction is a code prefix (`grid_code LIKE '<region>%'`), which is the region's subtree
 * only if codes have one width per level and every code extends its parent's by one level:
 * district 6 digits (a root), street 9, community 12, grid 15. Until now a code of any width from
 * 6 to 15 digits was accepted, so a data load adding e.g. a root `3301029` would have put its
 * children into the view of district `330102`. Children sit in grids.
 */
export class RegistryRegionCodeByLevel1795400800000 implements MigrationInterface {
  name = 'RegistryRegionCodeByLevel1795400800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE registry.region ADD CONSTRAINT region_code_by_level CHECK (CASE level
        WHEN 'DISTRICT' THEN length(code) = 6 AND parent_code IS NULL
        WHEN 'STREET' THEN length(code) = 9 AND parent_code = left(code, 6)
        WHEN 'COMMUNITY' THEN length(code) = 12 AND parent_code = left(code, 9)
        ELSE length(code) = 15 AND parent_code = left(code, 12) END)`);
    await q.query(`ALTER TABLE registry.minor ADD CONSTRAINT minor_in_grid CHECK (length(grid_code) = 15)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry.minor DROP CONSTRAINT minor_in_grid`);
    await q.query(`ALTER TABLE registry.region DROP CONSTRAINT region_code_by_level`);
  }
}
