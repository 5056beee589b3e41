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
    // Immutable helpers so that the columns below can be generated from the body.
    await q.query(`
      CREATE FUNCTION audit.to_timestamptz(text) RETURNS timestamptz
        LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::timestamp AT TIME ZONE 'UTC' $$`);
    await q.query(`
      CREATE FUNCTION audit.minor_ids(body jsonb) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT AS $$
          SELECT coalesce(array_agg(DISTINCT x), '{}') FROM (
            SELECT jsonb_array_elements(body -> 'reads') ->> 'minorId' AS x
            UNION ALL
            SELECT jsonb_array_elements(body -> 'changes') ->> 'minorId'
          ) ids WHERE x IS NOT NULL $$`);
    await q.query(`
      CREATE TABLE audit.event (
        seq         bigint PRIMARY KEY CHECK (seq > 0),
        prev_hash   char(64) NOT NULL,
        hash        char(64) NOT NULL UNIQUE,
        -- The exact canonical JSON the hash covers; the columns below are generated from it, so
        -- none of them can change without changing what the chain vouches for.
        body        text NOT NULL,
        request_id  uuid GENERATED ALWAYS AS ((body::jsonb ->> 'requestId')::uuid) STORED,
        occurred_at timestamptz GENERATED ALWAYS AS (audit.to_timestamptz(body::jsonb ->> 'time')) STORED,
        user_id     text GENERATED ALWAYS AS (body::jsonb ->> 'userId') STORED,
        department  text GENERATED ALWAYS AS (body::jsonb ->> 'department') STORED,
        region      text GENERATED ALWAYS AS (body::jsonb ->> 'region') STORED,
        outcome     text GENERATED ALWAYS AS (body::jsonb ->> 'outcome') STORED,
        purpose     text GENERATED ALWAYS AS (body::jsonb #>> '{purpose,code}') STORED,
        minor_ids   text[] GENERATED ALWAYS AS (audit.minor_ids(body::jsonb)) STORED
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
    await q.query(`DROP FUNCTION audit.minor_ids(jsonb)`);
    await q.query(`DROP FUNCTION audit.to_timestamptz(text)`);
    await q.query(`DROP SCHEMA audit`);
    // Roles are cluster-wide and may serve other databases of the cluster; revoke what this granted.
    await q.query(`REVOKE hub_audit_writer, hub_audit_reader FROM CURRENT_USER`);
  }
}
