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

/** A department system's receiver on localhost: what it was sent, answered `answer(n)` for the n-th delivery. */
export interface Rx {
  server: Server;
  url: string;
  got: { headers: IncomingMessage['headers']; body: string }[];
}
export async function receiver(answer: (n: number) => number = () => 204): Promise<Rx> {
  const got: Rx['got'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(answer(got.length)).end();
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
