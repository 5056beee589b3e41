import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A VISIT_OVERDUE notification's dedupe key names the grid it was told to
 * (`VISIT_OVERDUE:<child>:<due date>:<grid>:<department>`, visit-sla.resolver.ts `visitOverdueKey`):
 * keyed by child and due date alone, a child told overdue and then moved, still overdue by the same
 * date, was never told to its new grid's civil affairs. The keys already written get the grid they
 * were told to (the notification's region, the child's grid then), so that the first run after this
 * migration does not tell every child already told of its lapse a second time.
 *
 * Down takes the grid out again; a child told to two grids for one due date then keeps the older
 * notification's key, the other dropping its dedupe key to its id (the key is unique).
 */
export class WorkflowVisitOverdueKeyByGrid1795402100000 implements MigrationInterface {
  name = 'WorkflowVisitOverdueKeyByGrid1795402100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE workflow.notification
          SET dedupe_key = left(dedupe_key, length(dedupe_key) - length(department) - 1) || ':' || region_code || ':' || department
        WHERE kind = 'VISIT_OVERDUE' AND dedupe_key LIKE '%Z:' || department`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    const without = `left(dedupe_key, length(dedupe_key) - length(region_code) - length(department) - 2) || ':' || department`;
    // Ranked in one pass: a correlated look for an older twin was planned row against row.
    await q.query(
      `UPDATE workflow.notification n SET dedupe_key = 'VISIT_OVERDUE:moved:' || n.id
         FROM (SELECT id, row_number() OVER (PARTITION BY department, ${without} ORDER BY created_at, id) AS rank
                 FROM workflow.notification
                WHERE kind = 'VISIT_OVERDUE' AND dedupe_key LIKE '%:' || region_code || ':' || department) r
        WHERE n.id = r.id AND r.rank > 1`,
    );
    await q.query(`UPDATE workflow.notification SET dedupe_key = ${without} WHERE kind = 'VISIT_OVERDUE' AND dedupe_key LIKE '%:' || region_code || ':' || department`);
  }
}
