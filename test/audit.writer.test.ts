import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { auditEvent } from '../src/audit/audit-event';
import { AuditOutcome } from '../src/audit/audit.types';
import { verifyChain } from '../src/audit/audit.verify';
import { AuditWriter } from '../src/audit/audit.writer';
import { Department, Role } from '../src/auth/principal';
import { cloneTemplateDatabase } from './support/test-hub';

/**
 * The writer against what happens between a hub and its database: other hub instances appending
 * to the same trail.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function event(userId: string) {
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

/** A pool as the hub's: the append-only writer role taken per connection. */
function writerPool(url: string, applicationName: string): Pool {
  const pool = new Pool({ connectionString: url, max: 2, options: '-c role=hub_audit_writer', application_name: applicationName });
  pool.on('error', () => undefined); // idle connections dropped by the tests
  return pool;
}

async function connected(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

describe('audit writer', () => {
  let url: string;
  let db: Client;
  const verify = () => verifyChain(async (text, params) => (await db.query(text, params)).rows);

  beforeAll(async () => {
    url = await cloneTemplateDatabase();
    db = await connected(url);
  });
  afterAll(() => db?.end());

  it('several writers on one trail (hub instances, each its own pool): every append resolves, each event stored once, the chain unbroken', async () => {
    const pools = ['a', 'b', 'c'].map((n) => writerPool(url, `writers-${n}`));
    const writers = pools.map((p) => new AuditWriter(p));
    const ids: string[] = [];
    const appends: Promise<void>[] = [];
    try {
      // Each instance takes a steady stream of requests of its own, as under ordinary load: their
      // batches overlap, and each one's head is stale whenever another has committed since.
      await Promise.all(
        writers.map(async (w, i) => {
          for (let wave = 0; wave < 150; wave++) {
            for (let k = 0; k < 1 + ((wave * 7 + i * 5) % 12); k++) {
              const e = event(`writer-${i}`);
              ids.push(e.requestId);
              appends.push(w.append(e));
            }
            await sleep(wave % 3);
          }
        }),
      );
    } finally {
      await Promise.allSettled(appends);
      await Promise.all(pools.map((p) => p.end()));
    }
    const refused = (await Promise.allSettled(appends)).filter((o) => o.status === 'rejected');
    expect({ refused: refused.length, first: refused[0]?.reason?.message }).toEqual({ refused: 0, first: undefined });
    const { rows } = await db.query(`SELECT request_id::text AS id, count(*)::int AS n FROM audit.event WHERE request_id = ANY($1) GROUP BY 1`, [ids]);
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
  });
});
