/**
 * npm run bench [-- --minors 1000000 --duration 10 --runs 3 --connections 10 --high-load 50 --soak 60 --pg-port 54700]
 *
 * One run, one machine, one data set: the hub against PostGraphile (peer) and plain pg (floor),
 * plus the hub's own toggles (policy, audit, gateway) and, in front of the same remote subgraphs,
 * @apollo/gateway against Hive Gateway (`--only gateways`). Writes bench/RESULTS.md.
 */
import 'reflect-metadata';
import autocannon from 'autocannon';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { signDevToken } from '../src/auth/token.service';
import { decimalFlag, parseArgs } from '../src/cli/args';
import { loadConfig } from '../src/config/hub.config';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { ASSERTION_HEADER, signAssertion } from '../src/gateway/gateway-assertion';
import { gatewaySecret } from '../src/config/secrets';
import { answerRows, Call, FLOOR, HUB, loadAnswered, POSTGRAPHILE, Sample } from './scenarios';

const ROOT = path.join(__dirname, '..');
const BENCH_DIR = path.join(ROOT, '.bench');
const HUB_DATA = path.join(BENCH_DIR, 'hub');
const REGION = '330102';

const { flags } = parseArgs(process.argv.slice(2), ['minors', 'duration', 'runs', 'connections', 'high-load', 'soak', 'only', 'pg-port']);
/** What `--only` may name; one it does not know would measure nothing and write an empty RESULTS.md over the last. */
const PARTS = ['s1', 's2', 's3', 's4', 's5', 'soak', 'gateways'];
const ONLY = flags.only?.split(',');
const unknown = ONLY?.filter((part) => !PARTS.includes(part));
if (unknown?.length) throw new Error(`--only takes ${PARTS.join(', ')} (comma-separated), not ${unknown.join(', ')}`);
const MINORS = decimalFlag(flags.minors, 1_000_000);
const DURATION = decimalFlag(flags.duration, 10);
const RUNS = decimalFlag(flags.runs, 3);
const CONNECTIONS = decimalFlag(flags.connections, 10);
// Scenario 1 is measured a second time with more clients (0: not): a group commit carries the events
// of the requests waiting on it, so what a durable event costs per request depends on how many wait.
const HIGH_LOAD = decimalFlag(flags['high-load'], 50);
const S1_LOADS = HIGH_LOAD ? [CONNECTIONS, HIGH_LOAD] : [CONNECTIONS];
const SOAK = decimalFlag(flags.soak, 60);
/** The benchmark's own Postgres (under .bench/db): another checkout's benchmark holding the port is refused by name, so a second one takes another. */
const PG_PORT = decimalFlag(flags['pg-port'], 54700);
for (const [flag, value] of Object.entries({ minors: MINORS, duration: DURATION, runs: RUNS, connections: CONNECTIONS, 'pg-port': PG_PORT })) {
  if (!(value >= 1)) throw new Error(`--${flag} is a whole number above 0, in decimal digits`);
}
for (const [flag, value] of Object.entries({ 'high-load': HIGH_LOAD, soak: SOAK })) {
  if (Number.isNaN(value)) throw new Error(`--${flag} is a whole number (0: not measured), in decimal digits`);
}
// Asked for the soak alone and told to skip it, the run would measure nothing and write an empty RESULTS.md over the last.
if (ONLY?.every((part) => part === 'soak') && SOAK === 0) throw new Error('--only soak with --soak 0 measures nothing: give the soak a length, or name another part');
const SHARED_BUFFERS = '3GB';

interface Server {
  name: string;
  url: string;
  proc: ChildProcess;
}

interface Measurement {
  scenario: string;
  /** The load generator's connections (concurrent clients). */
  connections: number;
  server: string;
  rps: number;
  p50: number;
  p99: number;
  /** Machine CPU per request, µs (median over the runs). */
  cpu: number;
  /** Audit events appended per group commit (median over the runs); null if the server appended none. */
  eventsPerCommit: number | null;
  noise: number;
  statements: number | null;
  /** Requests of the runs not answered: not 2xx, GraphQL errors, nothing answered (`loadAnswered`), or no response. */
  failed: number;
  rssMb: number;
  runs: number[];
  /** Measured together with other servers, round by round (`measureTogether`): the group's key. */
  paired?: string;
}

const log = (m: string) => process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
interface Ratio {
  value: number;
  /** Lowest and highest of the rounds' ratios, for servers measured together. */
  range?: [number, number];
  /** Requests of either side not answered: their rate is no answer's. */
  failed?: number;
}

// Of an even count, the mean of the two middle values: the upper one alone made the ratio of two
// rounds (`--runs 2`) the better round's, and its verdict too kind.
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
};

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function waitReady(url: string, probe: () => Promise<Response>, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (proc.exitCode !== null) throw new Error(`${url}: process exited with ${proc.exitCode}`);
    try {
      if ((await probe()).ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(250);
  }
  throw new Error(`${url} did not become ready`);
}

let nextPort = 4700;
/** Servers running, stopped by `retire` or, whatever happens, when the run ends. */
const servers: Server[] = [];

/** Whether a listener can be opened on the port (as the servers open theirs: every address). */
const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });

