import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { HubConfig } from '../../config/hub.config';
import { auditKey } from '../../config/secrets';

/** People one re-screening checks at most. */
export const MAX_RESCREEN = 1000;

const keys = new WeakMap<HubConfig, Uint8Array>();

/**
 * Keyed hash of an ID number (HMAC-SHA256 with the audit key). The barred-person registry and
 * the check records hold only this: without the key, 10^17 possible numbers cannot be tried
 * against it offline.
 */
export function personHash(config: HubConfig, idNumber: string): string {
  return createHmac('sha256', registryKey(config)).update(`barred-person:${idNumber}`).digest('hex');
}

function registryKey(config: HubConfig): Uint8Array {
  let key = keys.get(config);
  if (!key) {
    key = auditKey(config);
    keys.set(config, key);
  }
  return key;
}

/** The check value of the configured key, as `workflow.barred_person_key` records it. */
export function registryKeyCheck(config: HubConfig): string {
  // `barred-person-key-check` cannot be the text of an ID number's hash (`barred-person:` + number).
  return createHmac('sha256', registryKey(config)).update('barred-person-key-check').digest('hex');
}

const KEY_UNCONFIRMED =
  'The barred-person registry (从业限制) holds bars but no record of the key they were hashed with (listed before migration 1795402000000): under a HUB_AUDIT_KEY other than theirs every person listed would be answered CLEAR. Pre-employment checks, re-screenings and listings are refused until an operator confirms the key with `npm run employment:confirm-key` (docs/workflows.md)';
const OTHER_KEY =
  'HUB_AUDIT_KEY is not the key the barred-person registry (从业限制) was hashed with: every person listed would be answered CLEAR. Pre-employment checks, re-screenings and listings are refused until the hub runs with that key (docs/workflows.md)';

/**
 * Refuses the registry under a key other than the one its hashes were made with: under another
 * HUB_AUDIT_KEY (rotated, mistyped, a restored database) no hash matches, and every person listed
 * was answered CLEAR, with nothing to tell anyone. The first use records an HMAC of a fixed text
 * (migration 1795402000000); in a transaction of its own, committed before any bar is hashed, so
 * that no bar is stored without the key it was hashed with being recorded. Only on an empty
 * registry: bars with no key recorded were listed by a release before that migration, under a key
 * the hub cannot tell from the one it runs with — recorded so, a mistyped key would void every bar
 * and the right one be refused after. An operator confirms it against a listed person's number
 * (`npm run employment:confirm-key`). Thrown as an unexpected error: the client is answered an
 * internal error, the operator's log says why. Asked at every use, not once per process: the process's
 * key does not change, but the database can (a restore beside another deployment's key under a running
 * hub), and a confirmation kept from before had every person listed there answered CLEAR.
 */
export async function requireRegistryKey(config: HubConfig, db: DataSource): Promise<void> {
  const check = registryKeyCheck(config);
  const [recorded]: { key_check: string }[] = await db.transaction(async (em) => {
    // Revoked bars too: they were hashed under the same key.
    await em.query(
      `INSERT INTO workflow.barred_person_key (key_check) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM workflow.barred_person) ON CONFLICT DO NOTHING`,
      [check],
    );
    // A statement of its own: one insert that waited for another process's first use to commit and
    // then did nothing would not see that row in its own statement's snapshot.
    return em.query(`SELECT key_check FROM workflow.barred_person_key`);
  });
  if (!recorded) throw new Error(KEY_UNCONFIRMED);
  if (recorded.key_check !== check) throw new Error(OTHER_KEY);
}

/**
 * Why requireRegistryKey would refuse the registry, read without recording anything: for the
 * operator's log at start-up, not only once the first pre-employment check has been refused.
 */
export async function registryKeyProblem(config: HubConfig, db: DataSource): Promise<string | undefined> {
  const [{ recorded, listed }]: { recorded: string | null; listed: boolean }[] = await db.query(
    `SELECT (SELECT key_check FROM workflow.barred_person_key) AS recorded, EXISTS (SELECT 1 FROM workflow.barred_person) AS listed`,
  );
  if (recorded === null) return listed ? KEY_UNCONFIRMED : undefined;
  return recorded === registryKeyCheck(config) ? undefined : OTHER_KEY;
}

/**
 * Runs `work` and answers no earlier than `minMs` after `startedAt`, whatever it found or refused:
 * response time must not tell a listed person from a clear one. Nor later than `deadline` (a
 * subgraph fetch's, `deadlineOf`), whichever comes first: 60 aliased checks of 300 ms each outlasted
 * the gateway's wait, which dropped the answer — the checks made, counted and not told to anyone.
 */
export async function withFixedDuration<T>(startedAt: number, minMs: number, deadline: number | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    const now = performance.now();
    const left = Math.min(minMs - (now - startedAt), (deadline ?? Infinity) - now);
    if (left > 0) await sleep(left);
  }
}
