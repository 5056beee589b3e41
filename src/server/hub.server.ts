import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { randomUUID } from 'node:crypto';
import { TokenService } from '../auth/token.service';
import type { HubConfig } from '../config/hub.config';
import { devSecret } from '../config/secrets';
import { maskUnexpectedError, unauthenticated } from '../errors/hub.exception';
import type { GatewayContext } from '../gateway/gateway.context';
import { InProcessDataSource } from '../gateway/in-process.data-source';
import { SignedRemoteDataSource } from '../gateway/signed-remote.data-source';
import { buildSubgraph, composeSupergraph } from '../gateway/supergraph';
import { SUBGRAPHS } from '../subgraphs';
import { listen } from './http-listener';
import { buildPolicy, Database, openDatabase } from './bootstrap';
import { RegionDirectory } from './region-directory';

export interface Hub {
  url: string;
  port: number;
  db: Database;
  supergraphSdl: string;
  stop(): Promise<void>;
}

export function gatewaySecret(config: HubConfig): Uint8Array {
  return new TextEncoder().encode(config.gatewaySecret ?? devSecret(config.dataDir, 'gateway-secret'));
}

/**
 * The hub: the gateway composing every subgraph, in-process by default or over signed HTTP when
 * `HUB_SUBGRAPH_URLS` names them, behind bearer-token authentication.
 */
export async function startHub(config: HubConfig, log: (m: string) => void = () => undefined): Promise<Hub> {
  const db = await openDatabase(config, log);
  try {
    const policy = buildPolicy();
    const subgraphs = await Promise.all(SUBGRAPHS.map((s) => buildSubgraph(s, policy)));
    const distributed = Object.keys(config.subgraphUrls).length > 0;
    for (const s of subgraphs) {
      if (distributed && !config.subgraphUrls[s.slice.name]) throw new Error(`HUB_SUBGRAPH_URLS has no URL for ${s.slice.name}`);
    }
    const supergraphSdl = composeSupergraph(subgraphs, config.subgraphUrls);
    const secret = gatewaySecret(config);
    const gateway = new ApolloGateway({
      supergraphSdl,
      buildService: ({ name, url }) =>
        distributed
          ? new SignedRemoteDataSource(url!, name, secret)
          : new InProcessDataSource(subgraphs.find((s) => s.slice.name === name)!.schema, policy, db.ds),
    });
    const server = new ApolloServer<GatewayContext>({
      gateway,
      introspection: !config.production,
      includeStacktraceInErrorResponses: false,
      formatError: (formatted, error) => maskUnexpectedError(formatted, error),
    });
    await server.start();

    const tokens = await TokenService.create(config);
    const regions = new RegionDirectory(db.ds);
    const app = express();
    app.disable('x-powered-by');
    app.get('/health', (_req, res) => {
      res.json({ status: 'ok' });
    });
    app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      expressMiddleware(server, {
        context: async ({ req }) => {
          const principal = await tokens.verify(req.headers.authorization);
          if (!(await regions.has(principal.region))) throw unauthenticated('Token names an unknown jurisdiction');
          return { requestId: randomUUID(), principal };
        },
      }),
    );
    const listening = await listen(app, config.port, server, db);
    return {
      url: `http://localhost:${listening.port}/graphql`,
      port: listening.port,
      db,
      supergraphSdl,
      stop: listening.stop,
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
