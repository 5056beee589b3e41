import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The women's federation subgraph's schema: left-behind / migrant care plans with their visits,
 * family-education guidance, support after domestic violence, 儿童之家 attendance.
 */
export class WomensFederationInit1795400140000 implements MigrationInterface {
  name = 'WomensFederationInit1795400140000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA womens_federation`);
    await q.query(`
      CREATE TABLE womens_federation.care_plan (
        id            uuid PRIMARY KEY,
        minor_id      uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        kind          text NOT NULL CHECK (kind IN ('LEFT_BEHIND','MIGRANT')),
        started_on    date NOT NULL,
        status        text NOT NULL CHECK (status IN ('ACTIVE','ENDED')),
        caregiver     text NOT NULL CHECK (length(caregiver) BETWEEN 1 AND 100),
        measures      text NOT NULL,
        last_visit_on date CHECK (last_visit_on >= started_on),
        UNIQUE (id, minor_id)
      )`);
    await q.query(`CREATE INDEX care_plan_minor_idx ON womens_federation.care_plan (minor_id)`);
    // "Left-behind children without a visit in N days" lists.
    await q.query(`CREATE INDEX care_plan_visit_idx ON womens_federation.care_plan (kind, status, last_visit_on)`);
    await q.query(`
      CREATE TABLE womens_federation.care_visit (
        id         uuid PRIMARY KEY,
        plan_id    uuid NOT NULL,
        minor_id   uuid NOT NULL,
        visited_on date NOT NULL,
        visitor    text NOT NULL CHECK (length(visitor) BETWEEN 1 AND 100),
        notes      text NOT NULL,
        FOREIGN KEY (plan_id, minor_id) REFERENCES womens_federation.care_plan (id, minor_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX care_visit_plan_idx ON womens_federation.care_visit (plan_id)`);
    await q.query(`
      CREATE TABLE womens_federation.family_education_session (
        id         uuid PRIMARY KEY,
        minor_id   uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        held_on    date NOT NULL,
        topic      text NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
        attendee   text NOT NULL CHECK (length(attendee) BETWEEN 1 AND 50),
        instructor text NOT NULL CHECK (length(instructor) BETWEEN 1 AND 100),
        notes      text
      )`);
    await q.query(`CREATE INDEX family_education_session_minor_idx ON womens_federation.family_education_session (minor_id)`);
    await q.query(`
      CREATE TABLE womens_federation.violence_support (
        id         uuid PRIMARY KEY,
        minor_id   uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        kind       text NOT NULL CHECK (kind IN ('SHELTER','COUNSELLING','LEGAL_REFERRAL','PROTECTION_ORDER')),
        started_on date NOT NULL,
        status     text NOT NULL CHECK (status IN ('ACTIVE','CLOSED')),
        notes      text NOT NULL
      )`);
    await q.query(`CREATE INDEX violence_support_minor_idx ON womens_federation.violence_support (minor_id)`);
    await q.query(`
      CREATE TABLE womens_federation.children_home_attendance (
        id          uuid PRIMARY KEY,
        minor_id    uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        home        text NOT NULL CHECK (length(home) BETWEEN 1 AND 100),
        attended_on date NOT NULL,
        activity    text NOT NULL CHECK (length(activity) BETWEEN 1 AND 200)
      )`);
    await q.query(`CREATE INDEX children_home_attendance_minor_idx ON womens_federation.children_home_attendance (minor_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['children_home_attendance', 'violence_support', 'family_education_session', 'care_visit', 'care_plan']) {
      await q.query(`DROP TABLE womens_federation.${table}`);
    }
    await q.query(`DROP SCHEMA womens_federation`);
  }
}
