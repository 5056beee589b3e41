import { MigrationInterface, QueryRunner } from 'typeorm';

/** The registry subgraph's schema: jurisdiction tree, minors, guardians, categories, assessments, visits. */
export class RegistryInit1795400000000 implements MigrationInterface {
  name = 'RegistryInit1795400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA registry`);
    await q.query(`
      CREATE TABLE registry.region (
        code        varchar(15) PRIMARY KEY CHECK (code ~ '^[0-9]{6,15}$'),
        parent_code varchar(15) REFERENCES registry.region(code),
        level       text NOT NULL CHECK (level IN ('DISTRICT','STREET','COMMUNITY','GRID')),
        name        text NOT NULL,
        -- A subtree is a code prefix, so every child's code extends its parent's.
        CHECK (parent_code IS NULL OR (code LIKE parent_code || '%' AND code <> parent_code))
      )`);
    await q.query(`CREATE INDEX region_parent_idx ON registry.region (parent_code)`);
    await q.query(`
      CREATE TABLE registry.minor (
        id                     uuid PRIMARY KEY,
        name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
        gender                 text NOT NULL CHECK (gender IN ('MALE','FEMALE')),
        birth_date             date NOT NULL,
        id_number              char(18) NOT NULL UNIQUE,
        household_registration text NOT NULL,
        current_address        text NOT NULL,
        grid_code              varchar(15) NOT NULL REFERENCES registry.region(code),
        school                 text,
        risk_level             text CHECK (risk_level IN ('RED','ORANGE','YELLOW','BLUE')),
        next_visit_due         timestamptz,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now()
      )`);
    // Jurisdiction is a prefix match on the grid code; text_pattern_ops lets LIKE 'prefix%' use it.
    await q.query(`CREATE INDEX minor_grid_idx ON registry.minor (grid_code text_pattern_ops, id)`);
    await q.query(`CREATE INDEX minor_risk_idx ON registry.minor (risk_level, id)`);
    await q.query(`
      CREATE TABLE registry.guardian (
        id             uuid PRIMARY KEY,
        minor_id       uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        relationship   text NOT NULL,
        name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
        phone          text,
        address        text,
        situation      text NOT NULL,
        situation_note text
      )`);
    await q.query(`CREATE INDEX guardian_minor_idx ON registry.guardian (minor_id)`);
    await q.query(`
      CREATE TABLE registry.minor_category (
        minor_id      uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        category      text NOT NULL CHECK (category <> 'NEEDS_SUPPORT'),
        identified_at date NOT NULL,
        PRIMARY KEY (minor_id, category)
      )`);
    await q.query(`CREATE INDEX minor_category_category_idx ON registry.minor_category (category, minor_id)`);
    await q.query(`
      CREATE TABLE registry.risk_assessment (
        id             uuid PRIMARY KEY,
        minor_id       uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        level          text NOT NULL CHECK (level IN ('RED','ORANGE','YELLOW','BLUE')),
        reasons        text NOT NULL,
        assessor       text NOT NULL,
        assessed_at    timestamptz NOT NULL,
        next_visit_due timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX risk_assessment_minor_idx ON registry.risk_assessment (minor_id, assessed_at DESC)`);
    await q.query(`
      CREATE TABLE registry.visit (
        id         uuid PRIMARY KEY,
        minor_id   uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        visited_at timestamptz NOT NULL,
        visitor    text NOT NULL,
        notes      text NOT NULL
      )`);
    await q.query(`CREATE INDEX visit_minor_idx ON registry.visit (minor_id, visited_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['visit', 'risk_assessment', 'minor_category', 'guardian', 'minor', 'region']) {
      await q.query(`DROP TABLE registry.${table}`);
    }
    await q.query(`DROP SCHEMA registry`);
  }
}
