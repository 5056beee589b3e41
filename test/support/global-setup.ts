import 'reflect-metadata';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openDataSource } from '../../src/db/data-source';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { seedDemo } from '../../src/server/bootstrap';
import { TEMPLATE_DB } from './test-env';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * One real Postgres (embedded) for the whole run. A template database is migrated and seeded
 * once; every test file clones it (CREATE DATABASE … TEMPLATE), so files run in parallel on
 * their own data.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-test-'));
  const port = await freePort();
  // Two suites of distributed hubs (seven subgraphs' pools each) running side by side took more than
  // Postgres's default 100 sessions, and their requests failed `too many clients already`.
  const pg = await startEmbeddedPostgres(dataDir, port, TEMPLATE_DB, ['-c', 'max_connections=300']);
  const ds = await openDataSource(pg.url);
  const anchor = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  await seedDemo(ds, anchor);
  await ds.destroy();
  process.env.HUB_TEST_DATA_DIR = dataDir;
  process.env.HUB_TEST_SEED_DAY = anchor.toISOString().slice(0, 10);
  process.env.HUB_TEST_PG_URL = pg.url;
  (globalThis as Record<string, unknown>).__HUB_TEST_PG__ = pg;
}
