/** @apollo/gateway alone (no audit, purpose rule or fast path) in front of remote subgraphs. */
const fs = require('node:fs');
const { ApolloServer } = require('@apollo/server');
const { startStandaloneServer } = require('@apollo/server/standalone');
const { ApolloGateway, RemoteGraphQLDataSource } = require('@apollo/gateway');
const { ASSERTION_HEADER } = require('../../dist/src/gateway/gateway-assertion');
const assertions = require('./assertions');

(async () => {
  const gateway = new ApolloGateway({
    supergraphSdl: fs.readFileSync(process.env.BENCH_SUPERGRAPH, 'utf8'),
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({ url, willSendRequest: async ({ request }) => request.http.headers.set(ASSERTION_HEADER, await assertions.sign(name, request)) }),
  });
  await startStandaloneServer(new ApolloServer({ gateway }), { listen: { port: Number(process.env.PORT) } });
})();
