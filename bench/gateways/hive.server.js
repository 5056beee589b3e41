/** Hive Gateway (runtime, with its JIT executor) in front of the same remote subgraphs. */
const fs = require('node:fs');
const { createServer } = require('node:http');
const { createGatewayRuntime } = require('@graphql-hive/gateway-runtime');
const { useJIT } = require('@graphql-mesh/plugin-jit');
const { ASSERTION_HEADER } = require('../../dist/src/gateway/gateway-assertion');
const assertions = require('./assertions');

(async () => {
  const gateway = createGatewayRuntime({
    supergraph: fs.readFileSync(process.env.BENCH_SUPERGRAPH, 'utf8'),
    logging: false,
    plugins: () => [
      useJIT(),
      {
        // The subgraph fetch's JSON body: the assertion is bound to its query, operation name and variables.
        onFetch: async ({ url, options, setOptions }) =>
          setOptions({ ...options, headers: { ...options.headers, [ASSERTION_HEADER]: await assertions.sign(assertions.nameOf(url), JSON.parse(options.body)) } }),
      },
    ],
  });
  createServer(gateway).listen(Number(process.env.PORT));
  // The runtime catches SIGTERM to dispose of itself, and leaves the process running.
  process.once('SIGTERM', () => process.exit(0));
})();
