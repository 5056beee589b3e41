import { createHash } from 'node:crypto';

/** Previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` dropped. The same event always
 * serialises to the same bytes, so its hash can be recomputed from the stored body.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** hash(n) = SHA-256(hash(n-1) ‖ "\n" ‖ seq ‖ "\n" ‖ body(n)), hex. */
export function chainHash(prevHash: string, seq: number, body: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${body}`).digest('hex');
}
