import { childReads } from '../../src/audit/audit-event';
import type { AuditEventBody } from '../../src/audit/audit.types';
import { Client } from 'pg';
import { Department } from '../../src/auth/principal';
import type { TestHub } from './test-hub';

/**
 * The stored body of the final audit event of one request (by the x-request-id the hub returned):
 * the one with its outcome. A mutation also has a STARTED event before it, which this skips
 * (`eventsOf` returns both).
 */
export async function storedEventOf(t: TestHub, requestId: string): Promise<Record<string, any>> {
  await t.hub.audit.drain();
  const rows = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1 AND outcome <> 'STARTED'`, [requestId]);
  if (rows.length !== 1) throw new Error(`expected one final audit event for ${requestId}, found ${rows.length}`);
  return JSON.parse(rows[0].body);
}

/** Every stored event of one request, in chain order (`seq`), each with its stored body. */
export async function eventsOf(t: TestHub, requestId: string): Promise<{ seq: number; outcome: string; body: Record<string, any> }[]> {
  await t.hub.audit.drain();
  const rows = await t.sql(`SELECT seq, outcome, body FROM audit.event WHERE request_id = $1 ORDER BY seq`, [requestId]);
  return rows.map((r) => ({ seq: Number(r.seq), outcome: r.outcome, body: JSON.parse(r.body) }));
}

/** The same, with `reads` one entry per child as the auditor's API shows them (childReads). */
export async function eventOf(t: TestHub, requestId: string): Promise<Record<string, any>> {
  const body = await storedEventOf(t, requestId);
  return { ...body, reads: childReads(body as AuditEventBody) };
}

export async function eventCount(t: TestHub): Promise<number> {
  await t.hub.audit.drain();
  return (await t.sql(`SELECT count(*)::int AS n FROM audit.event`))[0].n;
}

/** POST /graphql keeping the response headers (the request id). */
export async function post(
  t: TestHub,
  token: string | null,
  body: unknown,
  headers: Record<string, string> = { 'x-purpose': 'CASE_HANDLING' },
): Promise<{ status: number; headers: Headers; requestId: string; json: any }> {
  const res = await fetch(t.hub.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, requestId: res.headers.get('x-request-id')!, json: await res.json().catch(() => null) };
}

/** The HTTP status of `{ __typename }` asked with a POLICE token whose user id (`sub`) is `user`: 401 when the hub refuses the id. */
export async function statusForUser(t: TestHub, user: string): Promise<number> {
  return (await post(t, await t.token(Department.POLICE, { user }), { query: '{ __typename }' })).status;
}

/** Tampering with the trail needs what the application lacks: a superuser session with its triggers off. */
export async function asDba<T>(t: TestHub, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  try {
    await c.query(`SET session_replication_role = replica`);
    return await work(c);
  } finally {
    await c.end();
  }
}
