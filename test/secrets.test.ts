import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/hub.config';
import { auditKey, devSecret, gatewaySecret } from '../src/config/secrets';
import { TokenService } from '../src/auth/token.service';

const run = promisify(execFile);
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');

/**
 * Processes that start together on one data directory (test workers, the hub and `npm run
 * subgraph`) must agree on each generated development secret: none may read a secret file
 * another is still writing.
 */
describe('development secrets', () => {
  it('gives processes racing to create them the same, non-empty secret', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-secrets-'));
    const DIRS = 1500;
    // Each process waits for the same instant, then creates the secret of every directory in turn.
    const script = `
      const path = require('node:path');
      const { devSecret } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'config', 'secrets.ts'))});
      const [root, start, dirs] = process.argv.slice(1);
      while (Date.now() < Number(start));
      const out = [];
      for (let i = 0; i < Number(dirs); i++) out.push(devSecret(path.join(root, String(i)), 'jwt-secret'));
      process.stdout.write(JSON.stringify(out));`;
    try {
      const start = String(Date.now() + 4000);
      const results = await Promise.all(
        Array.from({ length: 4 }, () => run(TSX, ['-e', script, root, start, String(DIRS)]).then(({ stdout }) => JSON.parse(stdout) as string[])),
      );
      for (const secrets of results) {
        expect(secrets).toHaveLength(DIRS);
        expect(secrets.every((s) => /^[A-Za-z0-9_-]{43}$/.test(s))).toBe(true);
        expect(secrets).toEqual(results[0]);
      }
      // What the processes returned is what the files hold.
      expect(results[0].slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => fs.readFileSync(path.join(root, String(i), 'jwt-secret'), 'utf8')));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * Production never falls back to a generated secret file: a subgraph process (`npm run subgraph`)
 * reads its gateway secret through gatewaySecret(), and config alone cannot tell it is one.
 */
describe('a development secret file that holds no secret', () => {
  it.each([['empty', ''], ['blank', '  \n'], ['short', 'x'.repeat(31)]])('%s: refused by every user of it, the token service included, not taken as a key anyone has', async (_what, content) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-short-secret-'));
    try {
      for (const name of ['jwt-secret', 'gateway-secret', 'audit-key'] as const) fs.writeFileSync(path.join(dataDir, name), content, { mode: 0o600 });
      const config = loadConfig({ HUB_DATA_DIR: dataDir });
      const refusal = new RegExp(`jwt-secret holds no usable secret \\(fewer than 32 characters\\): delete it to have one generated`);
      expect(() => devSecret(dataDir, 'jwt-secret')).toThrow(refusal);
      await expect(TokenService.create(config)).rejects.toThrow(refusal);
      expect(() => gatewaySecret(config)).toThrow(/gateway-secret holds no usable secret/);
      expect(() => auditKey(config)).toThrow(/audit-key holds no usable secret/);
      // Deleted, it is generated again.
      fs.rmSync(path.join(dataDir, 'jwt-secret'));
      expect(devSecret(dataDir, 'jwt-secret')).toHaveLength(43);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('secrets in production', () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('refuses to sign or verify gateway assertions without HUB_GATEWAY_SECRET, and creates no secret file', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-secrets-prod-'));
    try {
      const config = loadConfig({ NODE_ENV: 'production', HUB_JWT_PUBLIC_KEY: pem, HUB_AUDIT_KEY: 'k'.repeat(32), HUB_DATA_DIR: dataDir });
      expect(() => gatewaySecret(config)).toThrow(/NODE_ENV=production needs HUB_GATEWAY_SECRET/);
      expect(fs.readdirSync(dataDir)).toEqual([]);
      // Given, it is used as it is.
      const given = loadConfig({ NODE_ENV: 'production', HUB_JWT_PUBLIC_KEY: pem, HUB_AUDIT_KEY: 'k'.repeat(32), HUB_GATEWAY_SECRET: 'g'.repeat(32), HUB_DATA_DIR: dataDir });
      expect(Buffer.from(gatewaySecret(given)).toString()).toBe('g'.repeat(32));
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('still generates the development secret outside production', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-secrets-dev-'));
    try {
      expect(gatewaySecret(loadConfig({ HUB_DATA_DIR: dataDir })).length).toBe(43);
      expect(fs.readdirSync(dataDir)).toEqual(['gateway-secret']);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
