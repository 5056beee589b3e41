import { MigrationInterface, QueryRunner } from 'typeorm';

const list = (values: string[]) => values.map((v) => `'${v}'`).join(',');
const DEPARTMENTS = list(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'JUSTICE', 'YOUTH_LEAGUE', 'WOMENS_FEDERATION']);

/**
 * The workflow subgraph's schema: mandatory reports and their steps, referrals (also field
 * grants while open), notifications with webhook deliveries, the barred-person registry and the
 * employment checks run against it.
 */
export class WorkflowInit1795400400000 implements MigrationInterface {
  name = 'WorkflowInit1795400400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA workflow`);
    await q.query(`
      CREATE TABLE workflow.mandatory_report (
        id                  uuid PRIMARY KEY,
        reporter_id         text NOT NULL,
        reporter_department text NOT NULL CHECK (reporter_department IN (${DEPARTMENTS})),
        reporter_unit       text,
        harm_type           text NOT NULL CHECK (harm_type IN (${list(['PHYSICAL_ABUSE', 'SEXUAL_ABUSE', 'NEGLECT', 'ABANDONMENT', 'DOMESTIC_VIOLENCE', 'TRAFFICKING', 'MISSING', 'SELF_HARM', 'OTHER'])})),
        observation         text NOT NULL,
        observed_at         timestamptz NOT NULL,
        location            text NOT NULL,
        region_code         varchar(15) NOT NULL CHECK (region_code ~ '^[0-9]{6,15}$'),
        minor_id            uuid,
        child_id_number     char(18),
        child_description   text,
        urgency             text NOT NULL CHECK (urgency IN ('URGENT','HIGH','NORMAL')),
        status              text NOT NULL CHECK (status IN ('RECEIVED','VERIFYING','HANDLED','CLOSED','UNFOUNDED')),
        received_at         timestamptz NOT NULL,
        verify_due_at       timestamptz NOT NULL,
        handle_due_at       timestamptz NOT NULL CHECK (handle_due_at >= verify_due_at),
        updated_at          timestamptz NOT NULL
      )`);
    // Jurisdiction is a prefix match on the region code (text_pattern_ops serves LIKE 'prefix%').
    await q.query(`CREATE INDEX mandatory_report_region_idx ON workflow.mandatory_report (region_code text_pattern_ops, received_at)`);
    await q.query(`CREATE INDEX mandatory_report_reporter_idx ON workflow.mandatory_report (reporter_id, received_at)`);
    await q.query(`CREATE INDEX mandatory_report_minor_idx ON workflow.mandatory_report (minor_id) WHERE minor_id IS NOT NULL`);
    await q.query(`CREATE INDEX mandatory_report_open_idx ON workflow.mandatory_report (status, verify_due_at) WHERE status IN ('RECEIVED','VERIFYING')`);
    await q.query(`
      CREATE TABLE workflow.report_transition (
        id          uuid PRIMARY KEY,
        report_id   uuid NOT NULL REFERENCES workflow.mandatory_report(id),
        minor_id    uuid,
        from_status text NOT NULL,
        to_status   text NOT NULL,
        officer_id  text NOT NULL,
        department  text NOT NULL CHECK (department IN (${DEPARTMENTS})),
        note        text NOT NULL,
        at          timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX report_transition_report_idx ON workflow.report_transition (report_id, at)`);
    await q.query(`
      CREATE TABLE workflow.referral (
        id                uuid PRIMARY KEY,
        minor_id          uuid NOT NULL,
        type              text NOT NULL CHECK (type IN (${list(['EDUCATION_AID', 'MEDICAL_AID', 'LEGAL_AID', 'LIVING_ASSISTANCE', 'COUNSELLING', 'PLACEMENT', 'FAMILY_EDUCATION_GUIDANCE'])})),
        need              text NOT NULL,
        from_department   text NOT NULL CHECK (from_department IN (${DEPARTMENTS})),
        from_user         text NOT NULL,
        to_department     text NOT NULL CHECK (to_department IN (${DEPARTMENTS}) AND to_department <> from_department),
        region_code       varchar(15) NOT NULL CHECK (region_code ~ '^[0-9]{6,15}$'),
        status            text NOT NULL CHECK (status IN ('PENDING','ACCEPTED','DECLINED','COMPLETED')),
        created_at        timestamptz NOT NULL,
        answer_due_at     timestamptz NOT NULL,
        complete_due_at   timestamptz,
        answered_at       timestamptz,
        answered_by       text,
        answer_reason     text,
        completed_at      timestamptz,
        completed_by      text,
        outcome           text,
        closed_at         timestamptz,
        escalated_at      timestamptz,
        escalation_region varchar(15),
        -- A closed referral grants nothing: closed_at is set exactly when it is declined or completed.
        CHECK ((status IN ('DECLINED','COMPLETED')) = (closed_at IS NOT NULL))
      )`);
    // The grant look-up of every request reading a grantable field: open referrals to a department, per child.
    await q.query(`CREATE INDEX referral_open_grant_idx ON workflow.referral (to_department, minor_id) WHERE status IN ('PENDING','ACCEPTED')`);
    await q.query(`CREATE INDEX referral_region_idx ON workflow.referral (region_code text_pattern_ops, created_at)`);
    await q.query(`CREATE INDEX referral_minor_idx ON workflow.referral (minor_id)`);
    await q.query(`
      CREATE TABLE workflow.notification (
        id              uuid PRIMARY KEY,
        kind            text NOT NULL,
        department      text NOT NULL CHECK (department IN (${DEPARTMENTS})),
        region_code     varchar(15) NOT NULL CHECK (region_code ~ '^[0-9]{6,15}$'),
        minor_id        uuid,
        subject_id      uuid,
        payload         jsonb NOT NULL,
        created_at      timestamptz NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_by text,
        escalated_at    timestamptz,
        dedupe_key      text UNIQUE
      )`);
    await q.query(`CREATE INDEX notification_inbox_idx ON workflow.notification (department, region_code text_pattern_ops, created_at)`);
    await q.query(`CREATE INDEX notification_unacked_idx ON workflow.notification (kind, created_at) WHERE acknowledged_at IS NULL AND escalated_at IS NULL`);
    await q.query(`
      CREATE TABLE workflow.webhook (
        id          uuid PRIMARY KEY,
        department  text NOT NULL CHECK (department IN (${DEPARTMENTS})),
        region_code varchar(15) NOT NULL,
        url         text NOT NULL,
        secret      text NOT NULL,
        active      boolean NOT NULL,
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE workflow.webhook_delivery (
        id              uuid PRIMARY KEY,
        webhook_id      uuid NOT NULL REFERENCES workflow.webhook(id),
        notification_id uuid NOT NULL REFERENCES workflow.notification(id),
        status          text NOT NULL CHECK (status IN ('PENDING','DELIVERED','FAILED')),
        attempts        int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error      text,
        delivered_at    timestamptz,
        UNIQUE (webhook_id, notification_id)
      )`);
    await q.query(`CREATE INDEX webhook_delivery_due_idx ON workflow.webhook_delivery (next_attempt_at) WHERE status = 'PENDING'`);
    await q.query(`
      CREATE TABLE workflow.barred_person (
        id                  uuid PRIMARY KEY,
        id_number_hash      char(64) NOT NULL UNIQUE,
        name                text NOT NULL,
        offence             text NOT NULL CHECK (offence IN ('SEXUAL_HARM','ABUSE','TRAFFICKING','VIOLENCE','OTHER')),
        judgement_reference text NOT NULL,
        restricted_until    date,
        created_by          text NOT NULL,
        created_at          timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE workflow.employment_check (
        id                      uuid PRIMARY KEY,
        employer_id             text NOT NULL,
        employer_department     text NOT NULL,
        employer_region         varchar(15) NOT NULL,
        candidate_hash          char(64) NOT NULL,
        authorization_reference text NOT NULL,
        answer                  text NOT NULL CHECK (answer IN ('CLEAR','RESTRICTED')),
        batch_id                uuid,
        checked_at              timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX employment_check_employer_idx ON workflow.employment_check (employer_id, checked_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['employment_check', 'barred_person', 'webhook_delivery', 'webhook', 'notification', 'referral', 'report_transition', 'mandatory_report']) {
      await q.query(`DROP TABLE workflow.${table}`);
    }
    await q.query(`DROP SCHEMA workflow`);
  }
}
