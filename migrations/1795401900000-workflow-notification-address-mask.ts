import { MigrationInterface, QueryRunner } from 'typeorm';
import { applyMask } from '../src/policy/masks';
import { MaskKind } from '../src/policy/policy.types';

/*
 * A notification's payload is masked for its department when it is written (workflow.notify.ts
 * `payloadFor`) and stored so, and the ADDRESS mask has been tightened since notifications were
 * first written (src/policy/masks.ts): it kept everything up to the first 区 or 县, so a
 * `清波街道劳动路社区3幢` showed its street and community (`清波街道劳动路社区****`) and a
 * `杭州市紫金港东区5幢` its estate, then an estate's 东区 or a 开发区 passed for a district, and the stars
 * counted what they hid up to 8. Migration 1795401600000 re-masked the stored ID numbers; the
 * addresses (`Minor.currentAddress`, which a CHILD_RED tells schools masked) were left as written,
 * and an inbox read or a webhook delivery serves the stored value.
 *
 * A masked value is one ending in stars (the departments that read the address exactly got it
 * without). What the old masks kept cannot be re-masked from itself: the current mask keeps a
 * district only before a street or township, which the old value no longer shows. So it keeps what
 * the current mask shows of the child's address now (read by the same departments through the
 * API) only when that is no more than the stored value kept — the stored prefix starts with it and
 * the address now starts with the stored prefix (the child has not moved out of it) — and is
 * starred whole otherwise. A value already in the current form is left as it is.
 *
 * Down leaves the payloads as they are: what the old masks showed is what they were tightened against.
 */
export class WorkflowNotificationAddressMask1795401900000 implements MigrationInterface {
  name = 'WorkflowNotificationAddressMask1795401900000';

  async up(q: QueryRunner): Promise<void> {
    const rows: { id: string; stored: string; address: string | null }[] = await q.query(`
      SELECT n.id, n.payload->>'Minor.currentAddress' AS stored, m.current_address AS address
        FROM workflow.notification n LEFT JOIN registry.minor m ON m.id = n.minor_id
       WHERE n.payload->>'Minor.currentAddress' LIKE '%*'`);
    const ids: string[] = [];
    const masked: string[] = [];
    for (const r of rows) {
      const kept = r.stored.replace(/\*+$/, '');
      const now = r.address ? String(applyMask(MaskKind.ADDRESS, r.address)) : '';
      const nowKept = now.replace(/\*+$/, '');
      const value = r.address && r.address.startsWith(kept) && kept.startsWith(nowKept) ? now : String(applyMask(MaskKind.ADDRESS, ''));
      if (value !== r.stored) {
        ids.push(r.id);
        masked.push(value);
      }
    }
    if (!ids.length) return;
    await q.query(
      `UPDATE workflow.notification n SET payload = jsonb_set(n.payload, ARRAY['Minor.currentAddress'], to_jsonb(v.masked))
         FROM unnest($1::uuid[], $2::text[]) AS v(id, masked) WHERE n.id = v.id`,
      [ids, masked],
    );
  }

  async down(): Promise<void> {
    // Nothing: the weaker forms are not restored (above).
  }
}
