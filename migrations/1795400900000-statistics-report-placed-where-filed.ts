import { MigrationInterface, QueryRunner } from 'typeorm';
import { REPORT_FACTS } from './1795400600000-statistics-workflow';

const BY_CHILD = 'coalesce(m.grid_code, r.region_code) AS grid_code';
/*
 * A report counts in the grid it was filed for; one filed for a coarser region, in its linked
 * child's grid when that lies inside the region, else nowhere. Placed by the child's grid wherever
 * the child lives (migration 1795400600000), a report moved out of the filer's own figures when
 * the ID number it named was a registered child elsewhere: filing one and reading the monthly
 * trend told any officer whether the hub knew an ID number. Now the child moves a report only
 * within the region it was filed for, whose children the filer's jurisdiction either covers
 * (and may read anyway) or does not show. It is also where the report is handled: police and
 * civil affairs of that region receive it.
 */
const BY_FILED_REGION = `(CASE WHEN length(r.region_code) = 15 THEN r.region_code
                                  WHEN m.grid_code LIKE r.region_code || '%' THEN m.grid_code END)::varchar(15) AS grid_code`;

/** report_facts as this migration defines it. */
export const REPORT_FACTS_PLACED_WHERE_FILED = REPORT_FACTS.replace(BY_CHILD, BY_FILED_REGION);

export class StatisticsReportPlacedWhereFiled1795400900000 implements MigrationInterface {
  name = 'StatisticsReportPlacedWhereFiled1795400900000';

  async up(q: QueryRunner): Promise<void> {
    if (!REPORT_FACTS.includes(BY_CHILD)) throw new Error('report_facts is not the definition this migration changes');
    // Same columns: the summaries built on the view keep their definitions and take the new placement at their next refresh.
    await q.query(`CREATE OR REPLACE VIEW statistics.report_facts AS ${REPORT_FACTS_PLACED_WHERE_FILED}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE VIEW statistics.report_facts AS ${REPORT_FACTS}`);
  }
}
