/**
 * npm run seed:scale -- --minors 1000000 [--districts 10] [--reset]
 * Loads a deterministic city-scale registry into the configured Postgres (DATABASE_URL, or the
 * embedded one under HUB_DATA_DIR) with COPY, showing progress on stderr.
 */
import 'reflect-metadata';
import { Pool } from 'pg';
import { Rng } from '../common/rng';
import { loadConfig } from '../config/hub.config';
import { copyRows } from '../db/copy-loader';
import { openDatabase } from '../server/bootstrap';
import { generateFamily, Grid, REGISTRY_COLUMNS, RegistryTable, regionTree, Row } from '../subgraphs/registry/registry.seed';
import { parseArgs } from './args';

const TABLES: RegistryTable[] = ['minor', 'guardian', 'minor_category', 'risk_assessment', 'visit'];

function progress(label: string, done: number, total: number, started: number) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stderr.write(`\r${label.padEnd(16)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round((done / total) * 100)).padStart(3)}% ${done}/${total} ${secs}s`);
  if (done === total) process.stderr.write('\n');
}

/** Every family regenerated from the same seed, yielding only `table`'s rows (keeps FK order). */
function* rowsOf(table: RegistryTable, minors: number, grids: Grid[], anchor: Date, onFamily: (i: number) => void): Generator<Row> {
  const rng = new Rng(19491001);
  const usedIds = new Set<string>();
  const pending: Row[] = [];
  for (let i = 0; i < minors; i++) {
    generateFamily(rng, grids[i % grids.length], anchor, usedIds, (t, row) => {
      if (t === table) pending.push(row);
    });
    while (pending.length) yield pending.shift()!;
    if (i % 5000 === 0 || i === minors - 1) onFamily(i + 1);
  }
}

async function main() {
  const { flags } = parseArgs(process.argv.slice(2), ['minors', 'districts', 'reset']);
  const minors = Number(flags.minors ?? 1_000_000);
  const districts = Number(flags.districts ?? 10);
  if (!Number.isInteger(minors) || minors < 1) throw new Error('--minors must be a positive integer');
  const config = { ...loadConfig(), seedDemo: false };
  const db = await openDatabase(config, (m) => console.error(m));
  const pool = new Pool({ connectionString: db.url, max: 1 });
  const client = await pool.connect();
  try {
    const [{ n }] = (await client.query(`SELECT count(*)::int AS n FROM registry.region`)).rows;
    if (n > 0) {
      if (flags.reset !== 'true') throw new Error('the registry is not empty; pass --reset true to replace it');
      await client.query(`TRUNCATE registry.visit, registry.risk_assessment, registry.minor_category, registry.guardian, registry.minor, registry.region`);
    }
    // Hangzhou-like districts 330102 … (codes are what makes jurisdiction a prefix match).
    const { regions, grids } = regionTree(
      Array.from({ length: districts }, (_, d) => ({ code: `3301${String(d + 2).padStart(2, '0')}`, name: `浙江省杭州市第${d + 1}区` })),
      10,
      10,
      5,
    );
    const anchor = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const started = Date.now();
    await client.query('BEGIN');
    await copyRows(client, 'registry.region', REGISTRY_COLUMNS.region.map(([c]) => c), regions);
    for (const table of TABLES) {
      await copyRows(client, `registry.${table}`, REGISTRY_COLUMNS[table].map(([c]) => c), rowsOf(table, minors, grids, anchor, (i) => progress(table, i, minors, started)));
    }
    await client.query('COMMIT');
    await client.query('ANALYZE');
    console.error(`loaded ${minors} minors in ${grids.length} grids of ${districts} districts in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
    await pool.end();
    await db.close();
  }
}

main().catch((e) => {
  console.error(`\nseed:scale: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
