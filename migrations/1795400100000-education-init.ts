import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The education subgraph's schema: enrollment (学籍), dropout reports (控辍保学) with their
 * persuasion actions (劝返), bullying cases, education aid. Records refer to the registry's child;
 * deleting a child from the registry removes its records with it.
 */
export class EducationInit1795400100000 implements MigrationInterface {
  name = 'EducationInit1795400100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA education`);
    await q.query(`
      CREATE TABLE education.school_enrollment (
        id          uuid PRIMARY KEY,
        minor_id    uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        school      text NOT NULL CHECK (length(school) BETWEEN 1 AND 100),
        grade       smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
        status      text NOT NULL CHECK (status IN ('ENROLLED','SUSPENDED','TRANSFERRED_OUT','DROPPED_OUT','GRADUATED')),
        enrolled_on date NOT NULL
      )`);
    await q.query(`CREATE INDEX school_enrollment_minor_idx ON education.school_enrollment (minor_id)`);
    await q.query(`
      CREATE TABLE education.dropout_report (
        id          uuid PRIMARY KEY,
        minor_id    uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        school      text NOT NULL CHECK (length(school) BETWEEN 1 AND 100),
        reported_on date NOT NULL,
        days_absent integer NOT NULL CHECK (days_absent BETWEEN 0 AND 366),
        status      text NOT NULL CHECK (status IN ('OPEN','CLOSED')),
        outcome     text CHECK (outcome IN ('RETURNED_TO_SCHOOL','VOCATIONAL_SCHOOL','MEDICAL_DEFERRAL','NOT_RETURNED')),
        closed_on   date,
        -- A closed report says how and when it ended; an open one says neither.
        CHECK ((status = 'OPEN') = (outcome IS NULL) AND (status = 'OPEN') = (closed_on IS NULL)),
        CHECK (closed_on >= reported_on),
        UNIQUE (id, minor_id)
      )`);
    await q.query(`CREATE INDEX dropout_report_minor_idx ON education.dropout_report (minor_id)`);
    await q.query(`CREATE INDEX dropout_report_status_idx ON education.dropout_report (status, id)`);
    await q.query(`
      CREATE TABLE education.persuasion_action (
        id        uuid PRIMARY KEY,
        report_id uuid NOT NULL,
        minor_id  uuid NOT NULL,
        acted_on  date NOT NULL,
        method    text NOT NULL CHECK (method IN ('HOME_VISIT','PHONE_CALL','JOINT_VISIT','SCHOOL_MEETING')),
        actor     text NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
        note      text NOT NULL,
        -- The action's child is its report's child.
        FOREIGN KEY (report_id, minor_id) REFERENCES education.dropout_report (id, minor_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX persuasion_action_report_idx ON education.persuasion_action (report_id)`);
    await q.query(`
      CREATE TABLE education.bullying_case (
        id          uuid PRIMARY KEY,
        minor_id    uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        school      text NOT NULL CHECK (length(school) BETWEEN 1 AND 100),
        occurred_on date NOT NULL,
        role        text NOT NULL CHECK (role IN ('VICTIM','PERPETRATOR')),
        severity    text NOT NULL CHECK (severity IN ('GENERAL','SERIOUS')),
        status      text NOT NULL CHECK (status IN ('OPEN','CLOSED')),
        description text NOT NULL
      )`);
    await q.query(`CREATE INDEX bullying_case_minor_idx ON education.bullying_case (minor_id)`);
    await q.query(`
      CREATE TABLE education.education_aid (
        id          uuid PRIMARY KEY,
        minor_id    uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        kind        text NOT NULL CHECK (kind IN ('TUITION_WAIVER','LIVING_SUBSIDY','NUTRITION_MEAL','SCHOLARSHIP')),
        amount_yuan integer NOT NULL CHECK (amount_yuan BETWEEN 1 AND 100000),
        granted_on  date NOT NULL,
        school_year text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$')
      )`);
    await q.query(`CREATE INDEX education_aid_minor_idx ON education.education_aid (minor_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['education_aid', 'bullying_case', 'persuasion_action', 'dropout_report', 'school_enrollment']) {
      await q.query(`DROP TABLE education.${table}`);
    }
    await q.query(`DROP SCHEMA education`);
  }
}
