import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../src/config/hub.config';

/** Values an operator's environment really holds: set but empty, URLs with query strings, a name twice. */
describe('config: empty and repeated values', () => {
  it('takes an empty HUB_ANOMALY_UTC_OFFSET or HUB_ANOMALY_WORKING_HOURS for the default, as every other variable', () => {
    // `HUB_ANOMALY_UTC_OFFSET=` in an env file once gave offset 0: OFF_HOURS judged eight hours off China's.
    for (const empty of ['', ' ']) expect(loadConfig({ HUB_ANOMALY_UTC_OFFSET: empty }).audit.anomalies.utcOffsetHours).toBe(8);
    expect(loadConfig({ HUB_ANOMALY_WORKING_HOURS: '' }).audit.anomalies.workingHours).toEqual([8, 20]);
    expect(loadConfig({ HUB_ANOMALY_UTC_OFFSET: '0' }).audit.anomalies.utcOffsetHours).toBe(0);
    expect(() => loadConfig({ HUB_ANOMALY_UTC_OFFSET: 'x' })).toThrow(/HUB_ANOMALY_UTC_OFFSET must be an integer/);
  });

  it('refuses a subgraph URL with a query string or fragment (a subgraph server refuses them), and a subgraph named twice', () => {
    expect(loadConfig({ HUB_SUBGRAPH_URLS: 'registry=http://h:4001/graphql' }).subgraphUrls).toEqual({ registry: 'http://h:4001/graphql' });
    for (const url of ['http://h:4001/graphql?tenant=a', 'http://h:4001/graphql#a']) {
      expect(() => loadConfig({ HUB_SUBGRAPH_URLS: `registry=${url}` })).toThrow(/take no query string or fragment/);
    }
    expect(() => loadConfig({ HUB_SUBGRAPH_URLS: 'registry=http://a:4001/graphql,registry=http://b:4001/graphql' })).toThrow(/names subgraph "registry" twice/);
    expect(() => loadConfig({ HUB_SUBGRAPH_URLS: 'registry' })).toThrow(/entries look like registry=/);
  });
});

describe('config: the identity provider’s key', () => {
  it('refuses a HUB_JWT_PUBLIC_KEY that is no PEM public key, or a HUB_JWKS_URL that is no URL, naming the setting and not its value', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(loadConfig({ HUB_JWT_PUBLIC_KEY: pem }).jwt.publicKeyPem).toBe(pem);
    // A private key pasted in its place is refused too, and not echoed into the log.
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const bad of ['-----BEGIN PUBLIC KEY-----garbage-----END PUBLIC KEY-----', 'not a key', privatePem]) {
      expect(() => loadConfig({ HUB_JWT_PUBLIC_KEY: bad })).toThrow(/^HUB_JWT_PUBLIC_KEY must be a PEM public key \(SPKI: "-----BEGIN PUBLIC KEY-----"\), and is not one$/);
    }
    expect(() => loadConfig({ HUB_JWKS_URL: 'idp.internal/jwks.json' })).toThrow(/^HUB_JWKS_URL must be a URL/);
  });
});
