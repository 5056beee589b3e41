import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Summaries the statistics subgraph answers from, so that no aggregate query reads children's rows.
 * Each view is keyed at grid granularity; coarser levels are GROUP BYs over these small tables.
 * Every `now()` below is the refreshing transaction's start, which is also what
 * statistics.refresh.refreshed_at records: ages, "overdue" and the current month are as of then.
 *
 * The sensitive categories are spelled out here (src/policy/masks.ts SENSITIVE_CATEGORIES as of this
 * migration); changing that set needs a new migration that recreates category_cube.
 */

/** Grid → community → street → district codes, so that every level is one column to group by. */
const GRID_ANCESTRY = `
  SELECT g.code AS grid_code, c.code AS community_code, s.code AS street_code, d.code AS district_code
  FROM registry.region g
  JOIN registry.region c ON c.code = g.parent_code AND c.level = 'COMMUNITY'
  JOIN registry.region s ON s.code = c.parent_code AND s.level = 'STREET'
  JOIN registry.region d ON d.code = s.parent_code AND d.level = 'DISTRICT'
  WHERE g.level = 'GRID'`;

/** One row per minor under 18 on the refresh date, with the facts the measures count. */
export const MINOR_FACTS = `
  WITH latest_assessment AS (
    SELECT minor_id, max(assessed_at) AS at FROM registry.risk_assessment GROUP BY minor_id
  ), latest_visit AS (
    SELECT minor_id, max(visited_at) AS at FROM registry.visit GROUP BY minor_id
  ), categorised AS (
    SELECT DISTINCT minor_id FROM registry.minor_category
  ), aged AS (
    SELECT m.*, date_part('year', age((now() AT TIME ZONE 'UTC')::date, m.birth_date))::int AS age_years
    FROM registry.minor m
  )
  SELECT m.id, m.grid_code, m.gender,
         coalesce(m.risk_level, 'UNASSESSED') AS risk_level,
         CASE WHEN m.age_years < 3 THEN 'AGE_0_2' WHEN m.age_years < 6 THEN 'AGE_3_5' WHEN m.age_years < 12 THEN 'AGE_6_11'
              WHEN m.age_years < 15 THEN 'AGE_12_14' ELSE 'AGE_15_17' END AS age_band,
         (c.minor_id IS NOT NULL) AS has_category,
         (la.at IS NOT NULL) AS assessed,
         (lv.at IS NOT NULL) AS visited,
         (la.at IS NOT NULL AND lv.at >= la.at) AS visited_since_assessment,
         (m.next_visit_due < now()) AS overdue
  FROM aged m
  LEFT JOIN latest_assessment la ON la.minor_id = m.id
  LEFT JOIN latest_visit lv ON lv.minor_id = m.id
  LEFT JOIN categorised c ON c.minor_id = m.id
  WHERE m.age_years BETWEEN 0 AND 17`;

