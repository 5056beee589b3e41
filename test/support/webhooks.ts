import { randomBytes, randomUUID } from 'node:crypto';
import type { TestHub } from './test-hub';

/** A webhook written straight into the table, as if registered before a policy or re-pointed by DNS: registration's checks skipped. */
export async function insertWebhook(t: TestHub, department: string, region: string, url: string): Promise<string> {
  const id = randomUUID();
  await t.sql(`INSERT INTO workflow.webhook (id, department, region_code, url, secret, active, created_by, created_at) VALUES ($1, $2, $3, $4, $5, true, 'direct', now())`, [
    id,
    department,
    region,
    url,
    randomBytes(32).toString('base64url'),
  ]);
  return id;
}

/** The deliveries queued for a webhook, as the job left them. */
export const deliveriesOf = (t: TestHub, webhookId: string) =>
  t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [webhookId]);
