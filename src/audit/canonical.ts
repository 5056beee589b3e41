import { createHash } from 'node:crypto';

/** Previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` dropped. The same event always
 * serialises to the same bytes, so its hash can be recomputed from the stored body.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Loops and string concatenation rather than entries/map/join: a page of 100 children makes
  // an event of thousands of small objects, serialised once per request.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  // Most of an event is flat objects already in key order (the fields read of each child):
  // for those, JSON.stringify (which enumerates keys as Object.keys does) gives the same bytes.
  if (isFlatAndSorted(object, keys)) return JSON.stringify(object);
  let out = '{';
  for (const key of keys.sort()) {
    const v = object[key];
    if (v === undefined) continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + canonicalJson(v);
  }
  return out + '}';
}

function isFlatAndSorted(object: Record<string, unknown>, keys: string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    if (i && keys[i - 1] >= keys[i]) return false;
    const v = object[keys[i]];
    if (v !== null && typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'number') return false;
  }
  return true;
}

/** hash(n) = SHA-256(hash(n-1) ‖ "\n" ‖ seq ‖ "\n" ‖ body(n)), hex. */
export function chainHash(prevHash: string, seq: number, body: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${body}`).digest('hex');
}

/** The searchable columns stored beside an event's body; verification re-derives and compares them. */
export function indexColumns(body: {
  requestId: string;
  time: string;
  userId: string | null;
  department: string | null;
  region: string | null;
  outcome: string;
  purpose: { code: string } | null;
  reads: { minorId: string }[];
  changes: { minorId: string | null }[];
}): [string, string, string | null, string | null, string | null, string, string | null, string[]] {
  const minors = new Set<string>();
  for (const r of body.reads) minors.add(r.minorId);
  for (const c of body.changes) if (c.minorId) minors.add(c.minorId);
  return [body.requestId, body.time, body.userId, body.department, body.region, body.outcome, body.purpose?.code ?? null, [...minors].sort()];
}