export class StatisticsInit1795400500000 implements MigrationInterface {
  name = 'StatisticsInit1795400500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA statistics`);
    // Populating the views on an existing registry: see statistics.refresh.ts for why.
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`CREATE VIEW statistics.grid_ancestry AS ${GRID_ANCESTRY}`);
    await q.query(`CREATE VIEW statistics.minor_facts AS ${MINOR_FACTS}`);

    // Minors by grid × risk level × age band × gender, with the counts the rates are made of.
    await q.query(`
      CREATE MATERIALIZED VIEW statistics.minor_cube AS
      SELECT a.district_code, a.street_code, a.community_code, f.grid_code, f.risk_level, f.age_band, f.gender,
             count(*)::int AS minors,
             count(*) FILTER (WHERE f.overdue)::int AS overdue,
             count(*) FILTER (WHERE f.has_category OR f.assessed)::int AS screened,
             count(*) FILTER (WHERE f.has_category)::int AS with_category,
             count(*) FILTER (WHERE f.has_category AND f.assessed AND f.visited)::int AS assisted,
             count(*) FILTER (WHERE f.visited_since_assessment)::int AS visited_since_assessment
      FROM statistics.minor_facts f
      JOIN statistics.grid_ancestry a ON a.grid_code = f.grid_code
      GROUP BY a.district_code, a.street_code, a.community_code, f.grid_code, f.risk_level, f.age_band, f.gender`);
    // REFRESH … CONCURRENTLY needs a unique index; it also serves the district filter.
    await q.query(`CREATE UNIQUE INDEX minor_cube_key ON statistics.minor_cube (district_code, grid_code, risk_level, age_band, gender)`);

    // The same by category. A child counts once in each of its categories, and once more in
    // NEEDS_SUPPORT if it has any sensitive one: the folded view counts distinct children.
    await q.query(`
      CREATE MATERIALIZED VIEW statistics.category_cube AS
      WITH categories AS (
        SELECT minor_id, category FROM registry.minor_category
        UNION ALL
        SELECT DISTINCT minor_id, 'NEEDS_SUPPORT' FROM registry.minor_category
        WHERE category IN ('CRIME_VICTIM', 'DOMESTIC_VIOLENCE', 'INCARCERATED_PARENT')
      )
      SELECT a.district_code, a.street_code, a.community_code, f.grid_code, k.category, f.risk_level, f.age_band, f.gender,
             count(*)::int AS minors,
             count(*) FILTER (WHERE f.overdue)::int AS overdue
      FROM statistics.minor_facts f
      JOIN categories k ON k.minor_id = f.id
      JOIN statistics.grid_ancestry a ON a.grid_code = f.grid_code
      GROUP BY a.district_code, a.street_code, a.community_code, f.grid_code, k.category, f.risk_level, f.age_band, f.gender`);
    await q.query(
      `CREATE UNIQUE INDEX category_cube_key ON statistics.category_cube (district_code, grid_code, category, risk_level, age_band, gender)`,
    );

    // Events per grid and calendar month (UTC). Mandatory reports and referrals join as further
    // series (one more UNION ALL branch and enum value) when those workflows exist.
    await q.query(`
      CREATE MATERIALIZED VIEW statistics.monthly_event AS
      WITH events AS (
        SELECT m.grid_code, date_trunc('month', m.created_at AT TIME ZONE 'UTC')::date AS month, 'NEW_CASES' AS series
        FROM registry.minor m
        UNION ALL
        SELECT m.grid_code, date_trunc('month', r.assessed_at AT TIME ZONE 'UTC')::date, 'ASSESSMENTS'
        FROM registry.risk_assessment r JOIN registry.minor m ON m.id = r.minor_id
        UNION ALL
        SELECT m.grid_code, date_trunc('month', v.visited_at AT TIME ZONE 'UTC')::date, 'VISITS'
        FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id
      )
      SELECT a.district_code, a.street_code, a.community_code, e.grid_code, e.month, e.series, count(*)::int AS events
      FROM events e
      JOIN statistics.grid_ancestry a ON a.grid_code = e.grid_code
      GROUP BY a.district_code, a.street_code, a.community_code, e.grid_code, e.month, e.series`);
    await q.query(`CREATE UNIQUE INDEX monthly_event_key ON statistics.monthly_event (district_code, grid_code, month, series)`);

    // When the views were last refreshed: one row, written in the refreshing transaction.
    await q.query(`
      CREATE TABLE statistics.refresh (
        singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        refreshed_at timestamptz NOT NULL
      )`);
    await q.query(`INSERT INTO statistics.refresh (refreshed_at) VALUES (now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE statistics.refresh`);
    for (const view of ['monthly_event', 'category_cube', 'minor_cube']) await q.query(`DROP MATERIALIZED VIEW statistics.${view}`);
    await q.query(`DROP VIEW statistics.minor_facts`);
    await q.query(`DROP VIEW statistics.grid_ancestry`);
    await q.query(`DROP SCHEMA statistics`);
  }
}
