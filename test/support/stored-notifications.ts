import { randomUUID } from 'node:crypto';
import type { TestHub } from './test-hub';

export interface ChildWithAddress {
  id: string;
  name: string;
  grid_code: string;
  current_address: string;
}

/** The `offset`-th child of `street` under 15 with an address: what a stored notification's payload is written of. */
export const childWithAddress = async (t: TestHub, street: string, offset: number): Promise<ChildWithAddress> =>
  (
    await t.sql(
      `SELECT m.id, m.name, m.grid_code, m.current_address FROM registry.minor m
        WHERE m.grid_code LIKE $1 AND m.birth_date > now() - interval '15 years' AND m.current_address IS NOT NULL
        ORDER BY m.id OFFSET $2 LIMIT 1`,
      [`${street}%`, offset],
    )
  )[0];

/**
 * A notification of `kind` about the child, in its grid, stored as a release would have told it:
 * `payload` and how each field was built (`access`; null as before migration 1795403600000). Returns its id.
 */
export async function storeNotification(
  t: TestHub,
  n: { kind: string; department: string; child: { id: string; grid_code: string }; payload: Record<string, string>; access: Record<string, string> | null; tag: string },
): Promise<string> {
  const id = randomUUID();
  await t.sql(
    `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, payload_access, created_at, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, now(), $8)`,
    [id, n.kind, n.department, n.child.grid_code, n.child.id, JSON.stringify(n.payload), n.access && JSON.stringify(n.access), `${n.kind}:${n.child.id}:${n.tag}:${n.department}`],
  );
  return id;
}
