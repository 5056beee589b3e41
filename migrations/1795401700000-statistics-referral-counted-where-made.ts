import { MigrationInterface, QueryRunner } from 'typeorm';
import { REFERRAL_FACTS } from './1795400600000-statistics-workflow';
import { createMonthlyEventByRegion, createWorkflowCubeByRegion, EVENTS_BY_REGION, OUTCOMES_BY_REGION } from './1795401400000-statistics-report-counted-where-filed';

/*
 * A referral counts at the region it was made at (`referral.region_code`, the referrer's token
 * node), the region its row rule places it by (workflow.loaders.ts `referralVisibility`), whichever
 * child it names and wherever the child lives now. Placed by the child's current grid, a street's
 * statistics counted — with their outcomes — the referrals its district's officers made about the
 * street's children, which no officer of the street may list, and a child who moved took another
 * street's referrals into its new street's figures. Counted as a report is counted where it was
 * filed (migration 1795401400000): a referral made at a district counts at the district and in none
 * of its streets.
 */
const PLACED_BY_CHILD = {
  column: 'SELECT m.grid_code, r.created_at,',
  join: /\n\s*JOIN registry\.minor m ON m\.id = r\.minor_id/,
};
const REFERRAL_EVENTS = /SELECT grid_code(, [^\n]*'REFERRALS' FROM statistics\.referral_facts)/;
const REFERRAL_OUTCOMES = `SELECT grid_code, 'REFERRAL',`;

const REFERRAL_FACTS_WHERE_MADE = REFERRAL_FACTS.replace(PLACED_BY_CHILD.column, 'SELECT r.region_code, r.created_at,').replace(PLACED_BY_CHILD.join, '');

export class StatisticsReferralCountedWhereMade1795401700000 implements MigrationInterface {
  name = 'StatisticsReferralCountedWhereMade1795401700000';

  async up(q: QueryRunner): Promise<void> {
    if (!REFERRAL_FACTS.includes(PLACED_BY_CHILD.column) || !PLACED_BY_CHILD.join.test(REFERRAL_FACTS) || !REFERRAL_EVENTS.test(EVENTS_BY_REGION) || !OUTCOMES_BY_REGION.includes(REFERRAL_OUTCOMES)) {
      throw new Error('the statistics views are not the definitions this migration changes');
    }
    // Populating the views on existing data: see statistics.refresh.ts for why.
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`DROP MATERIALIZED VIEW statistics.workflow_cube`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await q.query(`DROP VIEW statistics.referral_facts`);
    await q.query(`CREATE VIEW statistics.referral_facts AS ${REFERRAL_FACTS_WHERE_MADE}`);
    await createMonthlyEventByRegion(q, EVENTS_BY_REGION.replace(REFERRAL_EVENTS, 'SELECT region_code$1'));
    await createWorkflowCubeByRegion(q, OUTCOMES_BY_REGION.replace(REFERRAL_OUTCOMES, `SELECT region_code, 'REFERRAL',`));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`SET LOCAL enable_nestloop = off`);
    await q.query(`DROP MATERIALIZED VIEW statistics.workflow_cube`);
    await q.query(`DROP MATERIALIZED VIEW statistics.monthly_event`);
    await q.query(`DROP VIEW statistics.referral_facts`);
    await q.query(`CREATE VIEW statistics.referral_facts AS ${REFERRAL_FACTS}`);
    await createMonthlyEventByRegion(q, EVENTS_BY_REGION);
    await createWorkflowCubeByRegion(q, OUTCOMES_BY_REGION);
  }
}
