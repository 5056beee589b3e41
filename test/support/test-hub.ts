import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client, type Pool } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Department, PolicySubject, Principal, Role } from '../../src/auth/principal';
import { signDevToken } from '../../src/auth/token.service';
import { HubConfig, loadConfig } from '../../src/config/hub.config';
import { gatewaySecret } from '../../src/config/secrets';
import { ASSERTION_HEADER, signAssertion } from '../../src/gateway/gateway-assertion';
import { Hub, startHub } from '../../src/server/hub.server';
import { startSubgraphServer, SubgraphServer } from '../../src/server/subgraph.server';
import { SUBGRAPHS } from '../../src/subgraphs';
import { DEMO_ROOT_REGION } from '../../src/subgraphs/registry/registry.constants';
import { refuseConnectionsInsideTransactions } from './pool-guard';
import { TEMPLATE_DB } from './test-env';

export const DEFAULT_PURPOSE = { 'x-purpose': 'CASE_HANDLING; test' };

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface TokenOptions {
  role?: Role;
  region?: string;
  user?: string;
  expiresIn?: number;
}

export interface TestHub {
  hub: Hub;
  config: HubConfig;
  /** A database of this test file's own, cloned from the seeded template. */
  databaseUrl: string;
  token(department: Department, opts?: TokenOptions): Promise<string>;
  /** POST /graphql with a default purpose (`x-purpose: CASE_HANDLING`); pass headers to override. */
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<T>>;
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** A token of a policy subject: a department's officer, or a role of civil affairs (AUDITOR, DASHBOARD, …). */
export function subjectToken(t: TestHub, subject: PolicySubject, opts: TokenOptions = {}): Promise<string> {
  return Object.values(Department).includes(subject as Department)
    ? t.token(subject as Department, opts)
    : t.token(Department.CIVIL_AFFAIRS, { ...opts, role: subject as Role });
}

/** Creates a fresh database from the template; returns its URL. */
export async function cloneTemplateDatabase(): Promise<string> {
  const base = process.env.HUB_TEST_PG_URL;
  if (!base) throw new Error('HUB_TEST_PG_URL missing: run the tests through jest (global setup)');
  const name = `t_${randomBytes(6).toString('hex')}`;
  // The URL ends in the socket directory (`?host=`), after the database.
  const on = (database: string) => {
    const u = new URL(base);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const admin = new Client({ connectionString: on('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  return on(name);
}

/** Runs `statements` on the database of `url` as its administrator would; `DB` stands for its name. */
export async function asAdministrator(url: string, statements: string[]): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of statements) await c.query(s.replace(/\bDB\b/g, new URL(url).pathname.slice(1)));
  } finally {
    await c.end();
  }
}

/** A clone of the template database after its administrator ran `statements` on it (`DB` its name). */
export async function databaseWith(statements: string[]): Promise<string> {
  const url = await cloneTemplateDatabase();
  await asAdministrator(url, statements);
  return url;
}

export function testConfig(overrides: Partial<HubConfig> & { env?: Record<string, string> } = {}): HubConfig {
  const { env = {}, ...rest } = overrides;
  return {
    // No timer of its own (statistics refresh, audit anchor, workflow jobs): a test runs a pass when it
    // means to (refreshStatistics, runEscalations, …), and one firing mid-test, which a slow machine
    // makes likely, adds statements and writes the test did not ask for.
    ...loadConfig({
      HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR,
      PORT: '0',
      HUB_SEED_DEMO: 'false',
      HUB_STATISTICS_REFRESH_SECONDS: '0',
      HUB_AUDIT_ANCHOR_SECONDS: '0',
      HUB_WORKFLOW_JOB_INTERVAL_MS: '0',
      ...env,
    }),
    ...rest,
  };
}

/** Starts the whole hub (gateway + subgraphs in-process) on its own database and a free port. */
export async function startTestHub(overrides: Partial<HubConfig> & { env?: Record<string, string> } = {}): Promise<TestHub> {
  const databaseUrl = overrides.databaseUrl ?? (await cloneTemplateDatabase());
  const config = testConfig({ ...overrides, databaseUrl });
  const hub = await startHub(config);
  refuseConnectionsInsideTransactions(hub.db.ds);
  return {
    hub,
    config,
    databaseUrl,
    token: (department, opts = {}) =>
      signDevToken(config, {
        department,
        role: opts.role ?? Role.OFFICER,
        region: opts.region ?? DEMO_ROOT_REGION,
        userId: opts.user ?? `${department.toLowerCase()}-test`,
        expiresIn: opts.expiresIn,
      }),
    gql: (token, query, variables, headers = DEFAULT_PURPOSE) => postGraphQL(hub.url, token, query, variables, headers),
    sql: (text, params) => hub.db.ds.query(text, params),
    stop: () => hub.stop(),
  };
}

/**
 * A hub in distributed mode with every subgraph served alone (`npm run subgraph`, each on its own
 * port) on one clone of the template; `stop` stops the hub, then the subgraphs.
 */
export async function startDistributedTestHub(env: Record<string, string> = {}): Promise<TestHub> {
  const databaseUrl = await cloneTemplateDatabase();
  const secret = randomBytes(32).toString('hex');
  const config = testConfig({ databaseUrl, gatewaySecret: secret, env });
  const servers: SubgraphServer[] = [];
  for (const s of SUBGRAPHS) servers.push(await startSubgraphServer(s.name, config, 0));
  const t = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: Object.fromEntries(SUBGRAPHS.map((s, i) => [s.name, servers[i].url])), env });
  return {
    ...t,
    stop: async () => {
      await t.stop();
      for (const server of servers) await server.stop();
    },
  };
}

