/**
 * npm run audit:verify [-- --anchors FILE]: re-walks the audit hash chain of the configured
 * database (DATABASE_URL, or the embedded one under HUB_DATA_DIR) and reports the first broken
 * link; with `--anchors`, every `audit anchor seq=… hash=…` line of FILE (the hub's log, as it was
 * shipped off the database's machine) is checked against the chain too. Exit code 1 when the chain
 * is broken, 2 when it cannot be read.
 */
import { readFileSync } from 'node:fs';
import { anchorsIn } from '../audit/audit.anchor';
import { verifyChain } from '../audit/audit.verify';
import { loadConfig } from '../config/hub.config';
import { loggableSummary } from '../errors/hub.exception';
import { MAINTENANCE_POOL } from '../db/session-format';
import { parseArgs } from './args';
import { withMaintenancePool } from './maintenance-pool';

async function main() {
  const { flags } = parseArgs(process.argv.slice(2), ['anchors']);
  const anchors = flags.anchors ? anchorsIn(readFileSync(flags.anchors, 'utf8')) : [];
  if (flags.anchors && !anchors.length) throw new Error(`${flags.anchors} holds no "audit anchor seq=… hash=…" line`);
  const config = loadConfig();
  // As the audit subgraph reads the trail: SELECT on audit.event, nothing else (the login role owns every table).
  await withMaintenancePool('audit:verify', config, { options: `${MAINTENANCE_POOL.options} -c role=hub_audit_reader` }, async (pool) => {
    const status = await verifyChain(async (text, params) => (await pool.query(text, params)).rows, anchors);
    const checked = flags.anchors ? `, ${status.anchorsChecked} of ${anchors.length} anchors matched` : '';
    if (status.ok) {
      console.log(`audit chain OK: ${status.events} events, head ${status.headHash}${checked}`);
    } else {
      const b = status.firstBreak!;
      console.log(`audit chain BROKEN at event ${b.seq} (request ${b.requestId ?? '?'}): ${b.reason} — ${b.detail}`);
      console.log(`${status.events} events verified before it; last good head ${status.headHash}${checked}`);
      process.exitCode = 1;
    }
  });
}

main().catch((e) => {
  console.error(`audit:verify: ${loggableSummary(e)}`);
  process.exit(2);
});
