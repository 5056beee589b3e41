import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { auditEvent } from '../../src/audit/audit-event';
import { AuditOutcome } from '../../src/audit/audit.types';
import { canonicalJson, chainHash, GENESIS_HASH, indexColumns } from '../../src/audit/canonical';
import { Department, Role } from '../../src/auth/principal';

/**
 * What the audit writer's tests share: an event, other hub instances appending to the trail, and the
 * network between an instance and Postgres.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function event(userId: string) {
  return auditEvent({
    requestId: randomUUID(),
    startedAt: performance.now(),
    principal: { userId, department: Department.POLICE, role: Role.OFFICER, region: '330102' } as never,
    clientAddress: '127.0.0.1',
    outcome: AuditOutcome.SUCCESS,
    errorCodes: [],
    operationName: null,
    operationType: 'query',
    document: { text: '{regions{code}}', hash: '0'.repeat(64) },
    variables: {},
    purpose: null,
    access: { reads: [], changes: [] },
  });
}

export async function connected(url: string, options?: string): Promise<Client> {
  const c = new Client({ connectionString: url, options });
  await c.connect();
  return c;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 10000): Promise<T> {
  for (const end = Date.now() + ms; ; ) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Appends one chain-correct event on `c`, inside whatever transaction `c` has open (another hub instance's INSERT). */
export async function appendOn(c: Client, userId: string): Promise<string> {
  const { rows } = await c.query(`SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1`);
  const [seq, prev] = rows.length ? [Number(rows[0].seq) + 1, rows[0].hash as string] : [1, GENESIS_HASH];
  const body = event(userId);
  const text = canonicalJson(body);
  const [r, t, u, d, g, o, pu, m] = indexColumns(body);
  await c.query(
    `INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [seq, prev, chainHash(prev, seq, text), text, r, t, u, d, g, o, pu, `{${m.join(',')}}`],
  );
  return body.requestId;
}

export const outcome = (p: Promise<void>) => p.then(() => 'stored', (e: Error) => `refused: ${e.message}`);

/**
 * A TCP proxy standing for the network between a hub instance's pool and Postgres: each test's
 * network decides, in `join`, what passes between the hub's side of a connection and Postgres's.
 */
export abstract class TcpProxy {
  private server!: net.Server;
  protected readonly links: { client: net.Socket; upstream: net.Socket }[] = [];
  port = 0;

  constructor(private readonly target: URL) {}

  /** Wires a connection the hub opened; `connect` opens (and records) its link to Postgres. */
  protected abstract join(client: net.Socket, connect: () => net.Socket): void;

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      client.on('error', () => undefined);
      this.join(client, () => {
        // The test cluster is reached on its Unix socket, in the directory the URL names as `host`.
        const upstream = net.connect(path.join(this.target.searchParams.get('host')!, `.s.PGSQL.${this.target.port}`));
        upstream.on('error', () => undefined);
        this.links.push({ client, upstream });
        return upstream;
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** A URL like `url` (same user, password and database) that goes through this network. */
  via(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.searchParams.delete('host');
    return u.toString();
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * `cut(sent)` decides, for each reply chunk (`sent`: the last chunk the hub sent on that link),
 * whether the hub's side of the connection is closed there (Postgres, as across a partition, not noticing).
 */
export class Network extends TcpProxy {
  cut: (sent: string) => boolean = () => false;
  /** Nothing passes either way any more, and no side is told (a silent partition, a dropped NAT entry). */
  blackhole = false;
  /** New connections are closed as they come (the database unreachable). */
  refuse = false;

  protected join(client: net.Socket, connect: () => net.Socket): void {
    if (this.refuse) return void client.destroy();
    const upstream = connect();
    let last = '';
    client.on('data', (chunk: Buffer) => {
      if (this.blackhole) return;
      last = chunk.toString('latin1');
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (client.destroyed || this.blackhole) return;
      if (this.cut(last)) return void client.destroy();
      client.write(chunk);
    });
  }
}
