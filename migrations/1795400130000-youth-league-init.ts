import { MigrationInterface, QueryRunner } from 'typeorm';

/** The Youth League subgraph's schema: prevention cases with follow-ups, idle-minor support, volunteer visits. */
export class YouthLeagueInit1795400130000 implements MigrationInterface {
  name = 'YouthLeagueInit1795400130000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA youth_league`);
    await q.query(`
      CREATE TABLE youth_league.prevention_case (
        id                uuid PRIMARY KEY,
        minor_id          uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        kind              text NOT NULL CHECK (kind IN ('GENERAL_PREVENTION','SERIOUS_MISBEHAVIOUR')),
        behaviour         text CHECK (behaviour IN ('GANG_FIGHTING','CARRYING_WEAPON','REPEATED_THEFT','DRUG_USE','GAMBLING','OTHER')),
        opened_on         date NOT NULL,
        status            text NOT NULL CHECK (status IN ('OPEN','CLOSED')),
        case_worker       text NOT NULL CHECK (length(case_worker) BETWEEN 1 AND 100),
        measures          text NOT NULL,
        last_follow_up_on date CHECK (last_follow_up_on >= opened_on),
        -- The behaviour is named exactly for serious-misbehaviour cases.
        CHECK ((kind = 'SERIOUS_MISBEHAVIOUR') = (behaviour IS NOT NULL)),
        UNIQUE (id, minor_id)
      )`);
    await q.query(`CREATE INDEX prevention_case_minor_idx ON youth_league.prevention_case (minor_id)`);
    await q.query(`
      CREATE TABLE youth_league.follow_up (
        id             uuid PRIMARY KEY,
        case_id        uuid NOT NULL,
        minor_id       uuid NOT NULL,
        followed_up_on date NOT NULL,
        note           text NOT NULL,
        FOREIGN KEY (case_id, minor_id) REFERENCES youth_league.prevention_case (id, minor_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX follow_up_case_idx ON youth_league.follow_up (case_id)`);
    await q.query(`
      CREATE TABLE youth_league.idle_support (
        id         uuid PRIMARY KEY,
        minor_id   uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        kind       text NOT NULL CHECK (kind IN ('RETURN_TO_SCHOOL','VOCATIONAL_TRAINING','EMPLOYMENT')),
        started_on date NOT NULL,
        provider   text NOT NULL CHECK (length(provider) BETWEEN 1 AND 100),
        status     text NOT NULL CHECK (status IN ('IN_PROGRESS','COMPLETED','ABANDONED')),
        note       text
      )`);
    await q.query(`CREATE INDEX idle_support_minor_idx ON youth_league.idle_support (minor_id)`);
    await q.query(`
      CREATE TABLE youth_league.volunteer_visit (
        id         uuid PRIMARY KEY,
        minor_id   uuid NOT NULL REFERENCES registry.minor(id) ON DELETE CASCADE,
        visited_on date NOT NULL,
        volunteer  text NOT NULL CHECK (length(volunteer) BETWEEN 1 AND 100),
        notes      text NOT NULL
      )`);
    await q.query(`CREATE INDEX volunteer_visit_minor_idx ON youth_league.volunteer_visit (minor_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['volunteer_visit', 'idle_support', 'follow_up', 'prevention_case']) await q.query(`DROP TABLE youth_league.${table}`);
    await q.query(`DROP SCHEMA youth_league`);
  }
}
