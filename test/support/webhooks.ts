import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
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

/** A department system's receiver on localhost: what it was sent, answered `answer(n)` for the n-th delivery (once it resolves). */
export interface Rx {
  server: Server;
  url: string;
  got: { headers: IncomingMessage['headers']; body: string }[];
}
export async function receiver(answer: (n: number) => number | Promise<number> = () => 204): Promise<Rx> {
  const got: Rx['got'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      got.push({ headers: req.headers, body });
      res.writeHead(await answer(got.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

export const closeReceiver = (s: Server) =>
  new Promise<void>((resolve) => {
    s.closeAllConnections?.();
    s.close(() => resolve());
  });

/** `n` DROPOUT notifications of the region, each queued to `hook` and due now (as emitNotification queues them). */
export const queueDeliveries = (t: TestHub, hook: string, region: string, n: number, tag: string) =>
  t.sql(
    `WITH n AS (INSERT INTO workflow.notification (id, kind, department, region_code, payload, created_at, dedupe_key)
                SELECT gen_random_uuid(), 'DROPOUT', 'EDUCATION', $2, jsonb_build_object('DropoutReport.school', $3::text), now() - interval '1 minute', $3 || ':' || g
                  FROM generate_series(1, $4::int) g RETURNING id)
     INSERT INTO workflow.webhook_delivery (id, webhook_id, notification_id, status, attempts, next_attempt_at)
     SELECT gen_random_uuid(), $1, n.id, 'PENDING', 0, now() - interval '1 minute' FROM n`,
    [hook, region, tag, n],
  );

/** Every other webhook's pending deliveries put off, so that a pass leases these webhooks' alone. */
export const onlyWebhooks = (t: TestHub, ids: string[]) =>
  t.sql(`UPDATE workflow.webhook_delivery SET next_attempt_at = now() + interval '10 years' WHERE NOT (webhook_id = ANY($1::uuid[])) AND status = 'PENDING'`, [ids]);
