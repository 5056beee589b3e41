import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const MODULE = path.join(__dirname, '..', 'src', 'db', 'embedded-postgres.ts');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Runs `body` (an async function of `startEmbeddedPostgres`) in a process of its own: the package is ESM, which Jest's module sandbox cannot import. */
async function inProcess<T>(body: string, ...args: string[]): Promise<T> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(MODULE)});
    (${body})(startEmbeddedPostgres, ...process.argv.slice(1)).then(
      (r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); },
      (e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await run(TSX, ['-e', script, ...args], { timeout: 120_000 });
  return JSON.parse(stdout) as T;
}

describe('embedded Postgres', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-embedded-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('initialises a new cluster writing the password initdb reads where only the cluster’s owner can reach it', async () => {
    const port = await freePort();
    // Each initdb is watched as it starts, while its password file exists.
    const result = await inProcess<{ files: { file: string; dirMode: number }[]; tmpdirRestored: boolean }>(
      `async (start, dataDir, port) => {
        const fs = require('node:fs');
        const path = require('node:path');
        const childProcess = require('node:child_process');
        const spawn = childProcess.spawn;
        const files = [];
        childProcess.spawn = (command, args, options) => {
          const file = (args ?? []).find((a) => a.startsWith('--pwfile='))?.slice('--pwfile='.length);
          if (file) files.push({ file, dirMode: fs.statSync(path.dirname(file)).mode & 0o777 });
          return spawn(command, args, options);
        };
        require('node:module').syncBuiltinESMExports();
        const tmpdir = process.env.TMPDIR;
        const db = await start(dataDir, Number(port));
        await db.stop();
        return { files, tmpdirRestored: process.env.TMPDIR === tmpdir };
      }`,
      dataDir,
      String(port),
    );
    expect(result.files).toHaveLength(1);
    const [{ file, dirMode }] = result.files;
    // The file is created 0644 (the umask's); its directory, in the data directory, admits its owner alone.
    expect(path.dirname(path.dirname(file))).toBe(dataDir);
    expect((dirMode & 0o077).toString(8)).toBe('0');
    expect(fs.existsSync(path.dirname(file))).toBe(false);
    expect(result.tmpdirRestored).toBe(true);
  });
});
