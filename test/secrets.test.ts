import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

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
