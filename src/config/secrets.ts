import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { HubConfig } from './hub.config';

/**
 * Development secrets are generated on first use into the data directory (never committed), so
 * that `npm run token` and the running hub agree without anyone handling a secret.
 */
export function devSecret(dataDir: string, name: 'jwt-secret' | 'gateway-secret' | 'pg-password' | 'audit-key'): string {
  const file = path.join(dataDir, name);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('base64url');
    try {
      fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    } catch {
      // Another process created it first; use theirs.
      return fs.readFileSync(file, 'utf8').trim();
    }
    return secret;
  }
}

/** Key the gateway signs subgraph requests with (distributed mode). */
export function gatewaySecret(config: HubConfig): Uint8Array {
  return new TextEncoder().encode(config.gatewaySecret ?? devSecret(config.dataDir, 'gateway-secret'));
}

/** Key of the HMAC over variable values in audit events. */
export function auditKey(config: HubConfig): Uint8Array {
  return new TextEncoder().encode(config.audit.key ?? devSecret(config.dataDir, 'audit-key'));
}
