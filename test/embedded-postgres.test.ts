import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { signDevToken } from '../src/auth/token.service';
import { loadConfig } from '../src/config/hub.config';
import { devSecret } from '../src/config/secrets';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { startHub } from '../src/server/hub.server';
import { testConfig } from './support/test-hub';
import { TEMPLATE_DB } from './support/test-env';

const run = promisify(execFile);
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const MODULE = path.join(__dirname, '..', 'src', 'db', 'embedded-postgres.ts');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * A server another local user started on the port first, as Postgres would answer a client: it asks
 * for the password in clear, keeps what it is sent and lets the client in.
 */
async function impostor(): Promise<{ port: number; received: () => Buffer; close(): Promise<void> }> {
  let received = Buffer.alloc(0);
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      const startup = received.length === 0;
      received = Buffer.concat([received, chunk]);
      const auth = (code: number) => Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, code]);
      socket.write(startup ? auth(3) : Buffer.concat([auth(0), Buffer.from([0x5a, 0, 0, 0, 5, 0x49])]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs `body` (an async function of `startEmbeddedPostgres`) in a process of its own: the package is ESM, which Jest's module sandbox cannot import. */
async function inProcess<T>(body: string, ...args: string[]): Promise<T> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(MODULE)});
    (${body})(startEmbeddedPostgres, ...process.argv.slice(1)).then(
      (r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); },
      (e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await run(TSX, ['-e', script, ...args], { timeout: 120_000 });
  return JSON.parse(stdout) as T;
}

