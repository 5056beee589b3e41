import { MigrationInterface, QueryRunner } from 'typeorm';
import { createMonthlyEvent, createWorkflowCube } from './1795400600000-statistics-workflow';
import { REPORT_FACTS_PLACED_WHERE_FILED } from './1795400900000-statistics-report-placed-where-filed';
import { CHINA_MONTH_EVENTS } from './1795401300000-statistics-china-day';

/*
 * A mandatory report counts at the region it was filed for, whatever that region's level and
 * whichever child it names. Placed in its linked child's grid when the child lived in the region
 * (migration 1795400900000), a report filed for a district moved into a street's figures only
 * when the ID number it named was a registered child living there: a REPORTER, who reads nothing,
 * filed one and the district's dashboard told, after the next refresh, whether the hub knew the
 * number. The registry now takes no part in where a report counts.
 *
 * A report filed for a street counts in the street, its district and their totals, and in none of
 * the street's communities or grids: the summaries' rows carry the region they count at
 * (`region_code`) and its ancestors' codes, NULL below its level. The hub protects such a row as a
 * member of its region's line (statistics.cube.ts, "rows placed above the grid").
 */
const PLACED_BY_CHILD = {
  column: /SELECT \(CASE WHEN length\(r\.region_code\) = 15 THEN r\.region_code\s+WHEN m\.grid_code LIKE r\.region_code \|\| '%' THEN m\.grid_code END\)::varchar\(15\) AS grid_code,/,
  join: /\n\s*LEFT JOIN registry\.minor m ON m\.id = r\.minor_id/,
  select: 'SELECT grid_code, received_at,',
};
const REPORT_EVENTS = /SELECT grid_code(, [^\n]*'REPORTS' FROM statistics\.report_facts)/;

const REPORT_FACTS = REPORT_FACTS_PLACED_WHERE_FILED.replace(PLACED_BY_CHILD.column, 'SELECT r.region_code,')
  .replace(PLACED_BY_CHILD.join, '')
  .replace(PLACED_BY_CHILD.select, 'SELECT region_code, received_at,');

/** Every region node with its own and its ancestors' codes, NULL below its level. */
const REGION_ANCESTRY = `
  SELECT r.code AS region_code, d.code AS district_code, s.code AS street_code, c.code AS community_code, g.code AS grid_code
  FROM registry.region r
  LEFT JOIN registry.region g ON g.code = r.code AND g.level = 'GRID'
  LEFT JOIN registry.region c ON c.code = coalesce(g.parent_code, r.code) AND c.level = 'COMMUNITY'
  LEFT JOIN registry.region s ON s.code = coalesce(c.parent_code, r.code) AND s.level = 'STREET'
  JOIN registry.region d ON d.code = coalesce(s.parent_code, r.code) AND d.level = 'DISTRICT'`;

/** monthly_event's events as this migration defines them: a report at the region it was filed for. */
export const EVENTS_BY_REGION = CHINA_MONTH_EVENTS.replace(REPORT_EVENTS, 'SELECT region_code$1');
/** workflow_cube's outcomes as this migration defines them. */
export const OUTCOMES_BY_REGION = `
        SELECT region_code, 'REPORT', met, not_met FROM statistics.report_facts
        UNION ALL
        SELECT grid_code, 'REFERRAL', met, not_met FROM statistics.referral_facts`;

/** monthly_event over the given events (region_code, month, series), a row per region an event counts at. */
export async function createMonthlyEventByRegion(q: QueryRunner, events: string): Promise<void> {
  await q.query(`
      CREATE MATERIALIZED VIEW statistics.monthly_event AS
      WITH events (region_code, month, series) AS (${events})
      SELECT a.district_code, a.street_code, a.community_code, a.grid_code, e.region_code, e.month, e.series, count(*)::int AS events
      FROM events e
      JOIN statistics.region_ancestry a ON a.region_code = e.region_code
      GROUP BY a.district_code, a.street_code, a.community_code, a.grid_code, e.region_code, e.month, e.series`);
  await q.query(`CREATE UNIQUE INDEX monthly_event_key ON statistics.monthly_event (district_code, region_code, month, series)`);
}

/** workflow_cube over the given outcomes (region_code, kind, met, not_met), a row per region they count at. */
export async function createWorkflowCubeByRegion(q: QueryRunner, outcomes: string): Promise<void> {
  await q.query(`
      CREATE MATERIALIZED VIEW statistics.workflow_cube AS
      WITH outcomes (region_code, kind, met, not_met) AS (${outcomes}
      )
      SELECT a.district_code, a.street_code, a.community_code, a.grid_code, o.region_code,
             count(*) FILTER (WHERE o.kind = 'REPORT' AND o.met)::int AS reports_met,
             count(*) FILTER (WHERE o.kind = 'REPORT' AND o.not_met)::int AS reports_not_met,
             count(*) FILTER (WHERE o.kind = 'REFERRAL' AND o.met)::int AS referrals_met,
             count(*) FILTER (WHERE o.kind = 'REFERRAL' AND o.not_met)::int AS referrals_not_met
      FROM outcomes o
      JOIN statistics.region_ancestry a ON a.region_code = o.region_code
      GROUP BY a.district_code, a.street_code, a.community_code, a.grid_code, o.region_code`);
  await q.query(`CREATE UNIQUE INDEX workflow_cube_key ON statistics.workflow_cube (district_code, region_code)`);
}

export class StatisticsReportCountedWhereFiled1795401400000 implements MigrationInterface {
  name = 'StatisticsReportCountedWhereFiled1795401400000';

  async up(q: QueryRunner): Promise<void> {
    if (!PLACED_BY_CHILD.column.test(REPORT_FACTS_PLACED_WHERE_FILED) || !PLACED_BY_CHILD.join.test(REPORT_FACTS_PLACED_WHERE_FILED) || !REPORT_EVENTS.test(CHINA_MONTH_EVENTS)) {
      throw new Error('the statistics views are not the definitions this migration changes');
    }
    // Populating the views on existing data: see statistics.refresh.ts for why.
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`DROP MATERIALIZED VIEW statistics.workflow_cube`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await q.query(`DROP VIEW statistics.report_facts`);
    await q.query(`CREATE VIEW statistics.report_facts AS ${REPORT_FACTS}`);
    await q.query(`CREATE VIEW statistics.region_ancestry AS ${REGION_ANCESTRY}`);
    await createMonthlyEventByRegion(q, EVENTS_BY_REGION);
    await createWorkflowCubeByRegion(q, OUTCOMES_BY_REGION);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`DROP MATERIALIZED VIEW statistics.workflow_cube`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await q.query(`DROP VIEW statistics.region_ancestry`);
    await q.query(`DROP VIEW statistics.report_facts`);
    await q.query(`CREATE VIEW statistics.report_facts AS ${REPORT_FACTS_PLACED_WHERE_FILED}`);
    await createMonthlyEvent(q, CHINA_MONTH_EVENTS);
    await createWorkflowCube(q);
  }
}
