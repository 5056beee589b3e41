import { eventsOf, post } from './audit-helpers';
import { DEFAULT_PURPOSE, statementsDuring, TestHub } from './test-hub';

interface Answered {
  status: number;
  json: any;
  /** The text of each statement the database ran for it, in order: their number and kind is what timing tells. */
  statements: string[];
  /** Its audit events without what differs between any two requests (id, time, duration, the variables' keyed hashes). */
  events: { outcome: string; body: Record<string, unknown> }[];
}

async function answered(t: TestHub, token: string, query: string, variables: Record<string, unknown>): Promise<Answered> {
  let r!: Awaited<ReturnType<typeof post>>;
  const sent = await statementsDuring(t, async () => {
    r = await post(t, token, { query, variables }, DEFAULT_PURPOSE);
  });
  // An id asked is recorded as asked (a child looked up is read, found or not): named here by its variable.
  const named = (text: string) => Object.entries(variables).reduce((s, [name, value]) => s.split(String(value)).join(`$${name}`), text);
  const events = (await eventsOf(t, r.requestId)).map(({ outcome, body: { requestId: _r, time: _t, durationMs: _d, variables: hashed, ...body } }) => ({
    outcome,
    body: { ...JSON.parse(named(JSON.stringify(body))), variables: Object.keys(hashed) },
  }));
  return { status: r.status, json: r.json, statements: sent.map((s) => s.query), events };
}

/**
 * Asks `query` with `outside` (a record the caller may not reach) and with `unknown` (the same
 * variables naming nothing), and expects the two answered alike: status, body, audit events, and
 * the statements run — a look-up that finds the record and then refuses it costs a statement more,
 * which its time tells. Returns the answer. `warmUp` (by default `unknown`) is asked once before,
 * so that what a first request loads (the region directory, a prepared statement) is loaded for both;
 * give other variables where asking leaves a trace that asking the same again would read (the audit
 * trail's own look-ups).
 */
export async function expectAnsweredAsUnknown(
  t: TestHub,
  token: string,
  query: string,
  outside: Record<string, unknown>,
  unknown: Record<string, unknown>,
  warmUp = unknown,
): Promise<Answered> {
  await answered(t, token, query, warmUp);
  const refused = await answered(t, token, query, outside);
  expect(refused).toEqual(await answered(t, token, query, unknown));
  return refused;
}
