import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Mandatory reports (强制报告) and referrals (转介) in the statistics: two more series of
 * monthly_event, and workflow_cube, the per-grid counts of reports and referrals handled within
 * their deadlines or not (docs/statistics.md, "Definitions"). As in the init migration, `now()`
 * is the refreshing transaction's start: "past its deadline" means past it at the refresh.
 *
 * Both are placed by the child's grid. A report whose child could not be linked counts in the
 * grid it was filed for, if it was filed for a grid; one filed for a coarser region has no grid
 * and is in neither summary.
 */

/**
 * When each report's verification started and when it was concluded (HANDLED or UNFOUNDED), from
 * its recorded steps. A report loaded without its history (the demo seed) falls back to
 * `updated_at`, the time of its last step: never earlier than the step, so never flattering.
 */
export const REPORT_FACTS = `
  WITH steps AS (
    SELECT report_id,
           min(at) FILTER (WHERE to_status = 'VERIFYING') AS verifying_at,
           min(at) FILTER (WHERE to_status IN ('HANDLED', 'UNFOUNDED')) AS concluded_at
    FROM workflow.report_transition
    GROUP BY report_id
  ), dated AS (
    SELECT coalesce(m.grid_code, r.region_code) AS grid_code, r.received_at, r.verify_due_at, r.handle_due_at,
           CASE WHEN r.status <> 'RECEIVED' THEN coalesce(s.verifying_at, r.updated_at) END AS verifying_at,
           CASE WHEN r.status NOT IN ('RECEIVED', 'VERIFYING') THEN coalesce(s.concluded_at, r.updated_at) END AS concluded_at
    FROM workflow.mandatory_report r
    LEFT JOIN registry.minor m ON m.id = r.minor_id
    LEFT JOIN steps s ON s.report_id = r.id
  )
  SELECT grid_code, received_at,
         (verifying_at <= verify_due_at AND concluded_at <= handle_due_at) AS met,
         (verifying_at > verify_due_at OR (verifying_at IS NULL AND verify_due_at < now())
          OR concluded_at > handle_due_at OR (concluded_at IS NULL AND handle_due_at < now())) AS not_met
  FROM dated`;

/**
 * A referral is handled in time when it was answered by its answer deadline and, if accepted,
 * completed by its completion deadline (a timely decline with a reason is an answer).
 */
export const REFERRAL_FACTS = `
  SELECT m.grid_code, r.created_at,
         (r.answered_at <= r.answer_due_at AND (r.status = 'DECLINED' OR r.completed_at <= r.complete_due_at)) AS met,
         (r.answered_at > r.answer_due_at OR (r.answered_at IS NULL AND r.answer_due_at < now())
          OR r.completed_at > r.complete_due_at
          OR (r.status = 'ACCEPTED' AND r.completed_at IS NULL AND r.complete_due_at < now())) AS not_met
  FROM workflow.referral r
  JOIN registry.minor m ON m.id = r.minor_id`;

export const REGISTRY_EVENTS = `
  SELECT m.grid_code, date_trunc('month', m.created_at AT TIME ZONE 'UTC')::date AS month, 'NEW_CASES' AS series
  FROM registry.minor m
  UNION ALL
  SELECT m.grid_code, date_trunc('month', r.assessed_at AT TIME ZONE 'UTC')::date, 'ASSESSMENTS'
  FROM registry.risk_assessment r JOIN registry.minor m ON m.id = r.minor_id
  UNION ALL
  SELECT m.grid_code, date_trunc('month', v.visited_at AT TIME ZONE 'UTC')::date, 'VISITS'
  FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id`;

/** A report counts in the month it was received (filed), a referral in the month it was created. */
export const WORKFLOW_EVENTS = `
  UNION ALL
  SELECT grid_code, date_trunc('month', received_at AT TIME ZONE 'UTC')::date, 'REPORTS' FROM statistics.report_facts
  UNION ALL
  SELECT grid_code, date_trunc('month', created_at AT TIME ZONE 'UTC')::date, 'REFERRALS' FROM statistics.referral_facts`;

/** monthly_event over the given events; the init migration's definition is this over REGISTRY_EVENTS. */
export async function createMonthlyEvent(q: QueryRunner, events: string): Promise<void> {
  await q.query(`
    CREATE MATERIALIZED VIEW statistics.monthly_event AS
    WITH events AS (${events})
    SELECT a.district_code, a.street_code, a.community_code, e.grid_code, e.month, e.series, count(*)::int AS events
    FROM events e
    JOIN statistics.grid_ancestry a ON a.grid_code = e.grid_code
    GROUP BY a.district_code, a.street_code, a.community_code, e.grid_code, e.month, e.series`);
  await q.query(`CREATE UNIQUE INDEX monthly_event_key ON statistics.monthly_event (district_code, grid_code, month, series)`);
}

/** Reports and referrals whose outcome is known (handled, or a deadline missed), per grid. */
export async function createWorkflowCube(q: QueryRunner): Promise<void> {
  await q.query(`
    CREATE MATERIALIZED VIEW statistics.workflow_cube AS
    WITH outcomes AS (
      SELECT grid_code, 'REPORT' AS kind, met, not_met FROM statistics.report_facts
      UNION ALL
      SELECT grid_code, 'REFERRAL', met, not_met FROM statistics.referral_facts
    )
    SELECT a.district_code, a.street_code, a.community_code, o.grid_code,
           count(*) FILTER (WHERE o.kind = 'REPORT' AND o.met)::int AS reports_met,
           count(*) FILTER (WHERE o.kind = 'REPORT' AND o.not_met)::int AS reports_not_met,
           count(*) FILTER (WHERE o.kind = 'REFERRAL' AND o.met)::int AS referrals_met,
           count(*) FILTER (WHERE o.kind = 'REFERRAL' AND o.not_met)::int AS referrals_not_met
    FROM outcomes o
    JOIN statistics.grid_ancestry a ON a.grid_code = o.grid_code
    GROUP BY a.district_code, a.street_code, a.community_code, o.grid_code`);
  await q.query(`CREATE UNIQUE INDEX workflow_cube_key ON statistics.workflow_cube (district_code, grid_code)`);
}

export class StatisticsWorkflow1795400600000 implements MigrationInterface {
  name = 'StatisticsWorkflow1795400600000';

  async up(q: QueryRunner): Promise<void> {
    // Populating the views on existing data: see statistics.refresh.ts for why.
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`CREATE VIEW statistics.report_facts AS ${REPORT_FACTS}`);
    await q.query(`CREATE VIEW statistics.referral_facts AS ${REFERRAL_FACTS}`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await createMonthlyEvent(q, REGISTRY_EVENTS + WORKFLOW_EVENTS);

    await createWorkflowCube(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP MATERIALIZED VIEW statistics.workflow_cube`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await createMonthlyEvent(q, REGISTRY_EVENTS);
    await q.query(`DROP VIEW statistics.referral_facts`);
    await q.query(`DROP VIEW statistics.report_facts`);
  }
}
