/**
 * npm run seed:scale -- --minors 1000000 [--districts 10] [--reset true]
 * Loads a deterministic city-scale data set into the configured Postgres (DATABASE_URL, or the
 * embedded one under HUB_DATA_DIR) with COPY, showing progress on stderr: the registry, then every
 * slice's `scaleRecords` for each child, in one transaction; then VACUUM ANALYZE and the
 * statistics summaries.
 */
import 'reflect-metadata';
import { ageOn } from '../common/dates';
import { Rng } from '../common/rng';
import { loadConfig } from '../config/hub.config';
import { loggableSummary } from '../errors/hub.exception';
import { copyRows } from '../db/copy-loader';
import { openDatabase } from '../server/bootstrap';
import { SUBGRAPHS } from '../subgraphs';
import { generateFamily, REGISTRY_COLUMNS, RegistryTable, regionTree, Row } from '../subgraphs/registry/registry.seed';
import type { SeedChild } from '../subgraphs/shared/seed';
import { refreshStatistics } from '../subgraphs/statistics/statistics.refresh';
import { decimalFlag, parseArgs } from './args';
import { holdClient, maintenancePool } from './maintenance-pool';

/** Children generated, then copied, per round: bounds memory, and a million children take 20 rounds of one COPY per table. */
const CHUNK = 50_000;
const MAX_MINORS_PER_DISTRICT = 1_000_000;
const REGISTRY: RegistryTable[] = ['minor', 'guardian', 'minor_category', 'risk_assessment', 'visit'];

/** Where each column sits in a generated registry row, by name. */
const positions = (table: RegistryTable): Record<string, number> => Object.fromEntries(REGISTRY_COLUMNS[table].map(([c], i) => [c, i]));
const MINOR = positions('minor');
const GUARDIAN = positions('guardian');
const CATEGORY = positions('minor_category');

function progress(label: string, done: number, total: number, started: number) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stderr.write(`\r${label.padEnd(16)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round((done / total) * 100)).padStart(3)}% ${done}/${total} ${secs}s`);
  if (done === total) process.stderr.write('\n');
}

/**
 * The load, as `npm run seed:scale` runs it. Refused with NODE_ENV=production before the database
 * is opened: the records are made up, written without audit events, and `--reset` empties the
 * registry's, departments' and workflow's tables.
 */