/**
 * The next port nothing listens on. A port taken by another process (another checkout's benchmark)
 * made the server started on it fail, while the readiness probe and every load reached the other
 * process: its figures were reported as this server's.
 */
async function takePort(): Promise<number> {
  while (!(await portFree(nextPort))) nextPort++;
  return nextPort++;
}

async function start(name: string, cmd: string, args: string[] | ((port: number) => string[]), env: Record<string, string>, probePath: string, probeBody?: unknown): Promise<Server> {
  const port = await takePort();
  const argv = typeof args === 'function' ? args(port) : args;
  const proc = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const server = { name, url: base, proc };
  servers.push(server);
  await waitReady(base, () => fetch(base + probePath, probeBody ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(probeBody) } : {}), proc);
  return server;
}

async function stop(s: Server): Promise<void> {
  s.proc.kill('SIGTERM');
  await new Promise((r) => (s.proc.exitCode !== null ? r(null) : s.proc.once('exit', r)));
}

async function retire(s: Server): Promise<void> {
  servers.splice(servers.indexOf(s), 1);
  await stop(s);
}

/**
 * A load's autocannon result, the machine's busy CPU time per request during it (µs), the audit
 * events appended per group commit (null when the server appended none), and the requests not
 * answered (not 2xx, GraphQL errors, nothing answered, or no response at all).
 */
type Run = autocannon.Result & { cpuPerRequest: number; eventsPerCommit: number | null; failed: number };

/**
 * Busy CPU time of the whole machine so far, in µs: user, nice, system, irq, softirq and steal of
 * /proc/stat's first line, in USER_HZ (100 per second on Linux). Every process counts — the server,
 * Postgres, the load generator — which is what a request costs on a machine they share.
 */
function machineBusyMicros(): number {
  const [user, nice, system, , , irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * 10_000;
}

/** How far the audit trail has got: events appended, and the group commits (INSERTs) that appended them. */
async function trailPosition(pool: Pool): Promise<{ events: number; commits: number }> {
  const { rows } = await pool.query(`SELECT (SELECT coalesce(max(seq), 0) FROM audit.event) AS events,
    (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'INSERT INTO audit.event%') AS commits`);
  return { events: Number(rows[0].events), commits: Number(rows[0].commits) };
}

/** A server with the request it answers in a scenario and the headers it is sent. */
interface Contender {
  server: Server;
  call: Call;
  /** Given the body, for a server whose headers depend on it (a subgraph's assertion is bound to its request). */
  headers: (body?: unknown) => Promise<Record<string, string>>;
  /** The headers depend on the body and are good for one request: `load` makes them per request in advance. */
  perBody?: boolean;
}

/**
 * Requests per connection and second `load` signs in advance for a contender whose headers are
 * bound to one request (a subgraph accepts each gateway assertion once): more than any server here
 * answers, so that none is sent twice — a replayed one is refused, and would count as a failure.
 */
const BOUND_PER_CONNECTION_SECOND = 800;

async function load({ server, call, headers, perBody: bound }: Contender, sample: Sample, pool: Pool, seconds: number, connections: number): Promise<Run> {
  let i = 0;
  const h = { 'content-type': 'application/json', ...(await headers()) };
  // Bodies and headers per request, made before the load (autocannon's setupRequest cannot wait);
  // none for a server whose headers are fixed.
  const signed: { body: string; headers: Record<string, string> }[] = [];
  if (bound) {
    for (let k = 0; k < BOUND_PER_CONNECTION_SECOND * connections * seconds; k++) {
      const body = call.body(sample, k);
      signed.push({ body: JSON.stringify(body), headers: { ...h, ...(await headers(body)) } });
    }
  }
  const trail = await trailPosition(pool);
  // autocannon counts a 200 carrying GraphQL errors, or holding nothing, as served: each answer's body is looked at.
  let refused = 0;
  const busy = machineBusyMicros();
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: call.path,
        headers: h,
        setupRequest: (req) => {
          const k = i++;
          return signed.length ? { ...req, ...signed[k % signed.length] } : { ...req, body: JSON.stringify(call.body(sample, k)) };
        },
        onResponse: (status, body) => {
          if (status < 200 || status >= 300 || !loadAnswered(body)) refused++;
        },
      },
    ],
  });
  const cpuPerRequest = (machineBusyMicros() - busy) / Math.max(1, result.requests.total);
  await sleep(250); // the group commits of the last requests land after autocannon stops: count them here, not in the next run
  const after = await trailPosition(pool);
  const commits = after.commits - trail.commits;
  return Object.assign(result, { cpuPerRequest, eventsPerCommit: commits > 0 ? (after.events - trail.events) / commits : null, failed: refused + result.errors });
}

/** One request of a scenario, its answer checked (`answerRows`): the records it holds. */
async function ask(server: Server, call: Call, sample: Sample, headers: Contender['headers'], i: number): Promise<string[]> {
  const sent = call.body(sample, i);
  const res = await fetch(server.url + call.path, { method: 'POST', headers: { 'content-type': 'application/json', ...(await headers(sent)) }, body: JSON.stringify(sent) });
  const text = await res.text();
  try {
    return answerRows(call, res.status, text);
  } catch (e) {
    throw new Error(`${server.name} ${call.path}, request ${i}: ${(e as Error).message}`);
  }
}

