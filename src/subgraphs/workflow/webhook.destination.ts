import { getServers } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Where the hub may send a webhook (children's data) — checked when a webhook is registered and
 * again before every delivery, against the addresses the host resolves to then (DNS may have
 * changed since registration). Department systems live on government private networks, so
 * private ranges cannot simply be banned:
 *
 * - always refused: unspecified (0.0.0.0/8, ::), link-local (169.254/16 — cloud metadata —,
 *   fe80::/10), multicast, and reserved: every other special-purpose range of the IANA registries
 *   that is not globally reachable (240/4 and broadcast, documentation, benchmarking, IETF protocol
 *   assignments, site-local, discard-only, Teredo, local-use NAT64, …), and all IPv6 outside
 *   global unicast (2000::/3) that is not named below;
 * - strict (production): loopback (127/8, ::1) refused; private ranges (10/8, 172.16/12,
 *   192.168/16, 100.64/10, fc00::/7) refused unless the URL's host is one of `allowedHosts`.
 *
 * An IPv6 address that carries an IPv4 address the network may deliver to (IPv4-mapped, SIIT
 * IPv4-translated, IPv4-compatible, well-known-prefix NAT64, 6to4) is judged by that IPv4 address.
 */
export interface DestinationPolicy {
  strictDestinations: boolean;
  /** Lower-case host names or addresses whose private addresses a strict policy accepts. */
  allowedHosts: string[];
  /** A host that has not resolved within this long (the webhook request timeout) is refused. */
  timeoutMs: number;
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

/** A range and its class, or (IPv6) the byte offset of the IPv4 address it carries. */
type Rule = [cidr: string, verdict: AddressClass | { v4At: number }];

/**
 * IPv4 special-purpose ranges (IANA IPv4 Special-Purpose Address Registry) that are not globally
 * reachable, most specific first; the first match wins, anything unmatched is public. Ranges the
 * registry marks globally reachable (AS112, AMT, …) are left public.
 */
const V4_RULES: Rule[] = [
  ['0.0.0.0/8', 'unspecified'], // "this network"
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'private'], // shared address space (carrier-grade NAT)
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments (DS-Lite, NAT64 discovery, …)
  ['192.0.2.0/24', 'reserved'], // documentation (TEST-NET-1)
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'], // benchmarking
  ['198.51.100.0/24', 'reserved'], // documentation (TEST-NET-2)
  ['203.0.113.0/24', 'reserved'], // documentation (TEST-NET-3)
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // includes 255.255.255.255 (broadcast)
];

/**
 * IPv6 (IANA IPv6 Special-Purpose Address Registry and address space), most specific first; the
 * first match wins. The last rule refuses whatever lies outside global unicast and was not named:
 * ::/8 (but the forms above), 64:ff9b:1::/48 (local-use NAT64: where it carries its IPv4 address
 * depends on the operator's prefix length, and it is not globally reachable), 100::/64 (discard),
 * fec0::/10 (site-local), unassigned space.
 */
const V6_RULES: Rule[] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', { v4At: 12 }], // IPv4-mapped
  ['::ffff:0:0:0/96', { v4At: 12 }], // IPv4-translated (SIIT)
  ['::/96', { v4At: 12 }], // IPv4-compatible (deprecated)
  ['64:ff9b::/96', { v4At: 12 }], // NAT64, well-known prefix
  ['2001::/23', 'reserved'], // IETF protocol assignments: Teredo (2001::/32), benchmarking, ORCHID, …
  ['2001:db8::/32', 'reserved'], // documentation
  ['2002::/16', { v4At: 2 }], // 6to4
  ['3fff::/20', 'reserved'], // documentation
  ['2000::/3', 'public'], // global unicast
  ['fc00::/7', 'private'], // unique local
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
  ['::/0', 'reserved'],
];

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

const bytesOf = (address: string): number[] | null => (isIP(address) === 4 ? address.split('.').map(Number) : v6Bytes(address));

/** The rules with their networks parsed once. */
const compile = (rules: Rule[]) =>
  rules.map(([cidr, verdict]) => {
    const [net, bits] = cidr.split('/');
    const bytes = bytesOf(net);
    if (!bytes) throw new Error(`bad range ${cidr}`);
    return { bytes, bits: Number(bits), verdict };
  });
const V4 = compile(V4_RULES);
const V6 = compile(V6_RULES);

function within(address: number[], net: number[], bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 0xff : (0xff << (8 - (bits - i))) & 0xff;
    if ((address[i / 8] & mask) !== (net[i / 8] & mask)) return false;
  }
  return true;
}

function classify(b: number[], rules: ReturnType<typeof compile>): AddressClass {
  const rule = rules.find((r) => within(b, r.bytes, r.bits));
  if (!rule) return 'public';
  return typeof rule.verdict === 'string' ? rule.verdict : classify(b.slice(rule.verdict.v4At, rule.verdict.v4At + 4), V4);
}

