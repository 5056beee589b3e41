import { hash } from 'node:crypto';
import { isUuid } from '../common/uuid';

/** Previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` dropped. The same event always
 * serialises to the same bytes, so its hash can be recomputed from the stored body.
 */
export function canonicalJson(value: unknown): string {
  // Events are built with their keys in order (audit-event.ts, access-log.ts): checking that is
  // far cheaper than building the text piece by piece, and then one native call writes it.
  if (isCanonical(value)) return JSON.stringify(value) ?? 'null';
  return assembled(value);
}

/** Whether JSON.stringify already writes `value` canonically: plain objects with keys in order. */
function isCanonical(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (type !== 'object') return false; // functions, symbols, bigints: left to the general case
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isCanonical(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false; // Date and others have toJSON
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  for (let i = 0; i < keys.length; i++) {
    if (i && keys[i - 1] >= keys[i]) return false;
    if (!isCanonical(object[keys[i]])) return false;
  }
  return true;
}

function assembled(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonicalJson(toJSON.call(value)); // a Date, as JSON.stringify writes it
  // Loops and string concatenation rather than entries/map/join; the parts in order already take
  // canonicalJson's native path.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined || typeof v === 'function') continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/** hash(n) = SHA-256(hash(n-1) ‖ "\n" ‖ seq ‖ "\n" ‖ body(n)), hex. */
export function chainHash(prevHash: string, seq: number, body: string): string {
  return hash('sha256', `${prevHash}\n${seq}\n${body}`, 'hex');
}

/**
 * The searchable columns stored beside an event's body; verification re-derives and compares them.
 * The children are the UUIDs the event names, in lower case (`minor_ids` is a `uuid[]`): only a
 * UUID is a child's id or may be looked up, and anything else must not fail the batch's INSERT.
 */
export function indexColumns(body: {
  requestId: string;
  time: string;
  userId: string | null;
  department: string | null;
  region: string | null;
  outcome: string;
  purpose: { code: string } | null;
  reads: ({ minorId: string } | { minorIds: string[] })[];
  changes: { minorId: string | null }[];
}): [string, string, string | null, string | null, string | null, string, string | null, string[]] {
  const minors = new Set<string>();
  const add = (id: string | null) => {
    if (isUuid(id)) minors.add(id.toLowerCase());
  };
  for (const r of body.reads) for (const id of 'minorIds' in r ? r.minorIds : [r.minorId]) add(id);
  for (const c of body.changes) add(c.minorId);
  return [body.requestId, body.time, body.userId, body.department, body.region, body.outcome, body.purpose?.code ?? null, [...minors].sort()];
}
