import { MigrationInterface, QueryRunner } from 'typeorm';
import { MINOR_FACTS } from './1795400500000-statistics-init';
import { createMonthlyEvent, REGISTRY_EVENTS, WORKFLOW_EVENTS } from './1795400600000-statistics-workflow';

/*
 * The summaries count ages and months on the calendar in China, as the hub's answers and
 * validation do (src/common/dates.ts `chinaDay`): on the UTC calendar a child whose birthday it is
 * in China was a year younger in the age bands until 08:00, and an event between 00:00 and 08:00
 * on the first of a month counted in the month before.
 *
 * statistics.china_day is the fixed offset UTC+8 (China keeps no daylight saving time), not
 * 'Asia/Shanghai': the same rule as the JS, whatever tzdata the server carries (Shanghai's has
 * 1986–1991 summer times and local mean time before 1901), and IMMUTABLE, which a named zone is
 * not. "Now" stays the refreshing transaction's start (`now()`): views refreshed by
 * REFRESH MATERIALIZED VIEW take no parameters.
 */
const UTC_DAY = `(now() AT TIME ZONE 'UTC')::date`;
const CHINA_DAY = `statistics.china_day(now())`;
const UTC_MONTH = /date_trunc\('month', (\S+) AT TIME ZONE 'UTC'\)::date/g;
const CHINA_MONTH = `date_trunc('month', statistics.china_day($1)::timestamp)::date`;
const EVENTS = REGISTRY_EVENTS + WORKFLOW_EVENTS;
/** monthly_event's events as this migration defines them, by the month in China. */
export const CHINA_MONTH_EVENTS = EVENTS.replace(UTC_MONTH, CHINA_MONTH);

export class StatisticsChinaDay1795401300000 implements MigrationInterface {
  name = 'StatisticsChinaDay1795401300000';

  async up(q: QueryRunner): Promise<void> {
    if (!MINOR_FACTS.includes(UTC_DAY) || (EVENTS.match(UTC_MONTH) ?? []).length !== 5) throw new Error('the statistics views are not the definitions this migration changes');
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`
      CREATE FUNCTION statistics.china_day(at timestamptz) RETURNS date
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN (at AT TIME ZONE INTERVAL '+08:00')::date`);
    // Same columns: minor_cube and category_cube keep their definitions and count by the new ages at their next refresh.
    await q.query(`CREATE OR REPLACE VIEW statistics.minor_facts AS ${MINOR_FACTS.replace(UTC_DAY, CHINA_DAY)}`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await createMonthlyEvent(q, CHINA_MONTH_EVENTS);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await createMonthlyEvent(q, EVENTS);
    await q.query(`CREATE OR REPLACE VIEW statistics.minor_facts AS ${MINOR_FACTS}`);
    await q.query(`DROP FUNCTION statistics.china_day(timestamptz)`);
  }
}