export function classifyAddress(address: string): AddressClass {
  const text = address.split('%')[0];
  const b = bytesOf(text);
  if (!b) return 'reserved';
  return classify(b, b.length === 4 ? V4 : V6);
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
 * Look-ups in flight at once, hub-wide. A look-up holds no thread (c-ares, below) but a channel of
 * its own — sockets, a timer, the queries it sends — for up to the webhook request timeout, asking a
 * name server that whoever registers a URL may run: unbounded, any officer's registrations sent at
 * once would have the hub hold as many and query that server as fast as they liked. Concurrent
 * look-ups of one host share one, so a delivery batch (50) to a handful of receivers takes a
 * handful; 16 leaves room for a batch's distinct hosts beside the registrations under way.
 */
export const MAX_LOOKUPS_IN_FLIGHT = 16;

/**
 * Of those, the most that registrations may hold: any officer may register, and registrations of
 * silent names sent again as each is refused would otherwise keep every look-up taken, and every
 * delivery hub-wide — a CHILD_RED among them — waiting for as long as they went on. Deliveries
 * may take all of them.
 */
export const MAX_REGISTRATION_LOOKUPS = MAX_LOOKUPS_IN_FLIGHT / 2;

/** What a destination is checked for: a registration, or a delivery (which the cap favours). */
export type LookupFor = 'registration' | 'delivery';

/**
 * Refused because the look-ups allowed were under way: the destination was not checked. A
 * registration is refused as for any other reason; a delivery is not attempted (not counted).
 */
export class LookupsBusy extends DestinationRefused {
  constructor(host: string, cap: number, what: string) {
    super(`${host} was not looked up: ${cap} ${what} in flight`);
  }
}

const LOOPBACK: ResolvedDestination[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

const inFlight = new Map<string, Promise<ResolvedDestination[]>>();
/** The names in `inFlight` a registration asked for first. */
const registering = new Set<string>();

/**
 * The host's addresses, IPv4 first. `localhost` and names under `.localhost` are loopback and never
 * asked of DNS (RFC 6761): c-ares, unlike getaddrinfo, does not read /etc/hosts.
 */
function resolveHost(host: string, timeoutMs: number, lookupFor: LookupFor): Promise<ResolvedDestination[]> {
  const name = host.replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return Promise.resolve(LOOPBACK);
  const pending = inFlight.get(name);
  if (pending) return pending;
  if (inFlight.size >= MAX_LOOKUPS_IN_FLIGHT) return Promise.reject(new LookupsBusy(host, MAX_LOOKUPS_IN_FLIGHT, 'destination look-ups'));
  if (lookupFor === 'registration') {
    if (registering.size >= MAX_REGISTRATION_LOOKUPS) return Promise.reject(new LookupsBusy(host, MAX_REGISTRATION_LOOKUPS, 'registrations’ look-ups'));
    registering.add(name);
  }
  const lookup = resolveWithin(name, timeoutMs).finally(() => {
    inFlight.delete(name);
    registering.delete(name);
  });
  inFlight.set(name, lookup);
  return lookup;
}

/**
 * A and AAAA records asked of the process's name servers (`dns.getServers()`: /etc/resolv.conf as
 * read at start) through c-ares, cancelled after `timeoutMs`. Not getaddrinfo: it runs on libuv's
 * pool of four threads, which also verify every ES256/RS256 token, and cannot be cancelled — a
 * handful of look-ups of names whose name server stays silent held the pool, and every caller with
 * them, for as long as the system resolver retried. Two tries within the time, so that one lost
 * datagram does not refuse a destination. A family that has not answered by then is left out;
 * only the addresses found are connected to.
 */
async function resolveWithin(name: string, timeoutMs: number): Promise<ResolvedDestination[]> {
  const resolver = new Resolver({ timeout: Math.ceil(timeoutMs / 3), tries: 2 });
  resolver.setServers(getServers());
  const timer = setTimeout(() => resolver.cancel(), timeoutMs);
  try {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const found = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (found.length) return found;
    const unanswered = [v4, v6].some((r) => r.status === 'rejected' && ['ECANCELLED', 'ETIMEOUT'].includes((r.reason as NodeJS.ErrnoException).code ?? ''));
    throw new DestinationRefused(unanswered ? `${name} did not resolve within ${timeoutMs} ms` : `${name} does not resolve`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves the URL's host (an address is itself) and checks every address it resolves to; answers
 * the address to connect to (the first), or throws DestinationRefused — LookupsBusy when too many
 * look-ups are under way (for a registration, MAX_REGISTRATION_LOOKUPS). A host that does not
 * resolve, or not within `timeoutMs`, is refused.
 */
export async function checkDestination(policy: DestinationPolicy, url: URL, lookupFor: LookupFor): Promise<ResolvedDestination> {
  // Production registers https URLs only, and delivers over nothing else: a webhook stored before
  // the hub ran in production (a pilot, a copied database) was posted children's data in clear.
  if (policy.strictDestinations && url.protocol !== 'https:') throw new DestinationRefused(`${url.protocol} is not https`);
  const host = hostOf(url);
  const family = isIP(host);
  const addresses = family ? [{ address: host, family: family as 4 | 6 }] : await resolveHost(host, policy.timeoutMs, lookupFor);
  for (const a of addresses) {
    const why = refusal(policy, host, a.address);
    if (why) throw new DestinationRefused(why);
  }
  return addresses[0];
}

/**
 * A URL as the receiver reads it: percent-encoded letters, digits and -._~ decoded (`/hoo%6B` is
 * `/hook`), repeated and trailing slashes, an empty query and the host's trailing dot dropped; the
 * URL parser has already lower-cased the scheme and host and dropped a default port. Two
 * registrations of one receiver compare equal (a query string makes another destination).
 */
export function sameDestination(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/%([0-9a-f]{2})/gi, (escape, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : escape.toUpperCase();
  });
  const host = u.host.replace(/\.(?=(:\d+)?$)/, '');
  return `${u.protocol}//${host}${path.replace(/\/{2,}/g, '/').replace(/\/$/, '')}${u.search === '?' ? '' : u.search}`;
}