describe('embedded Postgres', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-embedded-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('attaches to the cluster of its own data directory through the socket inside it, not over TCP', async () => {
    const testDataDir = process.env.HUB_TEST_DATA_DIR!;
    const port = Number(new URL(process.env.HUB_TEST_PG_URL!).port);
    const db = await startEmbeddedPostgres(testDataDir, port, TEMPLATE_DB);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT current_setting('data_directory') AS dir, inet_server_addr() AS addr`);
      expect(rows).toEqual([{ dir: fs.realpathSync(path.join(testDataDir, 'pg')), addr: null }]);
    } finally {
      await client.end();
    }
    await db.stop(); // the cluster belongs to the global set-up: attaching leaves it running
    const again = new Client({ connectionString: db.url });
    await again.connect();
    await again.end();
  });

  it('refuses to start the hub when another server holds the port, and sends that server nothing', async () => {
    const other = await impostor();
    try {
      const config = testConfig({ env: { HUB_DATA_DIR: dataDir, HUB_EMBEDDED_PG_PORT: String(other.port) } });
      expect(config.databaseUrl).toBeUndefined();
      const started = await startHub(config).catch((e: unknown) => e);
      expect(other.received().toString('latin1')).toBe('');
      expect(started).toBeInstanceOf(EmbeddedPostgresError);
      expect((started as Error).message).toBe(
        `Port ${other.port} is taken, but the embedded Postgres of ${path.join(dataDir, 'pg')} does not answer on its socket ${path.join(dataDir, 'pg', `.s.PGSQL.${other.port}`)}: another process holds the port (or an earlier version of the hub started this cluster, with its socket elsewhere). Stop that process, or set HUB_EMBEDDED_PG_PORT to a free port`,
      );
    } finally {
      await other.close();
    }
  });

  it('initialises a new cluster with SCRAM, writing the password initdb reads where only the cluster’s owner can reach it', async () => {
    const port = await freePort();
    // Each initdb is watched as it starts, while its password file exists.
    const result = await inProcess<{ files: { file: string; dirMode: number }[]; tmpdirRestored: boolean; auth: string[] }>(
      `async (start, dataDir, port) => {
        const fs = require('node:fs');
        const path = require('node:path');
        const childProcess = require('node:child_process');
        const spawn = childProcess.spawn;
        const files = [];
        childProcess.spawn = (command, args, options) => {
          const file = (args ?? []).find((a) => a.startsWith('--pwfile='))?.slice('--pwfile='.length);
          if (file) files.push({ file, dirMode: fs.statSync(path.dirname(file)).mode & 0o777 });
          return spawn(command, args, options);
        };
        require('node:module').syncBuiltinESMExports();
        const tmpdir = process.env.TMPDIR;
        const db = await start(dataDir, Number(port));
        const client = new (require('pg').Client)({ connectionString: db.url });
        await client.connect();
        const auth = (await client.query('SELECT DISTINCT auth_method FROM pg_hba_file_rules')).rows.map((r) => r.auth_method);
        await client.end();
        await db.stop();
        return { files, tmpdirRestored: process.env.TMPDIR === tmpdir, auth };
      }`,
      dataDir,
      String(port),
    );
    expect(result.files).toHaveLength(1);
    const [{ file, dirMode }] = result.files;
    // The file is created 0644 (the umask's); its directory, in the data directory, admits its owner alone.
    expect(path.dirname(path.dirname(file))).toBe(dataDir);
    expect((dirMode & 0o077).toString(8)).toBe('0');
    expect(fs.existsSync(path.dirname(file))).toBe(false);
    expect(result.tmpdirRestored).toBe(true);
    expect(result.auth).toEqual(['scram-sha-256']);
  });
  // The hub as `npm start` runs it (its own process, an embedded cluster of its own, the demo seeded).
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s lets a mutation waiting on a lock commit, be answered and get its final event before its embedded Postgres stops',
    async (signal) => {
      const [port, pgPort] = [await freePort(), await freePort()];
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HUB_DATA_DIR: dataDir,
        PORT: String(port),
        HUB_EMBEDDED_PG_PORT: String(pgPort),
        HUB_SEED_DEMO: 'true',
        HUB_STATISTICS_REFRESH_SECONDS: '0',
        HUB_WORKFLOW_JOB_INTERVAL_MS: '0',
        HUB_SHUTDOWN_GRACE_MS: '20000',
      };
      delete env.DATABASE_URL;
      const hub = spawn(process.execPath, ['-r', path.join(__dirname, 'support', 'ts-register.cjs'), path.join(__dirname, '..', 'src', 'main.ts')], { env, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => hub.once('exit', () => resolve()));
      const locker = new Client({ connectionString: `postgres://hub:${encodeURIComponent(devSecret(dataDir, 'pg-password'))}@localhost:${pgPort}/hub?host=${encodeURIComponent(path.join(dataDir, 'pg'))}` });
      locker.on('error', () => undefined);
      try {
        for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)); i++) {
          if (i > 1200) throw new Error('the hub did not start');
          await new Promise((r) => setTimeout(r, 100));
        }
        const token = await signDevToken(loadConfig({ HUB_DATA_DIR: dataDir }), { department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: '330102', userId: 'stopping' });
        const ask = (query: string, variables?: object) =>
          fetch(`http://127.0.0.1:${port}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' },
            body: JSON.stringify({ query, variables }),
          }).then(async (r) => ({ status: r.status, requestId: r.headers.get('x-request-id'), body: (await r.json()) as any }));
        const child = (await ask('{ minors(first: 1) { edges { node { id } } } }')).body.data.minors.edges[0].node.id;
        await locker.connect();
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [child]);
        const answer = ask(`mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: ORANGE, reasons: "while stopping" }) { id } }`, { id: child });
        const waiting = async () => (await locker.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)).rows[0].n > 0;
        while (!(await waiting())) await new Promise((r) => setTimeout(r, 50));
        hub.kill(signal);
        // The package's own handler stopped the cluster about half a second after the signal.
        await new Promise((r) => setTimeout(r, 2000));
        // (Without the fix the cluster is gone by now, and the answer tells what that cost.)
        await locker.query('COMMIT').catch(() => undefined);
        const r = await answer;
        expect([r.status, r.body.errors]).toEqual([200, undefined]);
        await exited;
        // Read once the hub has stopped its cluster, from a cluster started again on its data directory.
        const stored = await inProcess<{ assessed: number; outcomes: string[] }>(
          `async (start, dataDir, port, requestId) => {
            const { Client } = require('pg');
            const db = await start(dataDir, Number(port));
            const client = new Client({ connectionString: db.url });
            await client.connect();
            const assessed = (await client.query("SELECT count(*)::int AS n FROM registry.risk_assessment WHERE reasons = 'while stopping'")).rows[0].n;
            const outcomes = (await client.query('SELECT outcome FROM audit.event WHERE request_id = $1 ORDER BY seq', [requestId])).rows.map((e) => e.outcome);
            await client.end();
            await db.stop();
            return { assessed, outcomes };
          }`,
          dataDir,
          String(pgPort),
          r.requestId!,
        );
        expect(stored).toEqual({ assessed: 1, outcomes: ['STARTED', 'SUCCESS'] });
      } finally {
        await locker.end().catch(() => undefined);
        if (hub.exitCode === null && hub.signalCode === null) hub.kill('SIGKILL');
        await exited;
      }
    },
    180_000,
  );
});
