import { performance } from 'node:perf_hooks';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { GatewayGraphQLRequestContext, GatewayInterface, GatewaySchemaLoadOrUpdateCallback } from '@apollo/server-gateway-interface';
import express from 'express';
import { execute, GraphQLError } from 'graphql';
import { AuditSink, AuditWriter, auditWriterPool, DiscardingAuditSink } from '../audit/audit.writer';
import type { HubConfig } from '../config/hub.config';
import { HubErrorCode, HubException, maskUnexpectedError } from '../errors/hub.exception';
import { ACCESS_EXTENSION, ASSERTION_HEADER, AssertionRefused, SUBGRAPH_BODY_LIMIT_BYTES, ReplayGuard, requestDigest, VerifiedAssertion, verifyAssertion, vouchedRequestId } from '../gateway/gateway-assertion';
import { BuiltSubgraph, buildSubgraph } from '../gateway/supergraph';
import { isLiteralRefusal } from '../gateway/input-refusal';
import { findSubgraph } from '../subgraphs';
import { buildPolicy, closedInOrder, openDatabase, startSlices } from './bootstrap';
import { boundByDeadline } from '../db/request-deadline';
import { expressApp, jsonErrors, listen, postOnlyRefusal, REQUEST_ID_HEADER, sendRefusal, unknownPath } from './http-listener';
import { createHubContext, HubContext, hubClock } from './hub.context';
import { gatewaySecret } from '../config/secrets';

/**
 * Apollo Server parses and validates against the subgraph's schema and hands execution over here:
 * the policy is compiled per subject, so each operation runs on the caller's subject's schema.
 */
function perSubjectExecution(built: BuiltSubgraph): GatewayInterface {
  let onLoad: GatewaySchemaLoadOrUpdateCallback = () => undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      onLoad = callback;
      return () => undefined;
    },
    async load() {
      onLoad({ apiSchema: built.raw, coreSupergraphSdl: built.sdl });
      return {
        executor: async (rc: GatewayGraphQLRequestContext) =>
          execute({
            schema: built.schemaFor((rc.context as HubContext).subject),
            document: rc.document,
            variableValues: rc.request.variables,
            operationName: rc.operationName,
            contextValue: rc.context,
          }),
      };
    },
    async stop() {},
  };
}

/** A subgraph's request context: the caller's, and what the gateway's assertion was checked against. */
interface SubgraphContext extends HubContext {
  asserted: {
    /** Digest of the one request the assertion was signed for (claim `req`). */
    digest: string;
    /** Who presented it, for the log. */
    from: string;
  };
}

/**
 * What of the gateway's budget for a fetch is kept for the way back: the gateway counts it from
 * before it sent the fetch (the way here is spent already when it arrives) and after the last
 * commit the fetch still resolves its other fields, and its answer is written and carried back.
 * 1 s, as long as the hub waits for a database's reply beyond its own limit; a quarter of a budget
 * shorter than 4 s, so that the shortest (1 s) still leaves time to work.
 */
const ANSWER_MARGIN_MS = 1_000;
const answerMargin = (budgetMs: number) => Math.min(ANSWER_MARGIN_MS, budgetMs / 4);

