import { childReads } from '../../src/audit/audit-event';
import type { AuditEventBody } from '../../src/audit/audit.types';
import type { TestHub } from './test-hub';

/** The stored body of the audit event of one request (by the x-request-id the hub returned). */
export async function storedEventOf(t: TestHub, requestId: string): Promise<Record<string, any>> {
  await t.hub.audit.drain();
  const rows = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [requestId]);
  if (rows.length !== 1) throw new Error(`expected one audit event for ${requestId}, found ${rows.length}`);
  return JSON.parse(rows[0].body);
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
): Promise<{ status: number; requestId: string; json: any }> {
  const res = await fetch(t.hub.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id')!, json: await res.json().catch(() => null) };
}
