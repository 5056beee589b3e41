import path from 'node:path';

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
  };
  /** Distributed mode: subgraph name → URL. Empty: every subgraph runs in-process. */
  subgraphUrls: Record<string, string>;
  /** Secret the gateway signs subgraph requests with (distributed mode); dev default lives in `dataDir`. */
  gatewaySecret?: string;
  /**
   * Benchmark-only switches (HUB_BENCH_DISABLE=policy,audit) to measure what each protection
   * costs. Refused in production; the hub prints a warning when one is set.
   */
  benchDisable: { policy: boolean; audit: boolean };
  audit: {
    /** Key of the HMAC over variable values in audit events; dev default lives in `dataDir`. */
    key?: string;
    anomalies: AnomalyThresholds;
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

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!['true', 'false', '1', '0'].includes(raw)) throw new Error(`${name} must be true or false, got "${raw}"`);
  return raw === 'true' || raw === '1';
}

function positive(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${name} must be a number in (0, ${max}], got "${raw}"`);
  return n;
}

function hours(raw: string | undefined): [number, number] {
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(raw ?? '8-20');
  if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 24) throw new Error(`HUB_ANOMALY_WORKING_HOURS must look like 8-20, got "${raw}"`);
  return [Number(m[1]), Number(m[2])];
}

function benchDisable(raw: string | undefined, production: boolean): HubConfig['benchDisable'] {
  const parts = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (p !== 'policy' && p !== 'audit') throw new Error(`HUB_BENCH_DISABLE takes policy and/or audit, got "${p}"`);
  if (parts.length && production) throw new Error('HUB_BENCH_DISABLE is for benchmarks only and refused with NODE_ENV=production');
  return { policy: parts.includes('policy'), audit: parts.includes('audit') };
}

function parseSubgraphUrls(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, url] = pair.split('=');
    if (!name || !url || !/^https?:\/\//.test(url)) {
      throw new Error(`HUB_SUBGRAPH_URLS entries look like registry=http://host:port/graphql, got "${pair}"`);
    }
    out[name] = url;
  }
  return out;
}

export function loadConfig(env: Env = process.env): HubConfig {
  const production = env.NODE_ENV === 'production';
  const jwt = {
    issuer: env.HUB_JWT_ISSUER || 'minor-protection-hub',
    audience: env.HUB_JWT_AUDIENCE || 'minor-protection-hub',
    publicKeyPem: env.HUB_JWT_PUBLIC_KEY || undefined,
    jwksUrl: env.HUB_JWKS_URL || undefined,
    algorithms: (env.HUB_JWT_ALGORITHMS || 'RS256,ES256').split(',').map((s) => s.trim()),
  };
  if (production && !jwt.publicKeyPem && !jwt.jwksUrl) {
    throw new Error('NODE_ENV=production needs HUB_JWT_PUBLIC_KEY or HUB_JWKS_URL: the dev HS256 secret is not for production');
  }
  const subgraphUrls = parseSubgraphUrls(env.HUB_SUBGRAPH_URLS);
  if (production && !env.HUB_AUDIT_KEY) throw new Error('NODE_ENV=production needs HUB_AUDIT_KEY (HMAC key for audited variable values)');
  if (production && Object.keys(subgraphUrls).length > 0 && !env.HUB_GATEWAY_SECRET) {
    throw new Error('Distributed mode in production needs HUB_GATEWAY_SECRET');
  }
  return {
    production,
    port: int(env, 'PORT', 4000),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.HUB_DATA_DIR || '.hub'),
    embeddedPgPort: int(env, 'HUB_EMBEDDED_PG_PORT', 54329),
    seedDemo: bool(env, 'HUB_SEED_DEMO', true),
    jwt,
    subgraphUrls,
    gatewaySecret: env.HUB_GATEWAY_SECRET || undefined,
    benchDisable: benchDisable(env.HUB_BENCH_DISABLE, production),
    audit: {
      key: env.HUB_AUDIT_KEY || undefined,
      anomalies: {
        distinctMinors: positive(env, 'HUB_ANOMALY_DISTINCT_MINORS', 50),
        windowMinutes: positive(env, 'HUB_ANOMALY_WINDOW_MINUTES', 10),
        forbiddenAttempts: positive(env, 'HUB_ANOMALY_FORBIDDEN_ATTEMPTS', 5),
        workingHours: hours(env.HUB_ANOMALY_WORKING_HOURS),
        utcOffsetHours: Number(env.HUB_ANOMALY_UTC_OFFSET ?? 8),
        unusualPurposeShare: positive(env, 'HUB_ANOMALY_UNUSUAL_PURPOSE_SHARE', 0.05, 1),
      },
    },
  };
}