/** A parsed JSON body that is one request (not a batch, not a scalar). */
const isBody = (b: unknown): b is Record<string, unknown> => typeof b === 'object' && b !== null && !Array.isArray(b);

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
  // The gateway writes the events of requests; what this process discloses on its own (the
  // workflow slice's webhook deliveries) it audits itself, on the same trail, as the append-only
  // writer role (several writers on one trail: audit.writer.ts). Connects only when first used.
  const auditPool = auditWriterPool(db.url, config.audit.timeoutMs, `[subgraph ${name}]`);
  const writer: AuditSink = config.benchDisable.audit ? new DiscardingAuditSink() : new AuditWriter(auditPool);
  const closeAll = async () => {
    await auditPool.end();
    await db.close();
  };
  try {
    const policy = buildPolicy();
    const built = await buildSubgraph(slice, policy, { enforce: !config.benchDisable.policy, log: !config.benchDisable.audit });
    const secret = gatewaySecret(config);
    // A replayed or expired assertion is someone else presenting the gateway's (a proxy that logs
    // headers, an interception), and so is one sent in a way the gateway never sends: the reason
    // and the gateway's request id, never the token or the body.
    const logRefusal = (what: string, requestId: string | undefined, from: string) =>
      console.error(`[subgraph ${name}] refused ${what}${requestId ? ` (request ${requestId})` : ''} from ${from}`);
    const logged = (e: unknown, from: string) => {
      if (e instanceof AssertionRefused) logRefusal(`a gateway assertion: ${e.reason}`, e.requestId, from);
      return e;
    };
    const server = new ApolloServer<SubgraphContext>({
      gateway: perSubjectExecution(built),
      introspection: false,
      // Only the gateway calls a subgraph, with every request's text: no cache of texts to keep.
      persistedQueries: false,
      includeStacktraceInErrorResponses: false,
      // src/cli/subgraph.cli.ts stops the server on SIGTERM and SIGINT, requests in flight first:
      // Apollo's own handler would stop it at once under them, then kill the process.
      stopOnTerminationSignals: false,
      // Traces would tell the caller how long each resolver took: not for this data.
      plugins: [
        ApolloServerPluginInlineTraceDisabled(),
        // Apollo's default landing page loads scripts from its CDN and names the server's version.
        ApolloServerPluginLandingPageDisabled(),
        {
          async requestDidStart() {
            return {
              // The assertion was checked against the body express.json() parsed; what runs is the
              // request Apollo Server parsed, which need not come from that body (a GET's comes
              // from its URL). Refused unless it too is the request the gateway signed.
              async didResolveOperation({ request, contextValue: { asserted, requestId } }) {
                if (requestDigest(request) !== asserted.digest) throw logged(new AssertionRefused('Invalid gateway signature', 'other request', requestId), asserted.from);
              },
              // The gateway writes the audit event; it learns what this subgraph read and wrote here.
              async willSendResponse({ response, contextValue }) {
                if (response.body.kind !== 'single') return;
                const result = response.body.singleResult;
                result.extensions = { ...result.extensions, [ACCESS_EXTENSION]: contextValue.access.toJSON() };
                // Apollo Server answers with the status of any error that carries one (a resolver's
                // LIMIT_EXCEEDED, 413), data or not; the gateway takes a non-2xx answer for a refusal
                // and drops its data. An answer that executed is the subgraph's answer: the other
                // fields' data, a mutation that committed, reach the client as in process.
                if (result.data !== undefined) response.http.status = 200;
              },
            };
          },
        },
      ],
      // A literal of the client's document that this subgraph's scalar refused (input-refusal.ts) is
      // the client's error: labelled so, the gateway passes it on as an in-process hub answers it.
      formatError: (formatted, error) =>
        error instanceof GraphQLError && formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && isLiteralRefusal(error)
          ? { message: formatted.message, locations: formatted.locations, extensions: { code: HubErrorCode.BAD_USER_INPUT } }
          : maskUnexpectedError(formatted, error, config.production),
    });
    await server.start();
    const replays = new ReplayGuard();
    const app = expressApp();
    app.get('/health', (_req, res) => {
      res.json({ status: 'ok', subgraph: name });
    });
    // The path itself (and /graphql/): app.use also served every path under it as the endpoint.
    app.all(
      '/graphql',
      // The gateway POSTs its request as the body, to the bare path: a GET, or a query string
      // (which Apollo Server would read a GET's request from), is someone else's request. Refused
      // before the assertion is looked at, so the gateway's own fetch with it still runs.
      async (req, res, next) => {
        res.locals.arrivedAt = performance.now();
        // Every answer, a refusal of the context included (Apollo Server's plugins never see it), is of one request.
        res.setHeader('Cache-Control', 'no-store');
        const refusal = postOnlyRefusal(req, res) ?? (req.originalUrl.includes('?') ? new HubException(HubErrorCode.BAD_REQUEST, 'A query string is not served: the request is the body') : null);
        if (!refusal) return next();
        const requestId = await vouchedRequestId(secret, name, req.header(ASSERTION_HEADER));
        logRefusal(`a request: ${req.method === 'POST' ? 'query string' : 'not POST'}`, requestId, req.socket.remoteAddress ?? 'unknown');
        sendRefusal(res, refusal);
      },
      express.json({ limit: SUBGRAPH_BODY_LIMIT_BYTES }),
      expressMiddleware(server, {
        context: async ({ req, res }) => {
          const from = req.socket.remoteAddress ?? 'unknown';
          let asserted: VerifiedAssertion;
          try {
            asserted = await verifyAssertion(secret, name, req.header(ASSERTION_HEADER), isBody(req.body) ? req.body : {}, replays, hubClock(config));
          } catch (e) {
            // A replay makes the gateway's own fetch fail, and its event is flagged ACCESS_IN_DOUBT.
            throw logged(e, from);
          }
          const { principal, requestId, purpose, grant, digest, budgetMs, now } = asserted;
          // The gateway's id for it, which a stop that times out logs (listen).
          res.setHeader(REQUEST_ID_HEADER, requestId);
          const data = budgetMs === undefined ? db.ds : boundByDeadline(db.ds, res.locals.arrivedAt + budgetMs - answerMargin(budgetMs), `[subgraph ${name}] request ${requestId}`);
          // The request's instant, as the gateway's other fetches of it have it; an older gateway's assertion brings none.
          return { ...createHubContext(config, principal, policy, data, now ?? hubClock(config), requestId, undefined, purpose, grant), asserted: { digest, from } };
        },
      }),
    );
    app.use(unknownPath, jsonErrors);
    let background: { stop(): Promise<void> } | undefined;
    const listening = await listen(
      app,
      port,
      server,
      closedInOrder(db, writer, closeAll, () => background),
      { graceMs: config.shutdownGraceMs, answerStallMs: config.answerStallMs, maxConnections: config.maxConnections, logName: `[subgraph ${name}]` },
    );
    background = startSlices([slice], { ds: db.ds, maintenance: db.maintenance, config, policy, audit: writer });
    return { url: `http://localhost:${listening.port}/graphql`, stop: listening.stop };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
