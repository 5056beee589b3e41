import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A notification's payload is masked for its department when it is written (workflow.notify.ts
 * `payloadFor`) and stored so: the ID_NUMBER mask now keeps the region code alone (src/policy/masks.ts),
 * and payloads written under the old one (`330102********4406`) still showed the last 4 — with the
 * birth date, which `age` tells, the whole number. Up stars them in every stored payload (an inbox
 * read and a webhook delivery both serve the stored one). A masked value is the one with stars: the
 * departments that read the number exactly got it without.
 *
 * Down shows the last 4 again, from the child's number (an ID number is never changed); a payload
 * whose child is no longer registered keeps the new form.
 */
export class WorkflowNotificationIdNumberMask1795401600000 implements MigrationInterface {
  name = 'WorkflowNotificationIdNumberMask1795401600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE workflow.notification
         SET payload = jsonb_set(payload, ARRAY['Minor.idNumber'], to_jsonb(left(payload->>'Minor.idNumber', 6) || repeat('*', length(payload->>'Minor.idNumber') - 6)))
       WHERE payload->>'Minor.idNumber' LIKE '%*%' AND length(payload->>'Minor.idNumber') > 6`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE workflow.notification n
         SET payload = jsonb_set(n.payload, ARRAY['Minor.idNumber'], to_jsonb(left(n.payload->>'Minor.idNumber', 14) || right(m.id_number, 4)))
        FROM registry.minor m
       WHERE m.id = n.minor_id AND n.payload->>'Minor.idNumber' ~ '^.{6}\\*{12}$'`);
  }
}
