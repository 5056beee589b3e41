import { Department } from '../src/auth/principal';
import { postGraphQL, startTestHub, type TestHub } from './support/test-hub';
import { openConnection } from './support/raw-socket';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX = 10;
/** The hub's header limit (http-listener.ts `headersTimeout`), and Node's check of it. */
const HEADER_LIMIT_MS = 66_000;

/**
 * Node times a connection's headers from their first byte: one that sends nothing was never timed
 * at all, and with HUB_MAX_CONNECTIONS of them open — one client's, or clients gone without a FIN
 * before their first request — every later connection was closed as it was accepted, for as long
 * as the hub ran. A connection that starts no request within the header limit is closed.
 */
describe('connections that never send a request (red team 9)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_MAX_CONNECTIONS: String(MAX) } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const silent = () => openConnection(t.hub.port);

  it('are closed after the header limit, and do not keep every other client out', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const token = await t.token(Department.CIVIL_AFFAIRS);
      const held = [];
      for (let i = 0; i < MAX; i++) held.push(await silent());
      await sleep(200);
      // The cap is reached: a client is turned away meanwhile.
      await expect(postGraphQL(t.hub.url, token, '{ __typename }')).rejects.toThrow();

      const started = Date.now();
      while (held.some((c) => !c.closed) && Date.now() - started < HEADER_LIMIT_MS + 15_000) await sleep(500);
      expect(held.filter((c) => !c.closed)).toHaveLength(0);
      expect(Date.now() - started).toBeGreaterThan(HEADER_LIMIT_MS - 5_000);
      const served = await postGraphQL(t.hub.url, token, '{ __typename }');
      expect(served.status).toBe(200);
    } finally {
      logged.mockRestore();
    }
  }, 120_000);
});