/** Requests of a scenario checked before it is measured, spread over the sample's children and grids. */
const CHECKED = 12;
/** What the first server checked in a scenario answered, by request: every other server of it must answer the same. */
const answered = new Map<string, string[][]>();

/**
 * Checks the server answers the scenario's requests with records, and the same records as the
 * other servers of the scenario (scenario 5 aside: the hub's summaries suppress small counts, the
 * floor's GROUP BY does not).
 */
async function check(scenario: string, server: Server, call: Call, sample: Sample, headers: Contender['headers']): Promise<void> {
  const spread = Math.max(sample.ids.length, sample.cases.length, sample.grids.length);
  const indices = Array.from({ length: CHECKED }, (_, k) => Math.floor((k * spread) / CHECKED));
  const got: string[][] = [];
  for (const i of indices) got.push(await ask(server, call, sample, headers, i));
  if (scenario.startsWith('5')) return;
  const first = answered.get(scenario);
  if (!first) answered.set(scenario, got);
  else
    got.forEach((rows, k) => {
      if (rows.join('\n') !== first[k].join('\n'))
        throw new Error(`${server.name} answers request ${indices[k]} of ${scenario} with other records than the first server checked: ${rows.slice(0, 3).join('; ')} … against ${first[k].slice(0, 3).join('; ')} …`);
    });
}

async function statementsPerRequest(pool: Pool, server: Server, call: Call, sample: Sample, headers: Contender['headers']): Promise<number | null> {
  const n = 20;
  // Each answer checked: statements counted for refusals would be no figure of the scenario.
  const send = (i: number) => ask(server, call, sample, headers, i);
  // One request first: a connection the server's pools open again after a pause (and its set-up
  // statements) belongs to no request. Then the previous load's last audit group commits, which
  // land after its last response, are let through before counting.
  await send(n);
  await sleep(1000);
  await pool.query('SELECT pg_stat_statements_reset()');
  for (let i = 0; i < n; i++) await send(i);
  await sleep(200); // audit group commits land after the response
  const [{ calls }] = (await pool.query(`SELECT coalesce(sum(calls), 0)::int AS calls FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'`)).rows;
  return Math.round((calls / n) * 10) / 10;
}

/** Checks the server answers, counts its statements per request and warms it up (JIT, plan caches, pools). */
async function prepare(scenario: string, contender: Contender, sample: Sample, pool: Pool, connections: number): Promise<number | null> {
  const { server, call, headers } = contender;
  await check(scenario, server, call, sample, headers);
  const statements = await statementsPerRequest(pool, server, call, sample, headers);
  await load(contender, sample, pool, 2, connections);
  return statements;
}

function watchRss(server: Server): { max: () => number; stop: () => void } {
  let max = 0;
  const sampler = setInterval(() => (max = Math.max(max, rssMb(server.proc.pid!))), 250);
  return { max: () => max, stop: () => clearInterval(sampler) };
}

function summarise(scenario: string, connections: number, server: Server, runs: Run[], statements: number | null, rss: number, paired?: string): Measurement {
  const bad = runs.reduce((s, r) => s + r.failed, 0);
  if (bad) log(`  ! ${server.name}/${scenario}: ${bad} failed requests`);
  const rps = runs.map((r) => r.requests.average);
  const commits = runs.flatMap((r) => (r.eventsPerCommit === null ? [] : [r.eventsPerCommit]));
  const m: Measurement = {
    scenario,
    connections,
    server: server.name,
    rps: median(rps),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    cpu: median(runs.map((r) => r.cpuPerRequest)),
    eventsPerCommit: commits.length ? median(commits) : null,
    noise: rps.length > 1 ? (Math.max(...rps) - Math.min(...rps)) / median(rps) : 0,
    statements,
    failed: bad,
    rssMb: Math.round(rss),
    runs: rps,
    paired,
  };
  const events = m.eventsPerCommit === null ? '' : `  ${m.eventsPerCommit.toFixed(1)} events/commit`;
  log(`  ${scenario.padEnd(22)} ${String(connections).padStart(3)} conn  ${server.name.padEnd(22)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  ${m.cpu.toFixed(0)} µs CPU/req  ${m.statements ?? '-'} SQL/req  ${m.rssMb} MB${events}`);
  return m;
}

/**
 * Servers compared with each other (a protection ON and OFF, the hub and its peer), measured
 * together: all of them up at once and their runs interleaved, each server once per round in an
 * order rotated every round. A machine that slows down during the benchmark — shared, as this one
 * is — then slows each of them alike, and their ratios are taken round by round (see `ratio` in
 * `report`).
 */
