import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, promisify } from 'node:util';
import { importPKCS8, SignJWT } from 'jose';
import { loadConfig } from '../src/config/hub.config';
import { postGraphQL, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 44 (rt44c): the command-line tools and the configuration module. `npm run token` prints a
 * token "signed with the secret in HUB_DATA_DIR" whatever key the hub is configured to verify with;
 * HUB_JWT_PUBLIC_KEY is accepted by loadConfig whatever its type and size, although the hub imports it
 * for the first algorithm of HUB_JWT_ALGORITHMS and verifies only those; `npm run compose` takes a
 * HUB_SUBGRAPH_URLS entry naming no subgraph, which the hub refuses at start-up.
 */

const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const cliPath = (name: string) => path.join(__dirname, '..', 'src', 'cli', name);
const DATA = { HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR! };

/** A command-line tool as a user runs it (`npm run token -- …` runs it with tsx). */
const run = (cli: string, args: string[], env: Record<string, string>) =>
  promisify(execFile)(tsx, [cliPath(cli), ...args], { env: { ...process.env, ...DATA, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: String(e.stdout), stderr: String(e.stderr) }),
  );

type Pair = { publicKey: string; privateKey: string };
const pair = (type: 'ec' | 'rsa' | 'ed25519', options: object): Pair =>
  generateKeyPairSync(type as never, { ...options, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }) as unknown as Pair;

const EC_P256 = pair('ec', { namedCurve: 'P-256' });
const EC_P384 = pair('ec', { namedCurve: 'P-384' });
const ED25519 = pair('ed25519', {});
const RSA_1024 = pair('rsa', { modulusLength: 1024 });

/** A token as the identity provider issues it, for the hub's default issuer and audience. */
const idpToken = async (key: Pair, alg: string): Promise<string> => {
  if (key === RSA_1024) {
    // jose refuses to sign with a key under 2048 bits; the provider's own software may not.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const body = `${b64({ alg: 'RS256' })}.${b64({ department: 'POLICE', role: 'OFFICER', region: '330102', sub: 'police-idp-1', iss: 'minor-protection-hub', aud: 'minor-protection-hub', iat: now, exp: now + 3600 })}`;
    return `${body}.${cryptoSign('sha256', Buffer.from(body), key.privateKey).toString('base64url')}`;
  }
  return new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
    .setProtectedHeader({ alg })
    .setSubject('police-idp-1')
    .setIssuer('minor-protection-hub')
    .setAudience('minor-protection-hub')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(await importPKCS8(key.privateKey, alg));
};

const ask = (t: TestHub, token: string) => postGraphQL(t.hub.url, token, '{ __typename }');

describe('npm run token against a hub verifying with the identity provider\'s key (red team 44)', () => {
  // Not production (NODE_ENV=test, as a staging hub or a developer testing against the provider's key):
  // the hub then verifies only the provider's algorithms with HUB_JWT_PUBLIC_KEY (token.service.ts:341),
  // never the dev HS256 secret, yet the tool signs with that secret and exits 0.
  const IDP_ENV = { HUB_JWT_PUBLIC_KEY: EC_P256.publicKey, HUB_JWT_ALGORITHMS: 'ES256' };
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: IDP_ENV });
  });
  afterAll(() => t?.stop());

  it('pin: that hub serves a token of the identity provider (ES256)', async () => {
    expect((await ask(t, await idpToken(EC_P256, 'ES256'))).status).toBe(200);
  });

  it('npm run token refuses to sign (exit ≠ 0, naming the setting) when HUB_JWT_PUBLIC_KEY is set, rather than print a token the hub answers 401', async () => {
    const r = await run('token.cli.ts', ['--department', 'POLICE', '--region', '330102'], IDP_ENV);
    const printed = r.stdout.trim();
    const hubSays = r.code === 0 ? (await ask(t, printed)).status : null;
    expect({ code: r.code === 0 ? 0 : 'refused', hubSays }).toEqual({ code: 'refused', hubSays: null });
    expect(r.stderr).toMatch(/HUB_JWT_PUBLIC_KEY/);
  });

  it('npm run token refuses to sign when HUB_JWKS_URL is set (the hub verifies against the key set only)', async () => {
    const r = await run('token.cli.ts', ['--department', 'POLICE'], { HUB_JWKS_URL: 'https://idp.example.invalid/jwks.json' });
    expect({ code: r.code === 0 ? 0 : 'refused', printed: r.stdout.trim().length > 0 }).toEqual({ code: 'refused', printed: false });
    expect(r.stderr).toMatch(/HUB_JWKS_URL/);
  });
});

