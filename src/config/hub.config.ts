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
  };
}
