import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: one row per request, hash-chained. Append-only twice over: the writer role has
 * INSERT and SELECT only, and triggers refuse UPDATE, DELETE and TRUNCATE for everyone who does
 * not first disable them (which is itself a DBA act outside the application).
 */
export class AuditInit1795400200000 implements MigrationInterface {
  name = 'AuditInit1795400200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA audit`);
    await q.query(`
      CREATE TABLE audit.event (
        seq         bigint PRIMARY KEY CHECK (seq > 0),
        prev_hash   char(64) NOT NULL,
        hash        char(64) NOT NULL UNIQUE,
        -- The exact canonical JSON the hash covers. The columns below are copies of some of its
        -- fields for searching; verification checks that they still agree with it.
        body        text NOT NULL,
        request_id  uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        user_id     text,
        department  text,
        region      text,
        outcome     text NOT NULL,
        purpose     text,
        minor_ids   text[] NOT NULL
      )`);
    await q.query(`CREATE INDEX event_time_idx ON audit.event (occurred_at, seq)`);
    await q.query(`CREATE INDEX event_user_idx ON audit.event (user_id, occurred_at)`);
    await q.query(`CREATE INDEX event_minor_idx ON audit.event USING gin (minor_ids)`);
    await q.query(`
      CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit.event is append-only'; END $$`);
    await q.query(`CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON audit.event FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`);
    await q.query(`CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON audit.event FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`);
    // The writer appends and reads the chain head; the reader (the audit subgraph) only reads.
    await q.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hub_audit_writer') THEN CREATE ROLE hub_audit_writer NOLOGIN; END IF;
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hub_audit_reader') THEN CREATE ROLE hub_audit_reader NOLOGIN; END IF;
    END $$`);
    await q.query(`GRANT hub_audit_writer, hub_audit_reader TO CURRENT_USER`);
    await q.query(`REVOKE ALL ON SCHEMA audit FROM PUBLIC`);
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM PUBLIC`);
    await q.query(`GRANT USAGE ON SCHEMA audit TO hub_audit_writer, hub_audit_reader`);
    await q.query(`GRANT INSERT, SELECT ON audit.event TO hub_audit_writer`);
    await q.query(`GRANT SELECT ON audit.event TO hub_audit_reader`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit.event`);
    await q.query(`DROP FUNCTION audit.refuse_change()`);
    await q.query(`DROP SCHEMA audit`);
    // Roles are cluster-wide and may serve other databases of the cluster; revoke what this granted.
    await q.query(`REVOKE hub_audit_writer, hub_audit_reader FROM CURRENT_USER`);
  }
}
