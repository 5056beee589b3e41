import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `registry.minor_jurisdiction` without `security_barrier`. The barrier kept the planner from
 * pushing a department's join condition (`j.minor_id = r.minor_id`) into the view: every
 * jurisdiction check became a sequential scan of `registry.minor` (a hash of all its rows for a
 * batch, a scan until the child is met for one), seconds per request at city scale instead of an
 * index probe. The barrier protected nothing: the view has no row filter, so there are no hidden
 * rows for a caller's predicate to leak, and a caller's predicates see only the view's two
 * columns (names, ID numbers, addresses are not in it). The jurisdiction rule is the caller's own
 * `grid_code LIKE` condition, which still applies to every row it reads.
 */
export class MinorJurisdictionPlainView1795400610000 implements MigrationInterface {
  name = 'MinorJurisdictionPlainView1795400610000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER VIEW registry.minor_jurisdiction RESET (security_barrier)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER VIEW registry.minor_jurisdiction SET (security_barrier = true)`);
  }
}
