/**
 * npm run audit:verify: re-walks the audit hash chain of the configured database (DATABASE_URL,
 * or the embedded one under HUB_DATA_DIR) and reports the first broken link. Exit code 1 when
 * the chain is broken.
 */
import { Pool } from 'pg';
import { verifyChain } from '../audit/audit.verify';
import { loadConfig } from '../config/hub.config';
import { startEmbeddedPostgres } from '../db/embedded-postgres';

async function main() {
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort);
  // As the audit subgraph reads the trail: SELECT on audit.event, nothing else (the login role owns every table).
  const pool = new Pool({ connectionString: config.databaseUrl ?? embedded!.url, max: 1, options: '-c role=hub_audit_reader' });
  try {
    const status = await verifyChain(async (text, params) => (await pool.query(text, params)).rows);
    if (status.ok) {
      console.log(`audit chain OK: ${status.events} events, head ${status.headHash}`);
    } else {
      const b = status.firstBreak!;
      console.log(`audit chain BROKEN at event ${b.seq} (request ${b.requestId ?? '?'}): ${b.reason} — ${b.detail}`);
      console.log(`${status.events} events verified before it; last good head ${status.headHash}`);
      process.exitCode = 1;
    }
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

main().catch((e) => {
  console.error(`audit:verify: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
