/**
 * The signed `x-hub-gateway-assertion` each subgraph demands, for a gateway without the hub's own
 * data source: signed per fetch, bound (as the hub's data source does) to that fetch's query,
 * operation name and variables.
 */
const { loadConfig } = require('../../dist/src/config/hub.config');
const { gatewaySecret } = require('../../dist/src/config/secrets');
const { signAssertion } = require('../../dist/src/gateway/gateway-assertion');

const SUBGRAPHS = JSON.parse(process.env.BENCH_SUBGRAPHS); // { name: url }
const secret = gatewaySecret(loadConfig()); // HUB_DATA_DIR or HUB_GATEWAY_SECRET, as the subgraphs read it
const principal = { userId: 'bench-gateway', department: 'CIVIL_AFFAIRS', role: 'OFFICER', region: process.env.BENCH_REGION };

module.exports = {
  /** The subgraph served at this URL. */
  nameOf: (url) => Object.keys(SUBGRAPHS).find((n) => SUBGRAPHS[n] === String(url)),
  /** An assertion for subgraph `name` bound to the GraphQL request `{ query, operationName, variables }` it accompanies. */
  sign: (name, { query, operationName, variables }) =>
    signAssertion(secret, name, { principal, requestId: 'bench', purpose: { code: 'CASE_HANDLING' } }, { query, operationName, variables }),
};
