import { createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import type { PolicySubject } from '../auth/principal';
import { REPLY_MARGIN_MS } from '../db/time-limits';
import { RegionLevel } from '../subgraphs/registry/registry.enums';
import { BUILT_IN_FINEST_LEVEL, depth, LEVELS } from '../subgraphs/statistics/statistics.config';

/**
 * The hub's configuration, read from the environment once at start-up and validated there, so
 * that a typo fails the boot instead of a request.
 */
export interface HubConfig {
  production: boolean;
  port: number;
  /** Unset: an embedded Postgres is started with its data under `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  embeddedPgPort: number;
  /**
   * The longest the request path waits on the database: each statement, a lock, a transaction left
   * idle, a connection from the pool (src/db/data-source.ts). Then the request is answered
   * DATABASE_UNAVAILABLE (503) instead of waiting, and holding a connection, for ever.
   */
  statementTimeoutMs: number;
  /**
   * The longest a stop (SIGTERM, SIGINT) waits for the requests in flight to be answered and
   * audited before it closes their connections (src/server/http-listener.ts).
   */
  shutdownGraceMs: number;
  /**
   * Distributed mode: the longest the gateway waits for a remote subgraph's answer, from sending
   * the fetch to the end of its body (src/gateway/signed-remote.data-source.ts). Then the answer
   * counts as lost: the client gets "Internal server error" and the request's event is in doubt.
   */
  subgraphTimeoutMs: number;
  /**
   * The longest a connection may take none of an answer that is ready for it before it is closed
   * (src/server/http-listener.ts): a client that stops reading holds its answers in memory.
   */
  answerStallMs: number;
  /**
   * The most connections one server (the hub, a subgraph process) holds open at once; one more is
   * closed as it is accepted (src/server/http-listener.ts).
   */
  maxConnections: number;
  /** Seed demo data when the registry is empty. */
  seedDemo: boolean;
  jwt: {
    issuer: string;
    audience: string;
    /** Production: PEM public key (SPKI) … */
    publicKeyPem?: string;
    /** … or a JWKS endpoint. Neither set (dev): HS256 with a secret generated into `dataDir`. */
    jwksUrl?: string;
    algorithms: string[];
    /** A client token issued (`iat`) longer ago than this is refused, whatever its `exp`. */
    maxTokenAgeSeconds: number;
  };
  /** Distributed mode: subgraph name → URL. Empty: every subgraph runs in-process. */
  subgraphUrls: Record<string, string>;
  /** Secret the gateway signs subgraph requests with (distributed mode); dev default lives in `dataDir`. */
  gatewaySecret?: string;
  /**
   * Benchmark-only switches (HUB_BENCH_DISABLE=policy,audit,compiled) to measure what each
   * protection costs, and what compiled reads (src/compiled-read) save. Refused in production; the
   * hub prints a warning when one is set.
   */
  benchDisable: { policy: boolean; audit: boolean; compiled: boolean };
  audit: {
    /** Key of the HMAC over variable values in audit events; dev default lives in `dataDir`. */
    key?: string;
    /** The longest one statement of the audit writer, or its connecting, may take before the append fails closed. */
    timeoutMs: number;
    /** How often the chain's head is logged when it moved (src/audit/audit.anchor.ts); 0: never. */
    anchorSeconds: number;
    anomalies: AnomalyThresholds;
  };
  /** Operations whose response may hold more values than this are refused before they run (src/audit/query-cost.ts). */
  maxQueryCost: number;
  workflow: WorkflowConfig;
  statistics: StatisticsConfig;
}

/** Settings of the statistics subgraph (docs/statistics.md). */
export interface StatisticsConfig {
  /** Small-cell threshold: a count below k is published as suppressed ("<k"). */
  suppressionK: number;
  /** How often the hub's timer refreshes the summaries; 0: no timer in this process. */
  refreshSeconds: number;
  /** Finest region level each subject may break counts down to; subjects not listed get no statistics. */
  finestLevels: Partial<Record<PolicySubject, RegionLevel>>;
}

/** Urgency of a mandatory report (强制报告), which sets its deadlines. */
export type ReportUrgency = 'URGENT' | 'HIGH' | 'NORMAL';

/** Deadlines, SLAs and limits of the workflow subgraph (docs/workflows.md). */
export interface WorkflowConfig {
  /**
   * Shifts every request's `now` (and the escalation timer's) by this much. For tests and
   * rehearsals of deadlines only: refused in production.
   */
  clockOffsetMs: number;
  /** How often the escalation and webhook-delivery jobs run; 0 turns the timer off (tests run them by hand). */
  jobIntervalMs: number;
  /** Per urgency: minutes until verification must have started, and until the report must be handled. */
  reportDeadlines: Record<ReportUrgency, { verifyMinutes: number; handleMinutes: number }>;
  /** Hours the receiving department has to accept or decline a referral. */
  referralAnswerHours: number;
  /** Days an accepted referral has until it is completed. */
  referralCompleteDays: number;
  /** Minutes a RED notification may stay unacknowledged before it escalates. */
  redAckMinutes: number;
  /** Employment checks one employer may run per rolling hour. */
  employmentChecksPerHour: number;
  /** Every employment check answers after at least this long, whatever the answer. */
  employmentCheckMinMs: number;
  /** Bulk re-screenings one employer may run per rolling 365 days. */
  rescreensPerYear: number;
  webhook: {
    maxAttempts: number;
    retryBaseMs: number;
    timeoutMs: number;
    /** Production: webhooks may not reach loopback, nor private ranges unless allow-listed (webhook.destination.ts). */
    strictDestinations: boolean;
    /** HUB_WEBHOOK_ALLOWED_HOSTS, lower-case: hosts whose private addresses production accepts. */
    allowedHosts: string[];
    /** Active webhooks one department may have registered for one region (then LIMIT_EXCEEDED). */
    maxPerRegion: number;
  };
}

export interface AnomalyThresholds {
  /** A user reading at least this many distinct children … */
  distinctMinors: number;
  /** … within this many minutes is flagged. */
  windowMinutes: number;
  /** At least this many refused (FORBIDDEN) requests by one user within the window. */
  forbiddenAttempts: number;
  /** Working hours in the hub's time zone, [start, end) in hours; reads outside are flagged. */
  workingHours: [number, number];
  /** UTC offset of working hours, in hours (China Standard Time: 8). */
  utcOffsetHours: number;
  /** A purpose making up less than this share of a user's reads (with at least 20 reads) is unusual. */
  unusualPurposeShare: number;
}

type Env = Record<string, string | undefined>;

const DAY_MS = 86_400_000;
const WEEK_MINUTES = 7 * 24 * 60;
const YEAR_MINUTES = 365 * 24 * 60;
const MAX_CLOCK_OFFSET_MS = 100 * 365.25 * DAY_MS;

/**
 * The environment with every variable set to blanks left out: blank is the default, as unset.
 * Number(' ') is 0, which turned the jobs, the anchors or the grace period off without a word, and
 * `HUB_JWT_ISSUER="  "` was taken as the issuer tokens must name.
 */
const withoutBlanks = (env: Env): Env => Object.fromEntries(Object.entries(env).filter(([, v]) => v === undefined || v.trim() !== ''));

/** Written in decimal digits: Number() also reads 0x3E8, 0b…, 0o… and 1e3 as 1000. */
const WHOLE = /^\s*[-+]?\d+\s*$/;
const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;

function wholeInRange(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const n = WHOLE.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  return n;
}

/** A port: 0 only where the listener may take any free one (PORT); Postgres listens on 1–65535. */
const port = (env: Env, name: string, fallback: number, min = 0) => wholeInRange(env, name, fallback, min, 65535);

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (!['true', 'false', '1', '0'].includes(raw)) throw new Error(`${name} must be true or false, got "${raw}"`);
  return raw === 'true' || raw === '1';
}