async function measureTogether(scenario: string, group: Contender[], sample: Sample, pool: Pool, connections = CONNECTIONS): Promise<Measurement[]> {
  const statements: (number | null)[] = [];
  for (const c of group) statements.push(await prepare(scenario, c, sample, pool, connections));
  const rss = group.map((c) => watchRss(c.server));
  const runs: Run[][] = group.map(() => []);
  try {
    for (let r = 0; r < RUNS; r++) {
      for (let k = 0; k < group.length; k++) {
        const j = (r + k) % group.length;
        runs[j].push(await load(group[j], sample, pool, DURATION, connections));
      }
    }
  } finally {
    for (const w of rss) w.stop();
  }
  const key = group.length > 1 ? `${scenario} (${connections}): ${group.map((c) => c.server.name).join(' | ')}` : undefined;
  return group.map((c, j) => summarise(scenario, connections, c.server, runs[j], statements[j], rss[j].max(), key));
}

async function measure(
  scenario: string,
  server: Server,
  call: Call,
  sample: Sample,
  pool: Pool,
  headers: Contender['headers'],
  connections = CONNECTIONS,
  perBody = false,
): Promise<Measurement> {
  const [m] = await measureTogether(scenario, [{ server, call, headers, perBody }], sample, pool, connections);
  return m;
}

