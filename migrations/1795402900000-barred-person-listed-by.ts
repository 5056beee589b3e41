import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who listed a bar, as who revoked it is recorded: the officer's department and region beside the
 * user id. Police and justice both keep the registry, and a user id is one only within its
 * department: two bars listed by `keeper-1` of police and of justice read alike. Null for the bars
 * listed before, and for those a replica of the release before lists during a rolling deploy (it
 * names neither): the audit trail's event of the listing names the department.
 *
 * Down drops the two columns.
 */
export class BarredPersonListedBy1795402900000 implements MigrationInterface {
  name = 'BarredPersonListedBy1795402900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE workflow.barred_person
        ADD COLUMN created_by_department text,
        ADD COLUMN created_by_region     varchar(15)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow.barred_person DROP COLUMN created_by_department, DROP COLUMN created_by_region`);
  }
}
