import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A minor is under 18 (DOMAIN.md: "records must age out"). `registry.is_minor` is the rule, once:
 * under 18 on the calendar day in China (UTC+8, fixed, as src/common/dates.ts `ageOn` counts and
 * statistics.china_day turns the day) at `at` — born after the day 18 years before that one, which
 * from 29 February is 28 February, as `yearsBefore` has it. IMMUTABLE: the caller passes the time (the view `now()`).
 *
 * `registry.minor_jurisdiction`, the departments' only view of the registry, keeps only minors: every
 * department record, workflow link and notification of a person who has turned 18 then falls out of
 * every jurisdiction, as for a child of another street. The registry's own readers apply the same
 * function (registry.loaders.ts `isMinorAt`, since at the request's clock). Rows stay: what is kept, archived or erased and when
 * is the owner's decision (README). The filter is the hub's rule, not a barrier against the SQL's
 * authors (the hub's own code), so the view stays without `security_barrier`, which would cost the
 * departments' index probe again (migration 1795400610000).
 */
export class RegistryMinorsAgeOut1795401500000 implements MigrationInterface {
  name = 'RegistryMinorsAgeOut1795401500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION registry.is_minor(birth_date date, at timestamptz) RETURNS boolean
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN birth_date > ((at AT TIME ZONE INTERVAL '+08:00')::date - INTERVAL '18 years')::date`);
    await q.query(`
      CREATE OR REPLACE VIEW registry.minor_jurisdiction AS
        SELECT id AS minor_id, grid_code FROM registry.minor WHERE registry.is_minor(birth_date, now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE VIEW registry.minor_jurisdiction AS SELECT id AS minor_id, grid_code FROM registry.minor`);
    await q.query(`DROP FUNCTION registry.is_minor(date, timestamptz)`);
  }
}