function positive(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const n = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${name} must be a number in (0, ${max}], got "${raw}"`);
  return n;
}

/** A count of children or requests: 2.5 was accepted, and an alert then read "2.5 refused requests". */
function positiveCount(env: Env, name: string, fallback: number): number {
  const n = positive(env, name, fallback);
  if (!Number.isInteger(n)) throw new Error(`${name} must be a whole number, got "${env[name]}"`);
  return n;
}

// Unset (or blank) is the default, as for every other variable: Number('') is 0, which moved the
// working hours of OFF_HOURS eight hours without a word.
function utcOffset(raw: string | undefined): number {
  const n = raw === undefined ? 8 : WHOLE.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < -12 || n > 14) throw new Error(`HUB_ANOMALY_UTC_OFFSET must be an integer between -12 and 14, got "${raw}"`);
  return n;
}

function hours(raw: string | undefined): [number, number] {
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(raw ?? '8-20');
  if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 24) throw new Error(`HUB_ANOMALY_WORKING_HOURS must look like 8-20, got "${raw}"`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * The demo data is made up: seeded into a production database it would attach invented incidents,
 * cases and children to real jurisdictions, written without an audit event. Off by default there,
 * and refused if asked for.
 */
function seedDemo(env: Env, production: boolean): boolean {
  const seed = bool(env, 'HUB_SEED_DEMO', !production);
  if (seed && production) throw new Error('HUB_SEED_DEMO seeds made-up records and is refused with NODE_ENV=production');
  return seed;
}

function benchDisable(raw: string | undefined, production: boolean): HubConfig['benchDisable'] {
  const parts = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const known = ['policy', 'audit', 'compiled'];
  for (const p of parts) if (!known.includes(p)) throw new Error(`HUB_BENCH_DISABLE takes ${known.join(', ')}, got "${p}"`);
  if (parts.length && production) throw new Error('HUB_BENCH_DISABLE is for benchmarks only and refused with NODE_ENV=production');
  return { policy: parts.includes('policy'), audit: parts.includes('audit'), compiled: parts.includes('compiled') };
}

const URGENCIES: readonly ReportUrgency[] = ['URGENT', 'HIGH', 'NORMAL'];

/** Deadlines of a mandatory report unless HUB_REPORT_DEADLINES says otherwise (also what seed:scale generates against). */
export const DEFAULT_REPORT_DEADLINES: Readonly<WorkflowConfig['reportDeadlines']> = {
  URGENT: { verifyMinutes: 60, handleMinutes: 24 * 60 },
  HIGH: { verifyMinutes: 4 * 60, handleMinutes: 3 * 24 * 60 },
  NORMAL: { verifyMinutes: 24 * 60, handleMinutes: 7 * 24 * 60 },
};
export const DEFAULT_REFERRAL_ANSWER_HOURS = 72;
export const DEFAULT_REFERRAL_COMPLETE_DAYS = 30;

/** `URGENT=60/1440,HIGH=240/4320,NORMAL=1440/10080`: verify-within/handle-within minutes per urgency. */
function reportDeadlines(raw: string | undefined): WorkflowConfig['reportDeadlines'] {
  const out: WorkflowConfig['reportDeadlines'] = { ...DEFAULT_REPORT_DEADLINES };
  const given = new Set<string>();
  for (const part of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(URGENT|HIGH|NORMAL)=(\d+)\/(\d+)$/.exec(part);
    if (!m || Number(m[2]) <= 0 || Number(m[3]) < Number(m[2]) || Number(m[3]) > YEAR_MINUTES) {
      throw new Error(`HUB_REPORT_DEADLINES entries look like URGENT=60/1440 (verify/handle minutes, handle ≥ verify, at most ${YEAR_MINUTES}: a year), got "${part}"`);
    }
    // A second entry silently replaced the first: a mistyped urgency name would leave it unnoticed.
    if (given.has(m[1])) throw new Error(`HUB_REPORT_DEADLINES gives ${m[1]} twice`);
    given.add(m[1]);
    out[m[1] as ReportUrgency] = { verifyMinutes: Number(m[2]), handleMinutes: Number(m[3]) };
  }
  // Both deadlines follow the urgency: an URGENT report due to be handled after a NORMAL one would
  // be listed overdue (overdueReports) only after it, and count as handled in time when a normal one would not.
  for (const [deadline, key] of [['verification', 'verifyMinutes'], ['handling', 'handleMinutes']] as const) {
    if (out.URGENT[key] > out.HIGH[key] || out.HIGH[key] > out.NORMAL[key]) {
      throw new Error(`HUB_REPORT_DEADLINES: a more urgent report cannot have a later ${deadline} deadline (${URGENCIES.join(' ≤ ')})`);
    }
  }
  return out;
}

/** `hooks.edu.gov.internal,10.20.30.40`: exact host names or IPv4 addresses, matched case-insensitively. */
function allowedHosts(raw: string | undefined): string[] {
  const hosts = (raw ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const h of hosts) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(h)) {
      throw new Error(`HUB_WEBHOOK_ALLOWED_HOSTS entries are exact host names or IPv4 addresses (no scheme, port, path or wildcard), got "${h}"`);
    }
  }
  return hosts;
}

function workflow(env: Env, production: boolean): WorkflowConfig {
  const offset = env.HUB_CLOCK_OFFSET_MS;
  if (offset && production) throw new Error('HUB_CLOCK_OFFSET_MS is for tests and rehearsals only and refused with NODE_ENV=production');
  if (offset && (!WHOLE.test(offset) || !Number.isSafeInteger(Number(offset)) || Math.abs(Number(offset)) > MAX_CLOCK_OFFSET_MS)) {
    throw new Error(`HUB_CLOCK_OFFSET_MS must be a whole number between -${MAX_CLOCK_OFFSET_MS} and ${MAX_CLOCK_OFFSET_MS} (100 years), got "${offset}"`);
  }
  const whole = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) => wholeInRange(env, name, fallback, 1, max);
  return {
    clockOffsetMs: offset ? Number(offset) : 0,
    // At most a day: setInterval takes a longer delay (over 2^31 − 1 ms) for 1 ms, and ran the jobs back to back.
    jobIntervalMs: wholeInRange(env, 'HUB_WORKFLOW_JOB_INTERVAL_MS', 60_000, 0, DAY_MS), // 0: off
    reportDeadlines: reportDeadlines(env.HUB_REPORT_DEADLINES),
    // Deadlines a week, a month, a year at most: far beyond any a department keeps, well inside what
    // a Date can hold (a larger one made its due date an Invalid Date).
    referralAnswerHours: positive(env, 'HUB_REFERRAL_ANSWER_HOURS', DEFAULT_REFERRAL_ANSWER_HOURS, 30 * 24),
    referralCompleteDays: positive(env, 'HUB_REFERRAL_COMPLETE_DAYS', DEFAULT_REFERRAL_COMPLETE_DAYS, 365),
    redAckMinutes: positive(env, 'HUB_RED_ACK_MINUTES', 120, WEEK_MINUTES),
    employmentChecksPerHour: whole('HUB_EMPLOYMENT_CHECKS_PER_HOUR', 100),
    employmentCheckMinMs: whole('HUB_EMPLOYMENT_CHECK_MIN_MS', 300, 10_000),
    rescreensPerYear: whole('HUB_RESCREENS_PER_YEAR', 2),
    webhook: {
      maxAttempts: whole('HUB_WEBHOOK_MAX_ATTEMPTS', 6, 20),
      // An hour, doubled at most 19 times (HUB_WEBHOOK_MAX_ATTEMPTS ≤ 20): a next attempt a Date can hold.
      retryBaseMs: whole('HUB_WEBHOOK_RETRY_BASE_MS', 30_000, 3_600_000),
      timeoutMs: whole('HUB_WEBHOOK_TIMEOUT_MS', 5_000, 60_000),
      strictDestinations: production,
      allowedHosts: allowedHosts(env.HUB_WEBHOOK_ALLOWED_HOSTS),
      maxPerRegion: whole('HUB_WEBHOOK_MAX_PER_REGION', 10, 100),
    },
  };
}

/**
 * `DASHBOARD=DISTRICT,EDUCATION=STREET`: a deployment may keep a subject further from single grids
 * than the built-in table does, never bring it closer; subjects without statistics stay without.
 */
function finestLevels(raw: string | undefined): StatisticsConfig['finestLevels'] {
  const out = { ...BUILT_IN_FINEST_LEVEL };
  const seen = new Set<string>();
  for (const part of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const pieces = part.split('=').map((s) => s.trim());
    // `DASHBOARD=DISTRICT=GRID` had loaded as DASHBOARD=DISTRICT, the rest dropped.
    if (pieces.length !== 2) throw new Error(`HUB_STATISTICS_FINEST_LEVELS entries look like DASHBOARD=DISTRICT, got "${part}"`);
    const [subject, level] = pieces;
    const builtIn = BUILT_IN_FINEST_LEVEL[subject as PolicySubject];
    if (!builtIn) {
      throw new Error(`HUB_STATISTICS_FINEST_LEVELS: "${subject}" is not a subject with statistics (${Object.keys(BUILT_IN_FINEST_LEVEL).join(', ')})`);
    }
    if (!LEVELS.includes(level as RegionLevel)) {
      throw new Error(`HUB_STATISTICS_FINEST_LEVELS entries look like DASHBOARD=DISTRICT (one of ${LEVELS.join(', ')}), got "${part}"`);
    }
    if (depth(level as RegionLevel) > depth(builtIn)) {
      throw new Error(`HUB_STATISTICS_FINEST_LEVELS may only make a level coarser: ${subject} stops at ${builtIn} at the finest, not ${level}`);
    }
    // As HUB_SUBGRAPH_URLS: a subject given twice took whichever level came last.
    if (seen.has(subject)) throw new Error(`HUB_STATISTICS_FINEST_LEVELS names ${subject} twice`);
    seen.add(subject);
    out[subject as PolicySubject] = level as RegionLevel;
  }
  return out;
}

function statistics(env: Env): StatisticsConfig {
  const refreshSeconds = wholeInRange(env, 'HUB_STATISTICS_REFRESH_SECONDS', 300, 0, 86_400);
  // Below 10 s a refresh at city scale (about 30 s) would always be running.
  if (refreshSeconds > 0 && refreshSeconds < 10) throw new Error(`HUB_STATISTICS_REFRESH_SECONDS must be 0 (no timer) or at least 10, got "${refreshSeconds}"`);
  return {
    suppressionK: wholeInRange(env, 'HUB_SUPPRESSION_K', 5, 2, 1000),
    refreshSeconds,
    finestLevels: finestLevels(env.HUB_STATISTICS_FINEST_LEVELS),
  };
}

/** What production accepts in HUB_JWT_ALGORITHMS: a public key or JWKS verifies these, never a shared secret. */
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Shortest HUB_GATEWAY_SECRET / HUB_AUDIT_KEY production accepts (HS256 and HMAC-SHA256 keys). */
const MIN_SECRET_BYTES = 32;

function isHttpsUrl(raw: string): boolean {
  try {
    return new URL(raw).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The identity provider's key is read when the hub builds its token verifier, after the migrations:
 * a malformed one stopped the boot there with OpenSSL's words alone ("asn1 encoding routines::header
 * too long"), naming no setting, the database already migrated. Neither value is echoed: a private
 * key pasted in place of the public one is a secret.
 *
 * A key is checked against the algorithms too, which are narrowed to those it can verify: an Ed25519
 * key under the default `RS256,ES256`, a P-384 key under `ES256` or an RSA key of 1,024 bits (jose
 * takes 2,048 and more) started a hub that answered every token 401, naming no setting.
 */
function jwtKeySource(publicKeyPem: string | undefined, jwksUrl: string | undefined, algorithms: string[]): string[] {
  if (jwksUrl !== undefined && !URL.canParse(jwksUrl)) throw new Error('HUB_JWKS_URL must be a URL, and is not one');
  if (publicKeyPem === undefined) return algorithms;
  let key: KeyObject | undefined;
  try {
    if (/-----BEGIN PUBLIC KEY-----/.test(publicKeyPem)) key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch {
    key = undefined;
  }
  if (!key) throw new Error('HUB_JWT_PUBLIC_KEY must be a PEM public key (SPKI: "-----BEGIN PUBLIC KEY-----"), and is not one');
  const { modulusLength, namedCurve } = key.asymmetricKeyDetails ?? {};
  if (modulusLength !== undefined && modulusLength < 2048) throw new Error(`HUB_JWT_PUBLIC_KEY is an RSA key of ${modulusLength} bits: tokens are verified with 2048 bits or more`);
  const suited = algorithms.filter((a) => keyAlgorithms(key.asymmetricKeyType, namedCurve).includes(a));
  if (!suited.length) {
    throw new Error(`HUB_JWT_PUBLIC_KEY is a key of type ${key.asymmetricKeyType}${namedCurve ? ` (${namedCurve})` : ''}, which none of HUB_JWT_ALGORITHMS (${algorithms.join(', ')}) verifies`);
  }
  return suited;
}

/** The JWS algorithms a public key of this type (and curve) verifies. */
function keyAlgorithms(type: string | undefined, curve: string | undefined): string[] {
  if (type === 'rsa') return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  if (type === 'rsa-pss') return ['PS256', 'PS384', 'PS512'];
  if (type === 'ec') return ({ prime256v1: ['ES256'], secp384r1: ['ES384'], secp521r1: ['ES512'] } as Record<string, string[]>)[curve ?? ''] ?? [];
  if (type === 'ed25519' || type === 'ed448') return ['EdDSA'];
  return [];
}

function parseSubgraphUrls(raw: string | undefined, production: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [i, pair] of raw.split(',').map((s) => s.trim()).filter(Boolean).entries()) {
    // The URL is everything after the first "=".
    const at = pair.indexOf('=');
    const [name, url] = at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    // An entry is named by its place and subgraph, never quoted: its URL may carry a password
    // (`user:password@`), and the error reaches the log.
    const entry = `entry ${i + 1}${at > 0 && /^[A-Za-z][\w-]*$/.test(name) ? ` (${name})` : ''}`;
    // A host as written: `https:///graphql` parses as the host "graphql".
    if (!name || !url || !/^https?:\/\/[^/?#\s]/.test(url) || !URL.canParse(url)) {
      throw new Error(`HUB_SUBGRAPH_URLS entries look like registry=http://host:port/graphql, and ${entry} does not`);
    }
    // A subgraph server refuses a query string (400), so every fetch to such a URL would fail: refused here.
    if (/[?#]/.test(url)) throw new Error(`HUB_SUBGRAPH_URLS entries take no query string or fragment (a subgraph server refuses them), and ${entry} has one`);
    // A name given twice would quietly send its fetches to whichever URL came last.
    if (Object.hasOwn(out, name)) throw new Error(`HUB_SUBGRAPH_URLS names subgraph "${name}" twice`);
    // The gateway's assertion (who is asking, and why) and the records travel on these requests.
    if (production && !url.startsWith('https://')) throw new Error(`HUB_SUBGRAPH_URLS must use https: in production, and ${entry} does not`);
    out[name] = url;
  }
  return out;
}

/**
 * What the hub sets on each of its sessions itself: `options` carries its `-c` settings (DateStyle,
 * search_path, the requests' time limits, the audit writer's role and synchronous_commit:
 * src/db/session-format.ts, time-limits.ts), the others are its bounds. node-postgres takes a
 * parameter of the URL over the hub's own: an `options` there silently replaced all of the hub's,
 * and a `statement_timeout` there, sent after them, undid the requests' bound.
 */
const HUB_SESSION_PARAMETERS = ['options', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'query_timeout', 'application_name'];

/**
 * The forms node-postgres reads (pg-connection-string): a Unix socket directory and a database, or a
 * `postgres:`, `postgresql:` or `socket:` URL it can parse (with its own repairs: spaces encoded, an
 * empty host). Anything else it reads relative to a dummy URL: `hub:s3cret@db/hub` connected to the
 * default host and port and sent `3cret@db/hub`, part of the password, as the database's name.
 */
function isConnectionString(raw: string): boolean {
  // The URL parser drops tabs and line breaks: `opt\tions=` is read as `options=`, past the check below.
  if (/[\u0000-\u001F\u007F]/.test(raw)) return false;
  if (raw.startsWith('/')) return true;
  if (!/^(?:postgres(?:ql)?:\/\/|socket:)/i.test(raw)) return false;
  return [raw, encodeURI(raw)].some((s) => URL.canParse(s) || URL.canParse(s.replace('@/', '@___DUMMY___/')));
}

function databaseUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  // Never echoed: it holds the password.
  if (!isConnectionString(raw)) throw new Error('DATABASE_URL must be a postgres:// (or postgresql://) URL with a valid host and port and no control characters, or a Unix socket path, and is not one');
  // The query as node-postgres reads it (pg-connection-string: every parameter a setting).
  const query = raw.includes('?') ? new URLSearchParams(raw.slice(raw.indexOf('?') + 1)) : new URLSearchParams();
  const set = HUB_SESSION_PARAMETERS.filter((name) => query.has(name));
  if (set.length) {
    throw new Error(`DATABASE_URL sets ${set.join(', ')}, which the hub sets on its sessions itself: remove it (a setting the database needs: ALTER ROLE … SET or ALTER DATABASE … SET)`);
  }
  return raw;
}

export function loadConfig(given: Env = process.env): HubConfig {
  const env = withoutBlanks(given);
  // A misspelt production ("Production", "prod") would quietly be development: demo data, lax checks.
  if (env.NODE_ENV !== undefined && !['production', 'development', 'test'].includes(env.NODE_ENV)) {
    throw new Error(`NODE_ENV must be production, development or test, got "${env.NODE_ENV}"`);
  }
  const production = env.NODE_ENV === 'production';
  const jwt = {
    issuer: env.HUB_JWT_ISSUER || 'minor-protection-hub',
    audience: env.HUB_JWT_AUDIENCE || 'minor-protection-hub',
    publicKeyPem: env.HUB_JWT_PUBLIC_KEY || undefined,
    jwksUrl: env.HUB_JWKS_URL || undefined,
    algorithms: (env.HUB_JWT_ALGORITHMS ?? 'RS256,ES256').split(',').map((s) => s.trim()),
    maxTokenAgeSeconds: wholeInRange(env, 'HUB_TOKEN_MAX_AGE_SECONDS', 43_200, 60, 604_800),
  };
  if (production && !jwt.publicKeyPem && !jwt.jwksUrl) {
    throw new Error('NODE_ENV=production needs HUB_JWT_PUBLIC_KEY or HUB_JWKS_URL: the dev HS256 secret is not for production');
  }
  if (production && jwt.jwksUrl && !isHttpsUrl(jwt.jwksUrl)) {
    throw new Error(`HUB_JWKS_URL must be an https: URL in production (the key set decides whose tokens are accepted), got "${jwt.jwksUrl}"`);
  }
  const symmetricOrUnknown = jwt.algorithms.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (production && symmetricOrUnknown.length) {
    throw new Error(
      `HUB_JWT_ALGORITHMS takes only asymmetric algorithms in production (${ASYMMETRIC_ALGORITHMS.join(', ')}), got ${symmetricOrUnknown.map((a) => `"${a}"`).join(', ')}`,
    );
  }
  jwt.algorithms = jwtKeySource(jwt.publicKeyPem, jwt.jwksUrl, jwt.algorithms);
  const subgraphUrls = parseSubgraphUrls(env.HUB_SUBGRAPH_URLS, production);
  // Far above the slowest statements of allowed requests on the 1M-minor bench data set (a few
  // hundred ms: the largest statistics tables, bench/RESULTS.md), below a client's or a proxy's
  // patience. Migrations, seeding and the statistics refresh run without it (openDatabase).
  const statementTimeoutMs = wholeInRange(env, 'HUB_STATEMENT_TIMEOUT_MS', 15_000, 1_000, 300_000);
  const subgraphTimeoutMs = wholeInRange(env, 'HUB_SUBGRAPH_TIMEOUT_MS', statementTimeoutMs + REPLY_MARGIN_MS + 1_000, 1_000, 600_000);
  const workflowConfig = workflow(env, production);
  // A check answers no earlier than this, and a subgraph's answer past its budget is dropped: a check
  // made, counted against the employer and told to no one. Half the budget is left for the check's work.
  if (workflowConfig.employmentCheckMinMs * 2 > subgraphTimeoutMs) {
    throw new Error(`HUB_EMPLOYMENT_CHECK_MIN_MS (${workflowConfig.employmentCheckMinMs}) must be at most half of HUB_SUBGRAPH_TIMEOUT_MS (${subgraphTimeoutMs})`);
  }
  if (production && !env.HUB_AUDIT_KEY) throw new Error('NODE_ENV=production needs HUB_AUDIT_KEY (HMAC key for audited variable values)');
  for (const name of ['HUB_AUDIT_KEY', 'HUB_GATEWAY_SECRET']) {
    const value = env[name];
    // Both are used as the UTF-8 bytes of the text given (src/config/secrets.ts).
    if (production && value && Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
      throw new Error(`${name} must be at least ${MIN_SECRET_BYTES} bytes in production, e.g. \`openssl rand -base64 32\``);
    }
  }
  return {
    production,
    port: port(env, 'PORT', 4000),
    databaseUrl: databaseUrl(env.DATABASE_URL),
    dataDir: path.resolve(env.HUB_DATA_DIR || '.hub'),
    embeddedPgPort: port(env, 'HUB_EMBEDDED_PG_PORT', 54329, 1),
    statementTimeoutMs,
    // Below Kubernetes' 30 s between SIGTERM and SIGKILL, leaving time to close the pools; above
    // the statement timeout, so that a request waiting on the database ends on its own first.
    shutdownGraceMs: wholeInRange(env, 'HUB_SHUTDOWN_GRACE_MS', 20_000, 0, 120_000),
    // A subgraph bounds each of its waits on the database by the statement limit and answers
    // DATABASE_UNAVAILABLE then, or REPLY_MARGIN_MS later for a reply that never came: that answer,
    // clean and not in doubt, should reach the gateway before the gateway gives up on it; 1 s more
    // for the rest of the request's work and the way back. A fetch of several waits (aliased
    // mutations) can outlast it: the subgraph is sent this limit and commits nothing past it. No audit write of the subgraph's is
    // waited for: the gateway writes the request's event after the fetch (a workflow process
    // audits only its webhook deliveries, from a job). By default 17 s, below the shutdown grace,
    // so that a stop still sees the fetch end and its event written. At most 10 minutes, beyond
    // any statement limit.
    subgraphTimeoutMs,
    // A client on a slow network still takes some of its answer every few seconds; one that takes
    // nothing for a minute has stopped reading (or gone without closing).
    answerStallMs: wholeInRange(env, 'HUB_ANSWER_STALL_MS', 60_000, 1_000, 600_000),
    // Each connection holds a socket, its buffers and a keep-alive timer for 65 s after its last
    // answer: without a bound, a client opening connections by the hundred thousand took memory
    // and file descriptors the database's and the audit trail's connections need.
    maxConnections: wholeInRange(env, 'HUB_MAX_CONNECTIONS', 1_000, 10, 100_000),
    seedDemo: seedDemo(env, production),
    jwt,
    subgraphUrls,
    gatewaySecret: env.HUB_GATEWAY_SECRET || undefined,
    benchDisable: benchDisable(env.HUB_BENCH_DISABLE, production),
    audit: {
      key: env.HUB_AUDIT_KEY || undefined,
      // At least 1 s: settling a lost batch waits up to 500 ms for its session to end (audit.writer.ts).
      timeoutMs: wholeInRange(env, 'HUB_AUDIT_TIMEOUT_MS', 5_000, 1_000, 60_000),
      anchorSeconds: wholeInRange(env, 'HUB_AUDIT_ANCHOR_SECONDS', 300, 0, 86_400),
      anomalies: {
        distinctMinors: positiveCount(env, 'HUB_ANOMALY_DISTINCT_MINORS', 50),
        // A burst of reads or refusals: a week is far beyond one, and a number an interval holds.
        windowMinutes: positive(env, 'HUB_ANOMALY_WINDOW_MINUTES', 10, WEEK_MINUTES),
        forbiddenAttempts: positiveCount(env, 'HUB_ANOMALY_FORBIDDEN_ATTEMPTS', 5),
        workingHours: hours(env.HUB_ANOMALY_WORKING_HOURS),
        utcOffsetHours: utcOffset(env.HUB_ANOMALY_UTC_OFFSET),
        unusualPurposeShare: positive(env, 'HUB_ANOMALY_UNUSUAL_PURPOSE_SHARE', 0.05, 1),
      },
    },
    // Above the largest legitimate requests (about 325,000: a district's grids × categories table;
    // 208,000: a page of 1000 children with 5 of each of every department's lists), fifty times below the
    // 2000 pages of children that once exhausted the hub's memory.
    maxQueryCost: wholeInRange(env, 'HUB_MAX_QUERY_COST', 500_000, 1_000, 100_000_000),
    workflow: workflowConfig,
    statistics: statistics(env),
  };
}
