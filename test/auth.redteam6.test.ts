import { generateKeyPairSync } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { KEY_SET_COOLDOWN_SECONDS, KEY_SET_MAX_AGE_SECONDS, KEY_SET_RETRY_SECONDS, TokenService } from '../src/auth/token.service';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * The identity provider's key set (HUB_JWKS_URL) out of reach: a token that needs it is not the
 * caller's fault. It was answered 401 "Invalid token" and audited UNAUTHENTICATED, as a forged one
 * is, and every request fetched the set again during the provider's outage.
 */
describe('red team 6: the identity provider’s key set', () => {
  const k1 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const k2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const claims = { department: 'POLICE', role: 'OFFICER', region: '330102' };
  const sign = (key: typeof k1, kid: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject(`idp-user-${Math.random()}`) // a new token text each time: none found among those verified before
      .setIssuer('minor-protection-hub')
      .setAudience('minor-protection-hub')
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(key.privateKey);

  let server: Server;
  let url: string;
  let fetches = 0;
  let published: (typeof k1)[] = [];
  let answering = true;
  beforeAll(async () => {
    const jwk = async (k: typeof k1, kid: string) => ({ ...(await exportJWK(k.publicKey)), kid, alg: 'ES256', use: 'sig' });
    server = createServer(async (_req, res) => {
      fetches++;
      if (!answering) return void res.writeHead(500).end('down');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: await Promise.all(published.map((k) => jwk(k, k === k1 ? 'idp-1' : 'idp-2'))) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => jest.restoreAllMocks());

  describe('through the endpoint', () => {
    let t: TestHub;
    beforeAll(async () => {
      t = await startTestHub({ env: { HUB_JWKS_URL: url } });
    });
    afterAll(() => t?.stop());

    it('answers 503 IDENTITY_PROVIDER_UNAVAILABLE, audited as an error, and does not fetch again for every request', async () => {
      answering = false;
      fetches = 0;
      const token = await sign(k1, 'idp-1');
      const first = await post(t, token, { query: '{ regions { code } }' });
      expect([first.status, first.json, first.headers.get('retry-after'), first.headers.get('www-authenticate')]).toEqual([
        503,
        { errors: [{ message: 'The identity provider’s keys could not be fetched to check the token; try again shortly', extensions: { code: 'IDENTITY_PROVIDER_UNAVAILABLE' } }] },
        String(KEY_SET_RETRY_SECONDS),
        null,
      ]);
      const event = await eventOf(t, first.requestId);
      expect([event.outcome, event.errorCodes, event.userId ?? null]).toEqual(['ERROR', ['IDENTITY_PROVIDER_UNAVAILABLE'], null]);
      const again = await post(t, token, { query: '{ regions { code } }' });
      expect([again.status, again.json.errors[0].extensions.code, fetches]).toEqual([503, 'IDENTITY_PROVIDER_UNAVAILABLE', 1]);
    });
  });

  describe('its fetches', () => {
    const at = (seconds: number) => {
      const start = Date.now();
      jest.spyOn(Date, 'now').mockImplementation(() => start + seconds * 1000);
    };
    const outcome = (tokens: TokenService, token: string) =>
      tokens.verify(`Bearer ${token}`).then(
        (p) => `served ${p.region}`,
        (e) => e.extensions?.code ?? String(e),
      );

    it('tries again after a failure only once KEY_SET_RETRY_SECONDS have passed', async () => {
      answering = false;
      published = [k1];
      fetches = 0;
      const tokens = await TokenService.create(testConfig({ env: { HUB_JWKS_URL: url } }));
      expect(await outcome(tokens, await sign(k1, 'idp-1'))).toBe('IDENTITY_PROVIDER_UNAVAILABLE');
      expect(await outcome(tokens, await sign(k1, 'idp-1'))).toBe('IDENTITY_PROVIDER_UNAVAILABLE');
      expect(fetches).toBe(1);
      answering = true;
      at(KEY_SET_RETRY_SECONDS + 1);
      expect(await outcome(tokens, await sign(k1, 'idp-1'))).toBe('served 330102');
      expect(fetches).toBe(2);
    });

    it('picks up a new key once the cooldown has passed, stops accepting a removed one at the set’s age, and never serves a stale set', async () => {
      answering = true;
      published = [k1];
      fetches = 0;
      const tokens = await TokenService.create(testConfig({ env: { HUB_JWKS_URL: url } }));
      expect(await outcome(tokens, await sign(k1, 'idp-1'))).toBe('served 330102');
      // A key the provider has not published, or has just published: within the cooldown no fetch, refused.
      published = [k1, k2];
      expect(await outcome(tokens, await sign(k2, 'idp-2'))).toBe('UNAUTHENTICATED');
      expect(fetches).toBe(1);
      at(KEY_SET_COOLDOWN_SECONDS + 1);
      expect(await outcome(tokens, await sign(k2, 'idp-2'))).toBe('served 330102');
      expect(fetches).toBe(2);
      // The provider drops k1 (leaked): accepted until the set it was fetched in is KEY_SET_MAX_AGE_SECONDS old.
      published = [k2];
      expect(await outcome(tokens, await sign(k1, 'idp-1'))).toBe('served 330102');
      at(KEY_SET_COOLDOWN_SECONDS + 1 + KEY_SET_MAX_AGE_SECONDS);
      expect(await outcome(tokens, await sign(k1, 'idp-1'))).toBe('UNAUTHENTICATED');
      expect(fetches).toBe(3);
      // Old enough again while the provider is down: no token is checked against the old set.
      answering = false;
      at(KEY_SET_COOLDOWN_SECONDS + 2 + 2 * KEY_SET_MAX_AGE_SECONDS);
      expect(await outcome(tokens, await sign(k2, 'idp-2'))).toBe('IDENTITY_PROVIDER_UNAVAILABLE');
    });
  });
});