export async function postGraphQL<T = any>(
  url: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { status: res.status, ...body };
}

/**
 * A subgraph served alone (distributed mode), asked as the gateway asks it: the request with the
 * gateway's assertion for `principal`, bound to that very request.
 */
export async function postAsGateway<T = any>(
  config: HubConfig,
  url: string,
  subgraph: string,
  principal: Principal,
  query: string,
  variables: Record<string, unknown>,
): Promise<GqlResult<T>> {
  const assertion = await signAssertion(gatewaySecret(config), subgraph, { principal, requestId: randomUUID() }, { query, variables });
  return postGraphQL(url, null, query, variables, { [ASSERTION_HEADER]: assertion });
}

/** A request as any HTTP client may send it: fetch sends no body with a GET, a proxy passes one on. */
export function sendRaw(url: string, method: string, headers: Record<string, string>, body: string): Promise<{ status: number; allow?: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const errorCodes = (r: GqlResult) => (r.errors ?? []).map((e) => e.extensions?.code);

/** How many connections the hub's pool holds at most: a burst of requests larger than it must still all be answered. */
export const poolSize = (t: TestHub): number => ((t.hub.db.ds.driver as PostgresDriver).master as Pool).options.max;

/** Every statement the hub sends while `run` runs (each still counted): its text and parameters. */
export async function statementsDuring(t: TestHub, run: () => Promise<void>): Promise<{ query: string; parameters: unknown[] }[]> {
  const sent: { query: string; parameters: unknown[] }[] = [];
  const counter = t.hub.db.statements as unknown as { count: number; logQuery: (query: string, parameters?: unknown[]) => void };
  const spy = jest.spyOn(counter, 'logQuery').mockImplementation((query, parameters) => {
    counter.count++;
    sent.push({ query, parameters: parameters ?? [] });
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return sent;
}

/** The parameters of every statement the hub sends while `run` runs: what an enum list filter reaches the database as. */
export async function statementParameters(t: TestHub, run: () => Promise<void>): Promise<unknown[][]> {
  return (await statementsDuring(t, run)).map((s) => s.parameters);
}

/**
 * Two hubs on one database, the second's clock 10 s behind the first's: two gateways of one
 * deployment (distributed mode accepts 15 s), for a step taken on one right after another's. With
 * `distributed`, the one behind serves every subgraph alone. `stop` stops both, the one whose
 * database it is last.
 */
export async function startHubsApart(distributed = false): Promise<{ ahead: TestHub; behind: TestHub; stop: () => Promise<void> }> {
  const BEHIND = { HUB_CLOCK_OFFSET_MS: '-10000' };
  if (distributed) {
    const behind = await startDistributedTestHub(BEHIND);
    const ahead = await startTestHub({ databaseUrl: behind.databaseUrl });
    return {
      ahead,
      behind,
      stop: async () => {
        await ahead.stop();
        await behind.stop();
      },
    };
  }
  const ahead = await startTestHub();
  const behind = await startTestHub({ databaseUrl: ahead.databaseUrl, env: BEHIND });
  return {
    ahead,
    behind,
    stop: async () => {
      await behind.stop();
      await ahead.stop();
    },
  };
}
