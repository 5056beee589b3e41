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
  let stored: string;
  try {
    stored = fs.readFileSync(file, 'utf8');
  } catch {
    return generated(dataDir, file);
  }
  return usable(file, stored);
}

/** Shorter than any this module writes (43 characters). */
const MIN_SECRET_LENGTH = 32;

/**
 * A secret file left empty or short (created by hand, restored from a bad backup, written on a full
 * disk) would be a key anyone has: jose signs and verifies HS256 with an empty key, so any token
 * minted with it was accepted for any department, role and region.
 */
function usable(file: string, stored: string): string {
  const secret = stored.trim();
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${file} holds no usable secret (fewer than ${MIN_SECRET_LENGTH} characters): delete it to have one generated`);
  return secret;
}

/** Writes a new secret, or takes the one another process wrote at the same moment. */
function generated(dataDir: string, file: string): string {
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // Written aside, then linked into place: the file appears with its content or not at all. Created
  // in place, another process starting at the same moment could read it empty, and sign or verify
  // with an empty key.
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  fs.writeFileSync(draft, secret, { mode: 0o600 });
  try {
    fs.linkSync(draft, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return usable(file, fs.readFileSync(file, 'utf8')); // another process created it first; use theirs
  } finally {
    fs.unlinkSync(draft);
  }
  return secret;
}

/**
 * Key the gateway signs subgraph requests with (distributed mode). Production never falls back to
 * the generated file: a subgraph process (`npm run subgraph`) reads its key here at start-up, so
 * it refuses to start without HUB_GATEWAY_SECRET (config alone cannot tell it is a subgraph).
 */
export function gatewaySecret(config: HubConfig): Uint8Array {
  if (config.production && !config.gatewaySecret) throw new Error('NODE_ENV=production needs HUB_GATEWAY_SECRET (no generated development secret)');
  return new TextEncoder().encode(config.gatewaySecret ?? devSecret(config.dataDir, 'gateway-secret'));
}

/** Key of the HMAC over variable values in audit events. */
export function auditKey(config: HubConfig): Uint8Array {
  return new TextEncoder().encode(config.audit.key ?? devSecret(config.dataDir, 'audit-key'));
}
