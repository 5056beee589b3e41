import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
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
});
