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

  it('keeps a subgraph URL whole, query string and all, and refuses a subgraph named twice', () => {
    expect(loadConfig({ HUB_SUBGRAPH_URLS: 'registry=http://h:4001/graphql?tenant=a' }).subgraphUrls).toEqual({ registry: 'http://h:4001/graphql?tenant=a' });
    expect(() => loadConfig({ HUB_SUBGRAPH_URLS: 'registry=http://a:4001/graphql,registry=http://b:4001/graphql' })).toThrow(/names subgraph "registry" twice/);
    expect(() => loadConfig({ HUB_SUBGRAPH_URLS: 'registry' })).toThrow(/entries look like registry=/);
  });
});