describe('HUB_JWT_PUBLIC_KEY the hub cannot verify any token with (red team 44)', () => {
  // loadConfig checked only that the PEM parses (jwtKeySource); the hub verifies only the listed algorithms, and
  // jose refuses RSA keys under 2048 bits.
  const production = { NODE_ENV: 'production', HUB_AUDIT_KEY: 'k'.repeat(44), HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR! };
  it.each([
    ['an Ed25519 key with the default HUB_JWT_ALGORITHMS (RS256,ES256)', { HUB_JWT_PUBLIC_KEY: ED25519.publicKey }],
    ['a P-384 key with HUB_JWT_ALGORITHMS=ES256 (P-256 only)', { HUB_JWT_PUBLIC_KEY: EC_P384.publicKey, HUB_JWT_ALGORITHMS: 'ES256' }],
    ['a 1024-bit RSA key with HUB_JWT_ALGORITHMS=RS256', { HUB_JWT_PUBLIC_KEY: RSA_1024.publicKey, HUB_JWT_ALGORITHMS: 'RS256' }],
  ])('production refuses at loadConfig, naming the setting: %s', (_what, env) => {
    expect(() => loadConfig({ ...production, ...env })).toThrow(/HUB_JWT_(PUBLIC_KEY|ALGORITHMS)/);
  });

  it.each([
    ['an Ed25519 key with the default HUB_JWT_ALGORITHMS (RS256,ES256)', { HUB_JWT_PUBLIC_KEY: ED25519.publicKey }],
    ['a P-384 key with HUB_JWT_ALGORITHMS=ES256', { HUB_JWT_PUBLIC_KEY: EC_P384.publicKey, HUB_JWT_ALGORITHMS: 'ES256' }],
    ['a 1024-bit RSA key with HUB_JWT_ALGORITHMS=RS256', { HUB_JWT_PUBLIC_KEY: RSA_1024.publicKey, HUB_JWT_ALGORITHMS: 'RS256' }],
  ])('outside production too, %s is refused at start-up, naming the setting (it started a hub answering every token 401)', (_what, env) => {
    expect(() => loadConfig({ ...DATA, ...env })).toThrow(/HUB_JWT_(PUBLIC_KEY|ALGORITHMS)/);
  });

  it('pin: a P-256 key under the default HUB_JWT_ALGORITHMS verifies ES256 alone', () => {
    expect(loadConfig({ ...DATA, HUB_JWT_PUBLIC_KEY: EC_P256.publicKey }).jwt.algorithms).toEqual(['ES256']);
  });
});

/**
 * `npm run compose` as it runs (built with decorator metadata, which tsx does not emit): loaded here
 * with ts-jest, its console lines and exit code caught, as test/input-config.redteam24.test.ts does.
 */
async function compose(env: Record<string, string>): Promise<{ exitCode: number; lines: string[]; written: string | null }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt44c-'));
  const out = path.join(dir, 'supergraph.graphql');
  const saved = { argv: process.argv, env: { ...process.env } };
  const lines: string[] = [];
  let exitCode = 0;
  let exited = false;
  const log = jest.spyOn(console, 'log').mockImplementation((...args) => void lines.push(format(...args)));
  const error = jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(format(...args)));
  const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    exitCode = code ?? 0;
    exited = true;
  }) as never);
  try {
    Object.assign(process.env, DATA, env);
    process.argv = ['node', 'compose.cli.ts', '--out', out];
    jest.isolateModules(() => require('../src/cli/compose.cli'));
    for (let i = 0; i < 600 && !lines.length && !exited; i++) await new Promise((r) => setTimeout(r, 100));
    return { exitCode, lines, written: fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : null };
  } finally {
    process.argv = saved.argv;
    process.env = saved.env;
    log.mockRestore();
    error.mockRestore();
    exit.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const registryUrlIn = (sdl: string | null) => (sdl ? (/name: "registry", url: "([^"]*)"/.exec(sdl)?.[1] ?? null) : null);

describe('npm run compose (red team 44)', () => {
  // The hub refuses a HUB_SUBGRAPH_URLS entry naming no subgraph (hub.server.ts:66-68); compose.cli.ts:17
  // looks up only the known names, so a misspelt `regsitry=` is dropped and the registry written at the
  // default http://localhost:4001/graphql, exit 0.
  it('refuses a HUB_SUBGRAPH_URLS entry naming no subgraph, as the hub does, rather than write the default URL in its place', async () => {
    const r = await compose({ HUB_SUBGRAPH_URLS: 'regsitry=https://registry.internal.example/graphql' });
    expect({ exitCode: r.exitCode, registryUrl: registryUrlIn(r.written), lines: r.lines }).toEqual({
      exitCode: 1,
      registryUrl: null,
      lines: [expect.stringMatching(/^compose: .*regsitry/)],
    });
  });

  it('pin: writes the URL of a subgraph named correctly', async () => {
    const r = await compose({ HUB_SUBGRAPH_URLS: 'registry=https://registry.internal.example/graphql' });
    expect({ exitCode: r.exitCode, registryUrl: registryUrlIn(r.written) }).toEqual({ exitCode: 0, registryUrl: 'https://registry.internal.example/graphql' });
  });
});
