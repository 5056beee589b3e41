import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { WorkflowConfig } from '../../config/hub.config';

export const SIGNATURE_HEADER = 'x-hub-signature';
export const TIMESTAMP_HEADER = 'x-hub-timestamp';
export const DELIVERY_HEADER = 'x-hub-delivery';

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The timestamp is signed too, so a
 * receiver can refuse replays older than a few minutes.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface Due {
  id: string;
  attempts: number;
  url: string;
  secret: string;
  notification: Record<string, unknown>;
}

/**
 * Posts due deliveries (the outbox rows written with each notification). A delivery is leased
 * before the POST so that two hub instances never send it twice at once; a 2xx marks it
 * delivered, anything else retries after base · 2^(attempts−1), until `maxAttempts`.
 */
export async function deliverWebhooks(ds: DataSource, cfg: WorkflowConfig['webhook'], now: Date, batch = 50): Promise<{ delivered: number; failed: number }> {
  const lease = new Date(now.getTime() + cfg.timeoutMs * 2);
  // An UPDATE … RETURNING answers [rows, count] through TypeORM.
  const [rows] = (await ds.query(
    `UPDATE workflow.webhook_delivery d SET next_attempt_at = $2
       FROM workflow.webhook w, workflow.notification n
      WHERE d.id IN (SELECT id FROM workflow.webhook_delivery WHERE status = 'PENDING' AND next_attempt_at <= $1
                     ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        AND w.id = d.webhook_id AND n.id = d.notification_id
    RETURNING d.id, d.attempts, w.url, w.secret,
      jsonb_build_object('id', n.id, 'kind', n.kind, 'department', n.department, 'regionCode', n.region_code,
        'minorId', n.minor_id, 'subjectId', n.subject_id, 'createdAt', n.created_at, 'payload', n.payload) AS notification`,
    [now, lease, batch],
  )) as [Due[], number];
  let delivered = 0;
  let failed = 0;
  await Promise.all(
    rows.map(async (d) => {
      const body = JSON.stringify(d.notification);
      const timestamp = String(Math.floor(now.getTime() / 1000));
      let error: string | null = null;
      try {
        const res = await fetch(d.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhook(d.secret, timestamp, body),
            [TIMESTAMP_HEADER]: timestamp,
            [DELIVERY_HEADER]: d.id,
          },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(cfg.timeoutMs),
        });
        if (!res.ok) error = `HTTP ${res.status}`;
        await res.body?.cancel();
      } catch (e) {
        error = e instanceof Error ? e.name : 'network error';
      }
      const attempts = d.attempts + 1;
      if (!error) {
        delivered++;
        await ds.query(`UPDATE workflow.webhook_delivery SET status = 'DELIVERED', attempts = $2, delivered_at = $3, last_error = NULL WHERE id = $1`, [d.id, attempts, now]);
      } else {
        const giveUp = attempts >= cfg.maxAttempts;
        if (giveUp) failed++;
        const next = new Date(now.getTime() + cfg.retryBaseMs * 2 ** (attempts - 1));
        await ds.query(`UPDATE workflow.webhook_delivery SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5 WHERE id = $1`, [
          d.id,
          giveUp ? 'FAILED' : 'PENDING',
          attempts,
          next,
          error,
        ]);
      }
    }),
  );
  return { delivered, failed };
}
