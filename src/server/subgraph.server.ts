import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { HubConfig } from '../config/hub.config';
import { maskUnexpectedError } from '../errors/hub.exception';
import { ACCESS_EXTENSION, ASSERTION_HEADER, verifyAssertion } from '../gateway/gateway-assertion';
import { buildSubgraph } from '../gateway/supergraph';
import { findSubgraph } from '../subgraphs';
import { buildPolicy, openDatabase } from './bootstrap';
import { listen } from './http-listener';
import { createHubContext, HubContext } from './hub.context';
import { gatewaySecret } from '../config/secrets';

export interface SubgraphServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * One subgraph served alone (distributed mode). It answers only requests carrying the gateway's
 * signed assertion addressed to it; a client calling it directly gets UNAUTHENTICATED.
 */
export async function startSubgraphServer(name: string, config: HubConfig, port: number): Promise<SubgraphServer> {
  const slice = findSubgraph(name);
  const db = await openDatabase(config);
  try {
    const policy = buildPolicy();
    const { schema } = await buildSubgraph(slice, policy, !config.benchDisable.policy);
    const secret = gatewaySecret(config);
    const server = new ApolloServer<HubContext>({
      schema,
      introspection: false,
      includeStacktraceInErrorResponses: false,
      // Traces would tell the caller how long each resolver took: not for this data.
      plugins: [
        ApolloServerPluginInlineTraceDisabled(),
        {
          // The gateway writes the audit event; it learns what this subgraph read and wrote here.
          async requestDidStart() {
            return {
              async willSendResponse({ response, contextValue }) {
                if (response.body.kind !== 'single') return;
                const result = response.body.singleResult;
                result.extensions = { ...result.extensions, [ACCESS_EXTENSION]: contextValue.access.toJSON() };
              },
            };
          },
        },
      ],
      formatError: (formatted, error) => maskUnexpectedError(formatted, error),
    });
    await server.start();
    const app = express();
    app.disable('x-powered-by');
    app.get('/health', (_req, res) => {
      res.json({ status: 'ok', subgraph: name });
    });
    app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      expressMiddleware(server, {
        context: async ({ req }) => {
          const { principal, requestId, purpose } = await verifyAssertion(secret, name, req.header(ASSERTION_HEADER));
          return createHubContext(config, principal, policy, db.ds, requestId, undefined, purpose);
        },
      }),
    );
    const listening = await listen(app, port, server, db);
    return { url: `http://localhost:${listening.port}/graphql`, stop: listening.stop };
  } catch (e) {
    await db.close();
    throw e;
  }
}
