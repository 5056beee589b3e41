/**
 * npm run employment:confirm-key: records HUB_AUDIT_KEY as the key of the barred-person registry
 * (从业限制) of the configured database (DATABASE_URL, or the embedded one under HUB_DATA_DIR), once
 * the ID number of one person listed there, read from stdin, is found among the bars under it. For a
 * registry listed before migration 1795402000000, which kept no record of its key: the hub refuses
 * its checks until then rather than take whatever key it runs with (workflow.employment.ts).
 * The number is read from stdin, never an argument or the environment, which shell histories and
 * process lists keep; on a terminal it is not echoed. Exit code 1 when the key does not match the
 * registry, 2 when it cannot be checked.
 */
import type { Pool } from 'pg';
import { idNumberProblem, normalIdNumber } from '../common/id-number';
import { loadConfig } from '../config/hub.config';
import { loggableSummary } from '../errors/hub.exception';
import { personHash, registryKeyCheck } from '../subgraphs/workflow/workflow.employment';
import { holdClient, withMaintenancePool } from './maintenance-pool';

/** Thrown for a key or a number that does not match: exit code 1. */
class Mismatch extends Error {}

/** The first line of stdin; on a terminal read without echo. */
async function readLine(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) {
      text += chunk;
      if (text.includes('\n')) break;
    }
    return text.split('\n')[0];
  }
  process.stderr.write('ID number of a person listed in the registry (not echoed): ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  try {
    let line = '';
    for await (const chunk of stdin) {
      for (const c of chunk as string) {
        if (c === '\r' || c === '\n' || c === '\u0004') return line;
        if (c === '\u0003') throw new Error('interrupted');
        line = c === '\u007f' || c === '\b' ? line.slice(0, -1) : line + c;
      }
    }
    return line;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/** Records `check` as the registry's key if a bar lists `hash`; returns the key recorded after. */
async function recordIfListed(pool: Pool, check: string, hash: string): Promise<{ inserted: boolean; recorded?: { key_check: string; recorded_at: Date } }> {
  const { client, release } = await holdClient('employment:confirm-key', pool);
  try {
    await client.query('BEGIN');
    // A revoked bar was hashed under the registry's key as well. A key already recorded is kept:
    // the hub's first use on an empty registry, or another confirmation, decided it.
    const inserted = await client.query(
      `INSERT INTO workflow.barred_person_key (key_check)
       SELECT $1 WHERE EXISTS (SELECT 1 FROM workflow.barred_person WHERE id_number_hash = $2)
       ON CONFLICT DO NOTHING`,
      [check, hash],
    );
    // A statement of its own, to see a key another process recorded meanwhile (requireRegistryKey).
    const { rows } = await client.query(`SELECT key_check, recorded_at FROM workflow.barred_person_key`);
    await client.query('COMMIT');
    return { inserted: inserted.rowCount === 1, recorded: rows[0] };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    release();
  }
}

async function main() {
  if (process.argv.length > 2) throw new Error('takes no arguments: the ID number is read from stdin');
  const idNumber = normalIdNumber(await readLine());
  // The number itself is never printed: it is a listed person's.
  if (idNumberProblem(idNumber)) throw new Mismatch('stdin holds no valid 公民身份号码');
  const config = loadConfig();
  const hash = personHash(config, idNumber);
  const check = registryKeyCheck(config);
  await withMaintenancePool('employment:confirm-key', config, {}, async (pool) => {
    const { inserted, recorded } = await recordIfListed(pool, check, hash);
    if (!recorded) throw new Mismatch('HUB_AUDIT_KEY does not match the registry: no bar lists that ID number under it (a mistyped key or number, or a person not listed); nothing recorded');
    if (recorded.key_check !== check) throw new Mismatch(`HUB_AUDIT_KEY does not match the registry: another key was recorded at ${recorded.recorded_at.toISOString()}; nothing recorded`);
    console.log(
      inserted
        ? `employment:confirm-key: HUB_AUDIT_KEY confirmed against a listed person and recorded as the barred-person registry's key at ${recorded.recorded_at.toISOString()}`
        : `employment:confirm-key: HUB_AUDIT_KEY is the key already recorded for the barred-person registry (at ${recorded.recorded_at.toISOString()}); nothing changed`,
    );
  });
}

main().catch((e) => {
  console.error(`employment:confirm-key: ${loggableSummary(e)}`);
  process.exit(e instanceof Mismatch ? 1 : 2);
});
