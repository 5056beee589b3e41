import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HubConfig } from '../../config/hub.config';
import { auditKey } from '../../config/secrets';

const keys = new WeakMap<HubConfig, Uint8Array>();

/**
 * Keyed hash of an ID number (HMAC-SHA256 with the audit key). The barred-person registry and
 * the check records hold only this: without the key, 10^17 possible numbers cannot be tried
 * against it offline.
 */
export function personHash(config: HubConfig, idNumber: string): string {
  let key = keys.get(config);
  if (!key) {
    key = auditKey(config);
    keys.set(config, key);
  }
  return createHmac('sha256', key).update(`barred-person:${idNumber}`).digest('hex');
}

/**
 * Runs `work` and answers no earlier than `minMs` after `startedAt`, whatever it found or refused:
 * response time must not tell a listed person from a clear one.
 */
export async function withFixedDuration<T>(startedAt: number, minMs: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    const left = minMs - (performance.now() - startedAt);
    if (left > 0) await sleep(left);
  }
}
