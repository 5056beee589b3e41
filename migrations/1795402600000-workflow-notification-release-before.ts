import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Migrations 1795401600000 (a masked ID number keeps the region code alone) and 1795402100000 (a
 * VISIT_OVERDUE dedupe key names the grid told) rewrote the notifications stored when they ran. The
 * release before goes on writing after them wherever it still runs on the migrated database — the
 * replicas a rolling deploy has not yet replaced, one restarted meanwhile, a rollback — and writes
 * in its own forms: an ID number showing its last 4 (with the birth date, which `age` tells, the
 * whole number), served so from then on by every inbox read and webhook delivery; and a VISIT_OVERDUE
 * keyed by child and due date alone, which its job looks for and no longer finds, so that its first
 * pass told every overdue child already told a second time (373 of 373 on the demo data), and this
 * release's job, looking for the grid's key, again told each child it had told.
 *
 * A GUARDIANSHIP_FAILURE's key names the grid told too (`…:<identified day>:<grid>:<department>`,
 * workflow.notify.ts `guardianshipFailureEvent`), and no migration gave the keys stored before it
 * theirs: a category the release before had told, removed and given again on its day in the same
 * grid (a correction) was told a second time to every department. It is rewritten as VISIT_OVERDUE is.
 *
 * A trigger puts what the release before inserts into this release's forms before the row is
 * written, so that its `ON CONFLICT (dedupe_key) DO NOTHING` meets the key this release wrote and
 * inserts nothing. Its job still finds no key of its own form and tries the children again each pass
 * (none is told); that ends with its last process. The trigger fires only on a row in an old form
 * (WHEN), never on this release's own. Rows the release before wrote — a GUARDIANSHIP_FAILURE's at
 * any time, the others between those migrations and this one — are rewritten alike, each whose key
 * in the current form this release already wrote keeping its own (that lapse was told twice already).
 *
 * Down drops the trigger; the rows stay as they are.
 */
// VISIT_OVERDUE: `…:<due instant>Z:<department>`; GUARDIANSHIP_FAILURE: `…:<identified day>:<department>` — no grid before the department.
const OLD_KEY = `(kind = 'VISIT_OVERDUE' AND dedupe_key LIKE '%Z:' || department OR kind = 'GUARDIANSHIP_FAILURE' AND dedupe_key ~ ('-[0-9]{2}:' || department || '$'))`;
const KEY_BY_GRID = `left(dedupe_key, length(dedupe_key) - length(department) - 1) || ':' || region_code || ':' || department`;
// The old mask: stars, then the last characters shown.
const OLD_ID_MASK = `payload->>'Minor.idNumber' ~ '\\*[^*]+$'`;
const ID_REGION_ALONE = `jsonb_set(payload, ARRAY['Minor.idNumber'], to_jsonb(left(payload->>'Minor.idNumber', 6) || repeat('*', length(payload->>'Minor.idNumber') - 6)))`;

const onNew = (sql: string) => sql.replace(/\b(kind|dedupe_key|department|region_code|payload)\b/g, 'NEW.$1');

export class WorkflowNotificationReleaseBefore1795402600000 implements MigrationInterface {
  name = 'WorkflowNotificationReleaseBefore1795402600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION workflow.notification_in_current_form() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${onNew(OLD_KEY)} THEN
          NEW.dedupe_key := ${onNew(KEY_BY_GRID)};
        END IF;
        IF ${onNew(OLD_ID_MASK)} THEN
          NEW.payload := ${onNew(ID_REGION_ALONE)};
        END IF;
        RETURN NEW;
      END $$`);
    // Created before the rewrites below: its lock waits for inserts under way, and every later one goes through it.
    await q.query(`
      CREATE TRIGGER notification_in_current_form BEFORE INSERT ON workflow.notification
        FOR EACH ROW WHEN (${onNew(OLD_KEY)} OR ${onNew(OLD_ID_MASK)})
        EXECUTE FUNCTION workflow.notification_in_current_form()`);
    await q.query(`UPDATE workflow.notification SET payload = ${ID_REGION_ALONE} WHERE ${OLD_ID_MASK}`);
    await q.query(
      `UPDATE workflow.notification n SET dedupe_key = ${KEY_BY_GRID.replace(/\b(dedupe_key|department|region_code)\b/g, 'n.$1')}
        WHERE ${OLD_KEY.replace(/\b(kind|dedupe_key|department)\b/g, 'n.$1')}
          AND NOT EXISTS (SELECT 1 FROM workflow.notification t WHERE t.dedupe_key = ${KEY_BY_GRID.replace(/\b(dedupe_key|department|region_code)\b/g, 'n.$1')})`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER notification_in_current_form ON workflow.notification`);
    await q.query(`DROP FUNCTION workflow.notification_in_current_form()`);
  }
}
