import { MigrationInterface, QueryRunner } from 'typeorm';

/** The police subgraph's schema: incidents (警情), guardian admonishments (训诫), identity verifications with 户籍 facts. */
export class PoliceInit1795400110000 implements MigrationInterface {
  name = 'PoliceInit1795400110000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA police`);
    await q.query(`
      CREATE TABLE police.incident (
        id            uuid PRIMARY KEY,
        minor_id      uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        type          text NOT NULL CHECK (type IN ('DOMESTIC_VIOLENCE','ABUSE','MISSING','RUNAWAY','TRAFFICKING','SEXUAL_HARM')),
        occurred_on   date NOT NULL,
        status        text NOT NULL CHECK (status IN ('REPORTED','INVESTIGATING','CLOSED')),
        handling_unit text NOT NULL CHECK (length(handling_unit) BETWEEN 1 AND 100),
        narrative     text NOT NULL
      )`);
    await q.query(`CREATE INDEX incident_minor_idx ON police.incident (minor_id)`);
    // "Incidents in the last N days" lists.
    await q.query(`CREATE INDEX incident_occurred_idx ON police.incident (occurred_on, id)`);
    await q.query(`
      CREATE TABLE police.guardian_admonishment (
        id            uuid PRIMARY KEY,
        minor_id      uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        guardian      text NOT NULL CHECK (guardian IN ('FATHER','MOTHER','OTHER_GUARDIAN')),
        admonished_on date NOT NULL,
        issuing_unit  text NOT NULL CHECK (length(issuing_unit) BETWEEN 1 AND 100),
        reason        text NOT NULL
      )`);
    await q.query(`CREATE INDEX guardian_admonishment_minor_idx ON police.guardian_admonishment (minor_id)`);
    await q.query(`
      CREATE TABLE police.identity_verification (
        id               uuid PRIMARY KEY,
        minor_id         uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        verified_on      date NOT NULL,
        result           text NOT NULL CHECK (result IN ('MATCHED','MISMATCHED','NO_RECORD')),
        household_status text NOT NULL CHECK (household_status IN ('REGISTERED','UNREGISTERED','MOVED_OUT')),
        household_place  text,
        note             text,
        -- A registered child has a place of registration; an unregistered one has none.
        CHECK ((household_status = 'UNREGISTERED') = (household_place IS NULL))
      )`);
    await q.query(`CREATE INDEX identity_verification_minor_idx ON police.identity_verification (minor_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['identity_verification', 'guardian_admonishment', 'incident']) await q.query(`DROP TABLE police.${table}`);
    await q.query(`DROP SCHEMA police`);
  }
}