async function main() {
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  log(`bench: ${MINORS} minors, ${RUNS} × ${DURATION}s runs, ${CONNECTIONS} connections${HIGH_LOAD ? ` (scenario 1 also ${HIGH_LOAD})` : ''}`);
  // The whole data set (2.6 GB at 1M minors) fits in shared buffers and is read into them before
  // any measurement: on this VM pages outside them come back from a slow virtual disk, and which
  // server happened to run first (cold) decided its figures.
  const pg = await startEmbeddedPostgres(path.join(BENCH_DIR, 'db'), PG_PORT, 'hub', [
    '-c',
    'shared_preload_libraries=pg_stat_statements',
    '-c',
    'max_connections=200',
    '-c',
    `shared_buffers=${SHARED_BUFFERS}`,
    // The trail is vacuumed before the measurements instead (below). A vacuum or analyse of it
    // during a run read it from this VM's disk, which serves about 500 random reads a second once
    // a burst is spent, and every audited request's WAL flush queued behind those reads: rounds at
    // 1% of the others in the twenty-fourth run, for the hub and its switches only.
    '-c',
    'autovacuum=off',
  ]);
  const pool = new Pool({ connectionString: pg.url, max: 2 });
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    // A data set of another size, or one loaded before seed:scale wrote department records, is reloaded;
    // so is one in which a child has turned 18 since it was loaded (its youngest are dated from the day
    // of the load, its eldest 30 days short of 18): the hub serves such a child no more, PostGraphile
    // and the floor still do, and the scenarios would measure the hub answering `minor: null`.
    // The slices come compiled (npm run bench builds first): tsx emits no decorator metadata for type-graphql.
    const { SUBGRAPHS } = require(path.join(ROOT, 'dist/src/subgraphs')) as typeof import('../src/subgraphs');
    const firstTables = SUBGRAPHS.flatMap((sl) => (sl.scaleRecords ? [sl.scaleRecords.tables[0].name] : []));
    const loaded = await pool
      .query(
        `SELECT (SELECT count(*) FROM registry.minor) = $1 ${firstTables.map((t) => `AND EXISTS (SELECT 1 FROM ${t})`).join(' ')}
           AND NOT EXISTS (SELECT 1 FROM registry.minor WHERE NOT registry.is_minor(birth_date, now())) AS ok`,
        [MINORS],
      )
      .catch(() => ({ rows: [{ ok: false }] }));
    if (!loaded.rows[0].ok) {
      log(`loading ${MINORS} minors …`);
      // About 100,000 minors per district, so grids hold ~200 children whatever the size.
      const districts = String(Math.max(1, Math.round(MINORS / 100_000)));
      execFileSync('node', ['dist/src/cli/seed-scale.cli.js', '--minors', String(MINORS), '--districts', districts, '--reset', 'true'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: pg.url, HUB_DATA_DIR: HUB_DATA },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    }
    // As autovacuum would have left it: every run appends a million events or more.
    log('vacuuming and analysing the audit trail …');
    await pool.query('VACUUM (ANALYZE) audit.event');
    // Not the audit trail: the scenarios only append to it, and it grows with every run — at 2.5
    // million events it filled the buffers and pushed the registry out of them.
    log('reading the data set into shared buffers …');
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    await pool.query(`SELECT count(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'i', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'audit')`);
    const trail = Number((await pool.query('SELECT coalesce(max(seq), 0) AS n FROM audit.event')).rows[0].n);
    if (!fs.existsSync(path.join(ROOT, 'bench/peer/node_modules'))) {
      log('installing the PostGraphile peer …');
      execFileSync('npm', ['ci', '--prefix', 'bench/peer', '--loglevel=warn'], { cwd: ROOT, stdio: 'inherit' });
    }
    const sample: Sample = {
      ids: (await pool.query(`SELECT id FROM registry.minor WHERE grid_code LIKE '${REGION}%' ORDER BY md5(id::text) LIMIT 2000`)).rows.map((r) => r.id),
      cases: (
        await pool.query(
          `SELECT DISTINCT r.minor_id, md5(r.minor_id::text) FROM workflow.mandatory_report r JOIN registry.minor m ON m.id = r.minor_id
           WHERE m.grid_code LIKE '${REGION}%' ORDER BY md5(r.minor_id::text) LIMIT 2000`,
        )
      ).rows.map((r) => r.minor_id),
      grids: (await pool.query(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '${REGION}%' GROUP BY grid_code HAVING count(*) >= 100 ORDER BY grid_code LIMIT 50`)).rows.map((r) => r.grid_code),
      region: REGION,
    };
    // A district has 500 grids and seed:scale draws each child's grid at random: below about 50,000 minors (--minors) no grid holds a page of 100.
    if (!sample.grids.length) throw new Error(`no grid of ${REGION} with 100 minors: load more minors (--minors 50000 or more)`);
    if (!sample.cases.length) throw new Error('no child with a mandatory report: load more minors');

    const config = loadConfig({ HUB_DATA_DIR: HUB_DATA });
    const token = (department: Department) => signDevToken(config, { department, role: Role.OFFICER, region: REGION, userId: `bench-${department.toLowerCase()}`, expiresIn: 24 * 3600 });
    const police = `Bearer ${await token(Department.POLICE)}`;
    const civil = `Bearer ${await token(Department.CIVIL_AFFAIRS)}`;
    const asPolice = async () => ({ authorization: police, 'x-purpose': 'CASE_HANDLING' });
    const asCivil = async () => ({ authorization: civil, 'x-purpose': 'CASE_HANDLING' });
    const none = async () => ({});

    // Workflow jobs off: their periodic queries would be counted as the requests' statements.
    // Background work (workflow deadlines, the statistics refresh seed:scale already did) would
    // land in some measurements and not others.
    const hubEnv = (disable = '') => ({
      DATABASE_URL: pg.url,
      HUB_DATA_DIR: HUB_DATA,
      HUB_SEED_DEMO: 'false',
      HUB_BENCH_DISABLE: disable,
      HUB_WORKFLOW_JOB_INTERVAL_MS: '0',
      HUB_STATISTICS_REFRESH_SECONDS: '0',
    });
    // The V8 settings `npm start` and `npm run subgraph` run with, and graphql-js without its
    // development checks, as in production (bench/servers/graphql-production.js).
    const NODE_FLAGS = ['--max-old-space-size=512', '--max-semi-space-size=32', '--no-allocation-site-pretenuring', '-r', './bench/servers/graphql-production.js'];
    const startHub = (name: string, disable = '') => start(name, 'node', [...NODE_FLAGS, 'dist/src/main.js'], hubEnv(disable), '/health');
    const results: Measurement[] = [];
    const want = (s: string) => !ONLY || ONLY.includes(s);

    // tsx as a loader of the server's own process: its command line runs the server in a child
    // process, and the RSS sampled was the launcher's (44 MB in every scenario), not the floor's.
    const startFloor = (name: string, recording: boolean) =>
      start(name, 'node', ['--import', 'tsx', 'bench/servers/floor.server.ts'], { DATABASE_URL: pg.url, NODE_ENV: 'production', FLOOR_RECORDING: recording ? '1' : '0' }, '/minor', {
        id: sample.ids[0],
      });

    // The hub with every protection on, and beside it the hub with one protection switched off
    // (bench-only); PostGraphile and the floor, idle until their turn.
    const hub = await startHub('hub');
    const toggles = [hub, await startHub('hub, policy OFF', 'policy'), await startHub('hub, audit OFF', 'audit')];
    const pgl = await start('PostGraphile 4.14', 'node', ['bench/peer/postgraphile.server.js'], { DATABASE_URL: pg.url, NODE_ENV: 'production' }, '/graphql', { query: '{ __typename }' });
    const floor = await startFloor('floor (pg + http)', false);
    if (want('s1')) {
      // Every server scenario 1 compares, measured together: the hub, its switches and the hub
      // without compiled reads (what they answer is scenario 1), PostGraphile, and the floor
      // without and with a durable event (the least any API recording each read pays). Measured
      // one after the other, their ratio moved with whatever the shared machine did in between.
      const general = await startHub('hub, compiled reads OFF', 'compiled');
      const recording = await startFloor('floor + durable event', true);
      const group: Contender[] = [
        ...[...toggles, general].map((server) => ({ server, call: HUB.single, headers: asPolice })),
        { server: pgl, call: POSTGRAPHILE.single, headers: none },
        ...[floor, recording].map((server) => ({ server, call: FLOOR.single, headers: none })),
      ];
      for (const c of S1_LOADS) results.push(...(await measureTogether('1 single child', group, sample, pool, c)));
      await retire(general);
      await retire(recording);
    }
    // Scenario 2: the hub and its switches together; then the hub alone on 3–5 and the page-size series.
    if (want('s2')) results.push(...(await measureTogether('2 page of 100', toggles.map((server) => ({ server, call: HUB.page(100), headers: asCivil })), sample, pool)));
    for (const s of toggles.slice(1)) await retire(s);
    if (want('s3')) results.push(await measure('3 cross-department', hub, HUB.crossDepartment, sample, pool, asCivil));
    if (want('s4')) results.push(await measure('4 federated page', hub, HUB.federatedPage, sample, pool, asCivil));
    if (want('s5')) results.push(await measure('5 aggregate', hub, HUB.aggregate, sample, pool, asCivil));
    const pageStatements: Record<number, number | null> = {};
    for (const first of [10, 100, 1000]) pageStatements[first] = await statementsPerRequest(pool, hub, HUB.page(first), sample, asCivil);
    const soak = { rss: 0, failed: 0 };
    if (SOAK > 0 && want('soak')) {
      const rss = watchRss(hub);
      soak.failed = (await load({ server: hub, call: HUB.page(100), headers: asCivil }, sample, pool, SOAK, CONNECTIONS)).failed;
      rss.stop();
      soak.rss = rss.max();
      log(`  soak ${SOAK}s: max RSS ${soak.rss.toFixed(0)} MB${soak.failed ? `, ! ${soak.failed} failed requests` : ''}`);
    }
    await retire(hub);

    if (want('s1')) {
      const sub = await start('registry subgraph direct', 'node', (port) => [...NODE_FLAGS, 'dist/src/cli/subgraph.cli.js', 'registry', '--port', String(port)], hubEnv(), '/health');
      const secret = gatewaySecret(config);
      // Each assertion is bound to the request it accompanies: one per body.
      const assertion = async (body?: unknown): Promise<Record<string, string>> =>
        body
          ? {
              [ASSERTION_HEADER]: await signAssertion(
                secret,
                'registry',
                { principal: { userId: 'bench', department: Department.POLICE, role: Role.OFFICER, region: REGION }, requestId: 'bench' },
                body as { query: string; variables?: Record<string, unknown> },
              ),
            }
          : {};
      results.push(await measure('1 single child', sub, HUB.single, sample, pool, assertion, CONNECTIONS, true));
      await retire(sub);
    }

    // The gateway alone — @apollo/gateway against Hive Gateway — in front of the same two remote
    // subgraphs (distributed mode). Neither runs the hub's audit, purpose rule or fast path; the
    // subgraphs still authenticate the gateway and apply the policy.
    if (want('gateways')) {
      if (!fs.existsSync(path.join(ROOT, 'bench/gateways/node_modules'))) {
        log('installing Hive Gateway …');
        execFileSync('npm', ['ci', '--prefix', 'bench/gateways', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
      }
      const subgraphs: Record<string, string> = {};
      const subs: Server[] = [];
      for (const name of ['registry', 'education']) {
        const sub = await start(`${name} subgraph`, 'node', (port) => [...NODE_FLAGS, 'dist/src/cli/subgraph.cli.js', name, '--port', String(port)], hubEnv(), '/health');
        subgraphs[name] = `${sub.url}/graphql`;
        subs.push(sub);
      }
      const supergraph = path.join(BENCH_DIR, 'supergraph.graphql');
      execFileSync('node', ['dist/src/cli/compose.cli.js', '--out', supergraph], {
        cwd: ROOT,
        env: { ...process.env, HUB_DATA_DIR: HUB_DATA, HUB_SUBGRAPH_URLS: Object.entries(subgraphs).map(([n, u]) => `${n}=${u}`).join(',') },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const gatewayEnv = { HUB_DATA_DIR: HUB_DATA, BENCH_SUPERGRAPH: supergraph, BENCH_SUBGRAPHS: JSON.stringify(subgraphs), BENCH_REGION: REGION };
      for (const [name, script] of [['Apollo Gateway 2.14 alone', 'apollo'], ['Hive Gateway 2.12 alone', 'hive']]) {
        const gw = await start(name, 'node', [...NODE_FLAGS, `bench/gateways/${script}.server.js`], gatewayEnv, '/graphql', { query: '{ __typename }' });
        if (want('s1')) results.push(await measure('1 single child', gw, HUB.single, sample, pool, none));
        if (want('s4')) results.push(await measure('4 federated page', gw, HUB.federatedPage, sample, pool, none));
        await retire(gw);
      }
      for (const sub of subs) await retire(sub);
    }

    if (want('s2')) results.push(await measure('2 page of 100', pgl, POSTGRAPHILE.page, sample, pool, none));
    if (want('s4')) results.push(await measure('4 federated page', pgl, POSTGRAPHILE.federatedPage, sample, pool, none));
    await retire(pgl);

    if (want('s2')) results.push(await measure('2 page of 100', floor, FLOOR.page, sample, pool, none));
    if (want('s5')) results.push(await measure('5 aggregate', floor, FLOOR.aggregate, sample, pool, none));
    await retire(floor);

    const version = (await pool.query('SHOW server_version')).rows[0].server_version;
    fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), report(results, pageStatements, soak, { pgVersion: version, trail }));
    log('wrote bench/RESULTS.md');
  } finally {
    for (const s of servers) await stop(s).catch(() => undefined);
    // pool.end() does not wait for its clients' sockets to close: one still open when Postgres stops
    // is terminated, and an unhandled pool error would end the run after RESULTS.md was written.
    pool.on('error', () => undefined);
    await pool.end();
    await pg.stop();
  }
}

function report(results: Measurement[], pageStatements: Record<number, number | null>, soak: { rss: number; failed: number }, run: { pgVersion: string; trail: number }): string {
  const get = (scenario: string, server: string, connections = CONNECTIONS) =>
    results.find((r) => r.scenario.startsWith(scenario) && r.server === server && r.connections === connections);
  // Servers measured together are compared round by round: the median of the rounds' ratios, and
  // their range. Others, measured minutes apart, by their medians.
  const ratio = (a?: Measurement, b?: Measurement): Ratio | null => {
    if (!a || !b) return null;
    const failed = a.failed + b.failed;
    if (!a.paired || a.paired !== b.paired) return { value: a.rps / b.rps, failed };
    const rounds = a.runs.map((x, i) => x / b.runs[i]);
    return { value: median(rounds), range: [Math.min(...rounds), Math.max(...rounds)], failed };
  };
  // A miss that two decimals would round up to its target is shown cut, not rounded, to three (0.899×).
  const times = (x: number, target: number | null) =>
    target !== null && x < target && Number(x.toFixed(2)) >= target ? `${(Math.floor(x * 1000) / 1000).toFixed(3)}×` : `${x.toFixed(2)}×`;
  const fmt = (r: Ratio | null, target: number | null = null) => {
    if (r === null) return 'n/a';
    return r.range ? `${times(r.value, target)} (${r.range.map((x) => x.toFixed(2)).join('–')})` : times(r.value, target);
  };
  const verdict = (r: Ratio | null, target: number) =>
    r === null ? 'not measured' : r.failed ? `void: ${r.failed} failed requests` : r.value >= target ? 'met' : 'MISSED';
  // Scenario 1's rows at one load. The last: what the audit ratio would be if the hub's audit cost
  // no more than the floor's bare durable event (machine CPU per request with the audit OFF,
  // against that plus the event).
  const singleChild = (connections: number): [string, Ratio | null, number | null][] => {
    const s1 = (server: string) => get('1', server, connections);
    const [floorEvent, floorPlain, auditOff] = [s1('floor + durable event'), s1('floor (pg + http)'), s1('hub, audit OFF')];
    const auditBound = floorEvent && floorPlain && auditOff ? { value: auditOff.cpu / (auditOff.cpu + floorEvent.cpu - floorPlain.cpu) } : null;
    const name = (what: string) => `1 single child, ${connections} connections: ${what}`;
    return [
      [name('hub / PostGraphile'), ratio(s1('hub'), s1('PostGraphile 4.14')), 1.0],
      [name('hub / floor'), ratio(s1('hub'), floorPlain), null],
      [name('floor + durable event / floor'), ratio(floorEvent, floorPlain), null],
      [name('floor + durable event / PostGraphile'), ratio(floorEvent, s1('PostGraphile 4.14')), null],
      [name('hub / (floor + durable event)'), ratio(s1('hub'), floorEvent), null],
      [name('policy ON / OFF'), ratio(s1('hub'), s1('hub, policy OFF')), 0.9],
      [name('audit ON / OFF'), ratio(s1('hub'), auditOff), 0.85],
      [name('compiled reads ON / OFF'), ratio(s1('hub'), s1('hub, compiled reads OFF')), null],
      [name('hub, compiled reads OFF / PostGraphile'), ratio(s1('hub, compiled reads OFF'), s1('PostGraphile 4.14')), null],
      [name("audit ON / OFF if the audit cost only the floor's durable event (CPU / request: OFF ÷ (OFF + event))"), auditBound, null],
    ];
  };
  const cpu = os.cpus();
  const rows: [string, Ratio | null, number | null][] = [
    ...S1_LOADS.flatMap(singleChild),
    ['2 page of 100: hub / PostGraphile', ratio(get('2', 'hub'), get('2', 'PostGraphile 4.14')), null],
    ['4 federated page: hub / PostGraphile', ratio(get('4', 'hub'), get('4', 'PostGraphile 4.14')), null],
    ['5 aggregate: hub (summaries) / floor (raw GROUP BY)', ratio(get('5', 'hub'), get('5', 'floor (pg + http)')), 1 / 1.2],
    ['2 page of 100: hub / floor', ratio(get('2', 'hub'), get('2', 'floor (pg + http)')), null],
    ['2 page of 100: policy ON / OFF', ratio(get('2', 'hub'), get('2', 'hub, policy OFF')), 0.9],
    ['2 page of 100: audit ON / OFF', ratio(get('2', 'hub'), get('2', 'hub, audit OFF')), 0.85],
    ['1 single child: hub, audit OFF (a compiled read) / registry subgraph direct', ratio(get('1', 'hub, audit OFF'), get('1', 'registry subgraph direct')), null],
    ['1 single child: Hive Gateway / Apollo Gateway, alone', ratio(get('1', 'Hive Gateway 2.12 alone'), get('1', 'Apollo Gateway 2.14 alone')), null],
    ['4 federated page: Hive Gateway / Apollo Gateway, alone', ratio(get('4', 'Hive Gateway 2.12 alone'), get('4', 'Apollo Gateway 2.14 alone')), null],
  ];
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Do not edit by hand: edit bench/optimisations.md, which is included below.`,
    '',
    '## Machine and run',
    '',
    `- CPU: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length}; memory ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${os.type()} ${os.release()}`,
    `- Node ${process.version}; PostgreSQL ${run.pgVersion} (embedded, reached over its Unix socket, shared_buffers ${SHARED_BUFFERS}, the data set read into them first; autovacuum off, the audit trail vacuumed and analysed before the run); load generator autocannon on the same machine, ${CONNECTIONS} connections (concurrent clients)${HIGH_LOAD ? `; scenario 1 also at ${HIGH_LOAD}` : ''}`,
    `- Data: ${MINORS.toLocaleString('en')} minors (\`npm run seed:scale\`), hub requests as district officers with purpose declared; the audit trail held ${run.trail.toLocaleString('en')} events when the run began (every run adds to it; it is not read into shared buffers)`,
    `- Each figure is the median of ${RUNS} runs of ${DURATION} s after a 2 s warm-up; "noise" is (max − min) / median of req/s over the runs.`,
    '- Measured together: every server of scenario 1 at each load (the hub, its bench switches policy OFF, audit OFF and compiled reads OFF, PostGraphile, the floor with and without a durable event), and the hub with its switches in scenario 2: all up at once, their runs interleaved round by round in a rotating order, so that the machine slowing down during the benchmark slows each alike. Their ratios are the median of the rounds\' ratios, with the lowest and highest in brackets; other ratios are of medians measured minutes apart.',
    '',
    '## Scenarios',
    '',
    '| scenario | connections | server | req/s | p50 ms | p99 ms | CPU µs / request | events / commit | SQL / request | max RSS MB | noise | failed |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${r.connections} | ${r.server} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.cpu.toFixed(0)} | ${r.eventsPerCommit?.toFixed(1) ?? '—'} | ${r.statements ?? 'n/a'} | ${r.rssMb} | ${(r.noise * 100).toFixed(0)}% | ${r.failed} |`,
    ),
    '',
    'CPU µs / request is the busy CPU time of the whole machine (server, Postgres and load generator; /proc/stat) over the requests served. Events / commit: the audit events appended per group commit (one INSERT, one WAL flush) during the runs. SQL / request counts every statement the database saw (pg_stat_statements), audit writes and transaction control included. Failed: requests of the runs answered with another status than 2xx, with GraphQL errors (a 200 too), with nothing (a child refused as unknown, an empty page), or not at all — counted in req/s by the load generator, so a ratio with any is void. Before measuring, each server\'s answers to a dozen of the scenario\'s requests are checked to hold records, and the same records as the scenario\'s other servers (scenario 5 aside: the hub suppresses small counts).',
    '',
    '## Ratios and targets',
    '',
    '| ratio (req/s unless said) | value | target | verdict |',
    '|---|--:|--:|---|',
    ...rows.map(([name, value, target]) => `| ${name} | ${fmt(value, target)} | ${target === null ? '—' : `≥ ${target.toFixed(2)}×`} | ${target === null ? '' : verdict(value, target)} |`),
    `| SQL statements per page of 10 / 100 / 1000 | ${pageStatements[10]} / ${pageStatements[100]} / ${pageStatements[1000]} | identical | ${pageStatements[10] === pageStatements[100] && pageStatements[100] === pageStatements[1000] ? 'met' : 'MISSED'} |`,
    `| hub RSS under ${SOAK} s of load | ${soak.rss ? `${soak.rss.toFixed(0)} MB` : 'n/a'} | ≤ 300 MB | ${soak.rss ? (soak.failed ? `void: ${soak.failed} failed requests` : soak.rss <= 300 ? 'met' : 'MISSED') : 'not measured'} |`,
    '',
    'Scenario 3 is one child with a mandatory report (so records in several departments) and every department record civil affairs may read; 4 a page of 100 children of a grid with their school enrollments (one `_entities` batch; PostGraphile on the registry and education schemas); 5 `minorCounts(level: STREET, by: [RISK_LEVEL, CATEGORY])` over the district, against the floor running the raw `GROUP BY` over registry.minor × minor_category (target: within 1.2× of it, i.e. ≥ 0.83× its req/s). "Alone" rows: the gateway by itself (no audit, purpose rule or fast path; `bench/gateways`) in front of the registry and education subgraphs served by `npm run subgraph`, which still check its signed assertion and apply the policy; the subgraphs run on the same two cores. "Floor + durable event": the floor answering scenario 1 only once an event recording the read, of the shape and size of the hub\'s, is durable in the hub\'s audit trail, appended by the hub\'s own audit writer (group commit, hash chain) — the least any API keeping the hub\'s fail-closed audit pays per request on this machine at that load (it falls as more requests share each group commit: the events / commit column); PostGraphile writes nothing.',
    '',
  ];
  const notes = path.join(__dirname, 'optimisations.md');
  if (fs.existsSync(notes)) lines.push(fs.readFileSync(notes, 'utf8'));
  return lines.join('\n');
}

main().catch((e) => {
  log(`bench: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
