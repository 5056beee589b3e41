import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { HttpAudit, gatewayContextOf, utf8Only } from '../audit/audit.http';
import { declaredPurpose, PURPOSE_HEADER } from '../audit/purpose';
import { auditPlugin } from '../audit/audit.plugin';
import { SubgraphFields } from '../audit/validation-bound';
import { AuditSink, AuditWriter, auditWriterPool, DiscardingAuditSink } from '../audit/audit.writer';
import { TokenService } from '../auth/token.service';
import type { HubConfig } from '../config/hub.config';
import { CompiledReads } from '../compiled-read/compiled-read.handler';
import { auditKey, gatewaySecret } from '../config/secrets';
import { databaseUnavailableStatus, maskUnexpectedError } from '../errors/hub.exception';
import type { GatewayContext } from '../gateway/gateway.context';
import { FastPathGateway } from '../gateway/fast-path.gateway';
import { InProcessDataSource } from '../gateway/in-process.data-source';
import { entityKeyFields, reservedResponseNames, reservedVariableNames } from '../gateway/reserved-response-names';
import { SignedRemoteDataSource } from '../gateway/signed-remote.data-source';
import { dateLiteralAsBadInput } from '../gateway/supergraph-scalars';
import { buildSubgraph, composeSupergraph } from '../gateway/supergraph';
import { CHILD_FREE_MUTATIONS, CHILD_RECORD_TYPES, FIELD_GRANTS, PURPOSE_FREE_MUTATIONS, requireKnownSubgraphs, SUBGRAPHS } from '../subgraphs';
import { registrySubgraph } from '../subgraphs/registry';
import { mountDashboard } from '../subgraphs/statistics';
import { buildPolicy, closedInOrder, Database, openDatabase, startSlices } from './bootstrap';
import { Access } from '../policy/policy.types';
import { expressApp, jsonErrors, listen, NO_STORE_ANSWERS, unknownPath } from './http-listener';
import { RegionDirectory } from './region-directory';
import { createHubContext, hubClock } from './hub.context';
import { AccessLog } from '../audit/access-log';
import { auditEvent, changeMayStand, outcomeOf } from '../audit/audit-event';

export interface Hub {
  url: string;
  port: number;
  db: Database;
  audit: AuditSink;
  supergraphSdl: string;
  /** Requests answered by compiled reads (src/compiled-read); null when they are off. */
  compiledReadsServed(): number | null;
  stop(): Promise<void>;
}

/**
 * The hub: the gateway composing every subgraph, in-process by default or over signed HTTP for
 * those `HUB_SUBGRAPH_URLS` names, behind bearer-token authentication, every request audited.
 */