export async function seedScale(argv: string[], env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = { ...loadConfig(env), seedDemo: false };
  if (config.production) throw new Error('seed:scale loads made-up records without audit events and is refused with NODE_ENV=production');
  const { flags } = parseArgs(argv, ['minors', 'districts', 'reset']);
  const minors = decimalFlag(flags.minors, 1_000_000);
  const districts = decimalFlag(flags.districts, 10);
  if (!Number.isInteger(minors) || minors < 1) throw new Error('--minors must be a positive integer');
  // District codes are 330102 … 330199: a 100th would be 7 digits, and no grid nor ID number fits it.
  if (!Number.isInteger(districts) || districts < 1 || districts > 98) throw new Error('--districts must be a whole number from 1 to 98');
  // A district has 500 ID numbers per birth date and sex (about 6 million over the 17 years of
  // birth dates): well short of that, generateFamily looks for a free one for ever.
  if (minors > districts * MAX_MINORS_PER_DISTRICT) throw new Error(`--minors must be at most 1,000,000 per district (--districts ${districts}): there are not ID numbers enough for more`);
  const slices = SUBGRAPHS.flatMap((s) => (s.scaleRecords ? [s.scaleRecords] : []));
  // Parents before children: the registry's tables, then each slice's in its own order.
  const tables = [
    ...REGISTRY.map((t) => ({ name: `registry.${t}`, columns: REGISTRY_COLUMNS[t].map(([c]) => c) })),
    ...slices.flatMap((r) => r.tables.map((t) => ({ name: t.name, columns: t.columns.map(([c]) => c) }))),
  ];
  const db = await openDatabase(config, (m) => console.error(m));
  const pool = maintenancePool('seed:scale', { connectionString: db.url });
  const closeAll = async () => {
    await pool.end();
    await db.close();
  };
  // A database that refuses the session (max_connections reached) must not leave an embedded Postgres behind.
  const { client, release } = await holdClient('seed:scale', pool).catch(async (e) => {
    await closeAll();
    throw e;
  });
  try {
    // The reset in the load's transaction: a load that fails (or is interrupted) leaves the data set it would have replaced.
    await client.query('BEGIN');
    const loaded = ['registry.region', ...tables.map((t) => t.name)];
    const [{ any }] = (await client.query(`SELECT ${loaded.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ')} AS any`)).rows;
    if (any) {
      if (flags.reset !== 'true') throw new Error('the registry or department tables are not empty; pass --reset true to replace them');
      // CASCADE: what references these rows (webhook deliveries of the notifications) means nothing without them.
      await client.query(`TRUNCATE ${loaded.join(', ')} CASCADE`);
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
    // One generator per slice, as in the demo seed, so a slice's records do not depend on which other slices exist.
    const registryRng = new Rng(19491001);
    const sliceRngs = slices.map((r) => new Rng(r.seed));
    const usedIds = new Set<string>();
    const counts = new Map(tables.map((t) => [t.name, 0]));
    await copyRows(client, 'registry.region', REGISTRY_COLUMNS.region.map(([c]) => c), regions);
    for (let from = 0; from < minors; from += CHUNK) {
      const rows = new Map(tables.map((t) => [t.name, [] as Row[]]));
      const emit = (table: string, row: Row) => rows.get(table)!.push(row);
      for (let i = from; i < Math.min(minors, from + CHUNK); i++) {
        let minor: Row = [];
        const categories = new Set<string>();
        const guardians: string[] = [];
        // A grid drawn, as in the demo seed: taken in order, a load smaller than the grids filled the first districts and left the others empty.
        generateFamily(registryRng, registryRng.pick(grids), anchor, usedIds, (table, row) => {
          emit(`registry.${table}`, row);
          if (table === 'minor') minor = row;
          else if (table === 'guardian') guardians.push(`${row[GUARDIAN.relationship]}:${row[GUARDIAN.situation]}`);
          else if (table === 'minor_category') categories.add(row[CATEGORY.category] as string);
        });
        const child: SeedChild = {
          id: minor[MINOR.id] as string,
          gridCode: minor[MINOR.grid_code] as string,
          birthDate: minor[MINOR.birth_date] as string,
          age: ageOn(minor[MINOR.birth_date] as string, anchor),
          riskLevel: minor[MINOR.risk_level] as string | null,
          school: minor[MINOR.school] as string | null,
          categories,
          guardians,
        };
        slices.forEach((records, s) => records.generate(child, sliceRngs[s], anchor, emit));
      }
      for (const t of tables) {
        const batch = rows.get(t.name)!;
        await copyRows(client, t.name, t.columns, batch);
        counts.set(t.name, counts.get(t.name)! + batch.length);
      }
      progress('minors + records', Math.min(minors, from + CHUNK), minors, started);
    }
    await client.query('COMMIT');
    const copied = Date.now();
    // Statistics first, so that the summaries' refresh plans over the real row counts. VACUUM too:
    // otherwise autovacuum visits every freshly loaded table minutes later, in the middle of
    // whatever reads them first (a benchmark), and until then no index-only scan is possible.
    await client.query('VACUUM (ANALYZE)');
    const analysed = Date.now();
    await refreshStatistics(db.maintenance);
    const summaries = (await client.query(`SELECT format('%I.%I', schemaname, matviewname) AS name FROM pg_matviews WHERE schemaname = 'statistics'`)).rows;
    if (summaries.length) await client.query(`ANALYZE ${summaries.map((r) => r.name).join(', ')}`);
    const secs = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
    for (const [table, n] of counts) console.error(`  ${table.padEnd(42)} ${n.toLocaleString('en').padStart(11)}`);
    console.error(
      `loaded ${minors} minors in ${grids.length} grids of ${districts} districts: COPY ${secs(started, copied)}s, VACUUM ANALYZE ${secs(copied, analysed)}s, ` +
        `statistics ${secs(analysed, Date.now())}s, total ${secs(started, Date.now())}s`,
    );
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    release();
    await closeAll();
  }
}

if (require.main === module) {
  seedScale(process.argv.slice(2)).catch((e) => {
    console.error(`\nseed:scale: ${loggableSummary(e)}`);
    process.exit(1);
  });
}
