import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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