export async function startHub(config: HubConfig, log: (m: string) => void = () => undefined): Promise<Hub> {
  const db = await openDatabase(config, log);
  // Audit writes have their own small pool, connected as the append-only writer role: a burst of
  // queries cannot starve the trail, and the application cannot UPDATE or DELETE it.
  const auditPool = auditWriterPool(db.url, config.audit.timeoutMs, '[hub]');
  const closeAll = async () => {
    await auditPool.end();
    await db.close();
  };
  try {
    const policy = buildPolicy();
    const { benchDisable } = config;
    if (benchDisable.policy || benchDisable.audit || benchDisable.compiled) {
      const off = [benchDisable.policy && 'field policy', benchDisable.audit && 'audit', benchDisable.compiled && 'compiled reads'].filter(Boolean);
      log(`WARNING: benchmark mode, ${off.join(' and ')} OFF`);
    }
    const subgraphs = await Promise.all(SUBGRAPHS.map((s) => buildSubgraph(s, policy, { enforce: !benchDisable.policy, log: !benchDisable.audit })));
    requireKnownSubgraphs(config.subgraphUrls);
    const supergraphSdl = composeSupergraph(subgraphs, config.subgraphUrls);
    // Only a gateway with remote subgraphs signs assertions (production: HUB_GATEWAY_SECRET, required then).
    const secret = Object.keys(config.subgraphUrls).length ? gatewaySecret(config) : null;
    // Subgraphs given a URL are called over signed HTTP; the others run in this process, and
    // answer alone what only they define (FastPathGateway).
    const local = subgraphs
      .filter((s) => !config.subgraphUrls[s.slice.name])
      .map((s) => [s.slice.name, new InProcessDataSource(config, s, policy, db.ds)] as const);
    const gateway = new FastPathGateway(
      new ApolloGateway({
        supergraphSdl,
        buildService: ({ name }) =>
          config.subgraphUrls[name] ? new SignedRemoteDataSource(config.subgraphUrls[name], name, secret!, config.subgraphTimeoutMs, () => hubClock(config)) : local.find(([n]) => n === name)![1],
      }),
      local.map(([, source]) => source),
    );
    const writer: AuditSink = benchDisable.audit ? new DiscardingAuditSink() : new AuditWriter(auditPool);
    const unavailableStatus = databaseUnavailableStatus<GatewayContext>((ctx, operationType, codes) => changeMayStand(operationType, ctx.access, codes));
    const server = new ApolloServer<GatewayContext>({
      gateway,
      introspection: !config.production,
      validationRules: [reservedResponseNames(entityKeyFields(supergraphSdl)), reservedVariableNames],
      includeStacktraceInErrorResponses: false,
      // Automatic persisted queries would keep one cache of query texts for every caller: whether a
      // hash is known would tell one department that another asked that exact text (ids typed in).
      persistedQueries: false,
      // src/main.ts stops the hub on SIGTERM and SIGINT, requests in flight first: Apollo's own
      // handler would stop it at once under them, then kill the process.
      stopOnTerminationSignals: false,
      formatError: (formatted, error) => maskUnexpectedError(dateLiteralAsBadInput(formatted, error), error, config.production),
      // Apollo's default landing page loads scripts from its CDN and names the server's version.
      plugins: benchDisable.audit
        ? [ApolloServerPluginLandingPageDisabled(), NO_STORE_ANSWERS, unavailableStatus]
        : [
            ApolloServerPluginLandingPageDisabled(),
            NO_STORE_ANSWERS,
            unavailableStatus,
            auditPlugin({
              writer,
              variableKey: auditKey(config),
              childTypes: CHILD_RECORD_TYPES,
              purposeFreeMutations: PURPOSE_FREE_MUTATIONS,
              childFreeMutations: CHILD_FREE_MUTATIONS,
              maxQueryCost: config.maxQueryCost,
              // A field a subject is refused answers an error on each object that holds it.
              refusals: benchDisable.policy
                ? undefined
                : (subject) => ({
                    refused: (key) => policy.row(key) !== undefined && policy.access(subject, key) === Access.DENY,
                    grantable: (key) => FIELD_GRANTS.fields.has(key),
                  }),
              checkPurpose: async (purpose, g) => {
                if (!FIELD_GRANTS.governs(purpose)) return null;
                const grant = await FIELD_GRANTS.settle(createHubContext(config, g.principal, policy, db.ds, g.now, g.requestId, new AccessLog(), purpose));
                g.grant.settled = grant ?? undefined;
                return grant?.minorId ?? null;
              },
            }),
          ],
    });
    await server.start();

    const tokens = await TokenService.create(config);
    const regions = new RegionDirectory(db.ds);
    // Compiled reads need the registry in this process: they call its resolvers directly.
    const registry = local.find(([name]) => name === registrySubgraph.name)?.[1];
    const compiled =
      registry && !benchDisable.compiled
        ? new CompiledReads({
            config,
            registry,
            policy,
            enforce: !benchDisable.policy,
            db: db.ds,
            tokens,
            regions,
            audit: benchDisable.audit ? null : { writer, variableKey: auditKey(config) },
          })
        : null;
    const httpAudit = new HttpAudit(writer, tokens, regions, SubgraphFields.fromSupergraph(supergraphSdl), () => hubClock(config), auditKey(config), compiled ? (req) => compiled.arrival(req) : undefined);
    const json = express.json({ limit: '1mb', verify: utf8Only });
    const app = expressApp();
    app.get('/health', (_req, res) => {
      res.json({ status: 'ok' });
    });
    mountDashboard(app);
    // The path itself (and /graphql/): app.use also served every path under it as the endpoint.
    app.all(
      '/graphql',
      httpAudit.authenticate,
      httpAudit.postOnly,
      httpAudit.acceptable,
      httpAudit.readBody(compiled ? compiled.jsonBody(json) : json),
      httpAudit.bodyErrors,
      httpAudit.instant,
      httpAudit.validationBound,
      expressMiddleware(server, { context: async ({ res }) => gatewayContextOf(res) }),
    );
    app.use(unknownPath, jsonErrors);
    let background: { stop(): Promise<void> } | undefined;
    const listening = await listen(
      compiled ? compiled.listener(app) : app,
      config.port,
      server,
      closedInOrder(db, writer, closeAll, () => background),
      {
        graceMs: config.shutdownGraceMs,
        answerStallMs: config.answerStallMs,
        maxConnections: config.maxConnections,
        logName: '[hub]',
        auditRefusal: async (req, requestId, code) => {
          const startedAt = performance.now();
          const principal = await httpAudit.refusedCaller(req);
          await writer.append(
            auditEvent({
              requestId,
              startedAt,
              principal,
              clientAddress: req.socket.remoteAddress ?? null,
              outcome: outcomeOf([code], null),
              errorCodes: [code],
              // A purpose only beside the caller it is that caller's: an anonymous client's is its own text.
              purpose: principal && declaredPurpose(req.headersDistinct[PURPOSE_HEADER]),
            }),
          );
        },
      },
    );
    // Timers of the slices served here (workflow deadlines and webhooks, statistics refresh);
    // a slice served remotely runs its own in its process, so no timer runs twice.
    background = startSlices(SUBGRAPHS.filter((s) => !config.subgraphUrls[s.name]), { ds: db.ds, maintenance: db.maintenance, config, policy, audit: writer });
    return {
      url: `http://localhost:${listening.port}/graphql`,
      port: listening.port,
      db,
      audit: writer,
      supergraphSdl,
      compiledReadsServed: () => compiled?.served ?? null,
      stop: listening.stop,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
