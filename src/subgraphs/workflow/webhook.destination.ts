import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Where the hub may send a webhook (children's data) — checked when a webhook is registered and
 * again before every delivery, against the addresses the host resolves to then (DNS may have
 * changed since registration). Department systems live on government private networks, so
 * private ranges cannot simply be banned:
 *
 * - always refused: unspecified (0.0.0.0/8, ::), link-local (169.254/16 — cloud metadata —,
 *   fe80::/10), multicast, broadcast and reserved (240/4), and the IPv4-mapped, -compatible, NAT64
 *   and 6to4 IPv6 forms of any refused IPv4 address;
 * - strict (production): loopback (127/8, ::1) refused; private ranges (10/8, 172.16/12,
 *   192.168/16, 100.64/10, fc00::/7) refused unless the URL's host is one of `allowedHosts`.
 */
export interface DestinationPolicy {
  strictDestinations: boolean;
  /** Lower-case host names or addresses whose private addresses a strict policy accepts. */
  allowedHosts: string[];
}

export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

export interface ResolvedDestination {
  address: string;
  family: 4 | 6;
}

export class DestinationRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DestinationRefused';
  }
}

function classifyV4(b: number[]): AddressClass {
  const [a, x] = b;
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 169 && x === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved'; // includes 255.255.255.255 (broadcast)
  if (a === 10 || (a === 172 && x >= 16 && x <= 31) || (a === 192 && x === 168) || (a === 100 && x >= 64 && x <= 127)) return 'private';
  return 'public';
}

/** The 16 bytes of an IPv6 address (zone index dropped), or null. */
function v6Bytes(text: string): number[] | null {
  const addr = text.split('%')[0];
  if (isIP(addr) !== 6) return null;
  let head = addr;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) {
    const q = v4[1].split('.').map(Number);
    tail = [(q[0] << 8) | q[1], (q[2] << 8) | q[3]];
    head = addr.slice(0, -v4[1].length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const words = (s: string) => (s ? s.split(':').filter(Boolean).map((w) => parseInt(w, 16)) : []);
  const l = words(left);
  const r = [...words(right ?? ''), ...tail];
  const groups = right === undefined ? [...l, ...tail] : [...l, ...new Array(8 - l.length - r.length).fill(0), ...r];
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

export function classifyAddress(address: string): AddressClass {
  const family = isIP(address.split('%')[0]);
  if (family === 4) return classifyV4(address.split('.').map(Number));
  const b = v6Bytes(address);
  if (!b) return 'reserved';
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number) => classifyV4(b.slice(at, at + 4));
  if (zero(0, 16)) return 'unspecified';
  if (zero(0, 15) && b[15] === 1) return 'loopback';
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12); // ::ffff:a.b.c.d (IPv4-mapped)
  if (zero(0, 12)) return v4(12); // ::a.b.c.d (IPv4-compatible, deprecated)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12); // 64:ff9b::/96 (NAT64)
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2); // 2002::/16 (6to4)
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'link-local';
  if (b[0] === 0xff) return 'multicast';
  if ((b[0] & 0xfe) === 0xfc) return 'private';
  return 'public';
}

/** Why the policy refuses `address` reached through `host`, or null when it may be contacted. */
export function refusal(policy: DestinationPolicy, host: string, address: string): string | null {
  const cls = classifyAddress(address);
  if (cls === 'public') return null;
  if (cls === 'private' && (!policy.strictDestinations || policy.allowedHosts.includes(host.toLowerCase()))) return null;
  if (cls === 'loopback' && !policy.strictDestinations) return null;
  const why = cls === 'private' ? 'private (not in HUB_WEBHOOK_ALLOWED_HOSTS)' : cls;
  return `${host} resolves to ${address}, ${why}`;
}

/** The URL's host name without IPv6 brackets, as resolved and as matched against the allow-list. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/**
 * Resolves the URL's host and checks every address it resolves to; answers the address to connect
 * to (the first), or throws DestinationRefused. A host that does not resolve is refused.
 */
export async function checkDestination(policy: DestinationPolicy, url: URL): Promise<ResolvedDestination> {
  const host = hostOf(url);
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch {
    throw new DestinationRefused(`${host} does not resolve`);
  }
  if (!addresses.length) throw new DestinationRefused(`${host} does not resolve`);
  for (const a of addresses) {
    const why = refusal(policy, host, a.address);
    if (why) throw new DestinationRefused(why);
  }
  return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}
