/**
 * The signed `x-hub-gateway-assertion` each subgraph demands, for a gateway without the hub's own
 * data source: one per subgraph, signed again before the 60 s ones in use expire.
 */
const { loadConfig } = require('../../dist/src/config/hub.config');
const { gatewaySecret } = require('../../dist/src/config/secrets');
const { signAssertion } = require('../../dist/src/gateway/gateway-assertion');

const SUBGRAPHS = JSON.parse(process.env.BENCH_SUBGRAPHS); // { name: url }
const secret = gatewaySecret(loadConfig()); // HUB_DATA_DIR or HUB_GATEWAY_SECRET, as the subgraphs read it
const principal = { userId: 'bench-gateway', department: 'CIVIL_AFFAIRS', role: 'OFFICER', region: process.env.BENCH_REGION };
const current = {};

async function sign() {
  for (const name of Object.keys(SUBGRAPHS)) {
    current[name] = await signAssertion(secret, name, { principal, requestId: 'bench', purpose: { code: 'CASE_HANDLING' } });
  }
}

module.exports = {
  ready: sign().then(() => setInterval(sign, 20_000).unref()),
  /** The assertion for the subgraph served at this URL. */
  forUrl: (url) => current[Object.keys(SUBGRAPHS).find((n) => SUBGRAPHS[n] === String(url))],
  forName: (name) => current[name],
};
