import { MigrationInterface, QueryRunner } from 'typeorm';

/** The justice subgraph's schema: incarcerated parents (服刑在戒), community correction (社区矫正), legal aid (法律援助). */
export class JusticeInit1795400120000 implements MigrationInterface {
  name = 'JusticeInit1795400120000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA justice`);
    await q.query(`
      CREATE TABLE justice.incarcerated_parent (
        id               uuid PRIMARY KEY,
        minor_id         uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        parent           text NOT NULL CHECK (parent IN ('FATHER','MOTHER')),
        kind             text NOT NULL CHECK (kind IN ('SERVING_SENTENCE','COMPULSORY_REHAB')),
        institution      text NOT NULL CHECK (length(institution) BETWEEN 1 AND 100),
        since            date NOT NULL,
        expected_release date CHECK (expected_release >= since),
        status           text NOT NULL CHECK (status IN ('IN_CUSTODY','RELEASED'))
      )`);
    await q.query(`CREATE INDEX incarcerated_parent_minor_idx ON justice.incarcerated_parent (minor_id)`);
    await q.query(`CREATE INDEX incarcerated_parent_release_idx ON justice.incarcerated_parent (expected_release, id)`);
    await q.query(`
      CREATE TABLE justice.community_correction (
        id                 uuid PRIMARY KEY,
        minor_id           uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        started_on         date NOT NULL,
        ends_on            date NOT NULL CHECK (ends_on > started_on),
        status             text NOT NULL CHECK (status IN ('ACTIVE','COMPLETED','REVOKED')),
        supervising_office text NOT NULL CHECK (length(supervising_office) BETWEEN 1 AND 100),
        notes              text
      )`);
    await q.query(`CREATE INDEX community_correction_minor_idx ON justice.community_correction (minor_id)`);
    await q.query(`
      CREATE TABLE justice.legal_aid_case (
        id        uuid PRIMARY KEY,
        minor_id  uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        opened_on date NOT NULL,
        matter    text NOT NULL CHECK (matter IN ('GUARDIANSHIP','CHILD_SUPPORT','VICTIM_REPRESENTATION','DEFENCE','EDUCATION_RIGHTS','OTHER')),
        status    text NOT NULL CHECK (status IN ('OPEN','CLOSED')),
        provider  text NOT NULL CHECK (length(provider) BETWEEN 1 AND 100),
        details   text NOT NULL
      )`);
    await q.query(`CREATE INDEX legal_aid_case_minor_idx ON justice.legal_aid_case (minor_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['legal_aid_case', 'community_correction', 'incarcerated_parent']) await q.query(`DROP TABLE justice.${table}`);
    await q.query(`DROP SCHEMA justice`);
  }
}
