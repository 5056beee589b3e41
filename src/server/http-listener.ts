import type { ApolloServer, ApolloServerPlugin, BaseContext } from '@apollo/server';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { newRequestId } from '../audit/request-id';
import { HubErrorCode, HubException, loggableError, MASKED_MESSAGE, RETRY_AFTER_SECONDS } from '../errors/hub.exception';
import type { Database } from './bootstrap';
import { InFlight } from './in-flight';

/** Response header naming the request's audit event, so a client can cite it. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** An Express app with the settings the hub's and the subgraphs' servers share. */
export function expressApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  // Express would hash every response body into an ETag: no use for POSTed GraphQL answers, and
  // a SHA-1 over each page of children (7 ms for the largest statistics table).
  app.set('etag', false);
  // Every answer is JSON (or the dashboard's files, typed): no browser may guess it is something else.
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  return app;
}

/**
 * `/graphql` serves POST only, on the hub and on subgraph servers. A GET carries its query and
 * variables in the URL, which proxies, load balancers and browser histories keep in clear (an ID
 * number looked up would be written there while the trail keeps only its HMAC); and Apollo Server
 * runs a GET's request from its URL whatever body came with it, so a check made on the body (a
 * subgraph's binding of the gateway's assertion) would not be a check of what runs. Null for a
 * POST, else the 405 refusal, with its `Allow` header set.
 */
export function postOnlyRefusal(req: Request, res: Response): HubException | null {
  if (req.method === 'POST') return null;
  res.setHeader('Allow', 'POST');
  return new HubException(HubErrorCode.BAD_REQUEST, 'Only POST is served: a GET would carry the query and its variables in the URL', { http: { status: 405 } });
}

/**
 * `Cache-Control: no-store` on every answer Apollo Server's pipeline makes: its refusal of a
 * persisted query's hash says `private, no-cache, must-revalidate`, which a cache may keep.
 */
export const NO_STORE_ANSWERS: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};

/**
 * Answers a request refused before GraphQL runs — by Express, or by the listener itself while
 * stopping: the refusal's status and typed error, nothing else.
 */
export function sendRefusal(res: http.ServerResponse, error: HubException, headers: http.OutgoingHttpHeaders = {}): void {
  const status = (error.extensions.http as { status?: number } | undefined)?.status ?? 400;
  const retryAfter = RETRY_AFTER_SECONDS[error.extensions.code as HubErrorCode];
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  // RFC 6750: a 401 names the scheme the client is to authenticate with.
  if (error.extensions.code === HubErrorCode.UNAUTHENTICATED) res.setHeader('WWW-Authenticate', 'Bearer');
  const text = JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] });
  // no-store like every answer of /graphql: a refusal is of one request, not for a cache to keep.
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/**
 * Every path no route serves: a JSON 404 like every other refusal. Express's own answer is an HTML
 * page ("Cannot GET /x") that names the framework by its look, which `x-powered-by` is off to hide.
 */
export const unknownPath: RequestHandler = (_req, res) => {
  sendRefusal(res, new HubException(HubErrorCode.NOT_FOUND, 'Nothing is served at this path', { http: { status: 404 } }));
};

/**
 * The last error handler of every app: whatever reached it is answered as JSON, a client error
 * with its own status and safe message, anything else as a logged, masked 500 — never Express's
 * HTML page with a stack trace.
 */
export const jsonErrors: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) return next(err);
  const { status, expose, message } = err as { status?: number; expose?: boolean; message?: string };
  const client = !!expose && !!status && status >= 400 && status < 500;
  if (!client) console.error('[hub] unexpected error outside GraphQL', loggableError(err));
  res.set('Cache-Control', 'no-store');
  res.status(client ? status! : 500).json({
    errors: [{ message: client ? message : MASKED_MESSAGE, extensions: { code: client ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }],
  });
};

export interface Listening {
  port: number;
  /**
   * Stops accepting and waits, up to the grace period, for the requests in flight to be answered
   * (and audited); then closes what is left, stops Apollo and closes the database.
   */
  stop(): Promise<void>;
}

export interface ListenOptions {
  /** The longest a stop waits for the requests in flight (HUB_SHUTDOWN_GRACE_MS). */
  graceMs: number;
  /** The longest a connection may take none of an answer that is ready for it (HUB_ANSWER_STALL_MS). */
  answerStallMs: number;
  /** The most connections held open at once (HUB_MAX_CONNECTIONS); one more is closed as it is accepted. */
  maxConnections: number;
  /** How the process names itself in its log: `[hub]`, `[subgraph registry]`. */
  logName: string;
  /**
   * Writes the event of a request refused because the server is stopping (the hub; a subgraph's
   * requests are audited by the gateway that sent them).
   */
  auditRefusal?: (req: http.IncomingMessage, requestId: string, code: HubErrorCode) => Promise<void>;
}

/**
 * The most requests one connection may have started and not yet answered. Node starts every
 * request that arrives in one read of the socket (64 KB: dozens of small ones) before it pauses
 * for a backed-up answer, and each answer waits in memory behind the one before: a client that
 * pipelined them and read nothing had the hub build and hold all of them. No client of the hub
 * pipelines more than a couple; a request past this is refused, not started.
 */
export const MAX_PIPELINED = 8;

/**
 * `handler`: the Express app, or a listener in front of it (the hub's compiled reads) — every
 * request it is given counts as in flight until its response is closed.
 */
export async function listen(handler: http.RequestListener, port: number, server: ApolloServer<any>, db: Database, options: ListenOptions): Promise<Listening> {
  const inFlight = new InFlight();
  let stopping = false;
  // Each connection's requests started and not yet answered, settled by their response's `close`
  // or, for a response queued behind another (pipelined), which gets no `close` of its own when the
  // connection closes first, by the connection's: nothing more can be sent for it then either. One
  // listener on the connection for all of them, not one per request.
  const pending = new WeakMap<Socket, Set<() => void>>();
  const unansweredOn = (socket: Socket) => {
    const unanswered = new Set<() => void>();
    pending.set(socket, unanswered);
    socket.once('close', () => unanswered.forEach((settle) => settle()));
    return unanswered;
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const leave = inFlight.add(res);
    const { socket } = req;
    const unanswered = pending.get(socket) ?? unansweredOn(socket);
    const settled = () => {
      unanswered.delete(settled);
      res.off('close', settled);
      leave();
    };
    unanswered.add(settled);
    const started = unanswered.size;
    res.once('close', settled);
    // Node sets no limit on a connection whose answer cannot be written (server.timeout is 0; the
    // keep-alive and header limits apply to idle connections and unread requests): a client that
    // stopped reading kept every answer built for it in memory for as long as it kept the
    // connection. The socket's inactivity is timed from here; while the answer is being built its
    // timeout is let pass (a request's own waits are bounded by its own limits), once the answer is
    // complete and still not taken the connection is closed. After the answer Node times the
    // connection again, for keep-alive.
    socket.setTimeout(options.answerStallMs);
    res.on('timeout', () => {
      if (res.writableEnded) socket.destroy();
    });
    if (stopping) return void refuseBeforeStart(req, res, options, new HubException(HubErrorCode.SHUTTING_DOWN, 'The server is stopping: send the request again'), { 'Retry-After': '1' });
    if (started > MAX_PIPELINED) {
      const refusal = new HubException(HubErrorCode.BAD_REQUEST, `More than ${MAX_PIPELINED} requests pipelined on one connection are not served: wait for the answers`);
      return void refuseBeforeStart(req, res, options, refusal);
    }
    handler(req, res);
  };
  const httpServer = http.createServer(onRequest);
  // A request whose `Expect` is not 100-continue: Node answered 417 itself, and the request, read
  // whole with its token and document, reached no one to audit it. The expectation is ignored, as
  // RFC 9110 §10.1.1 lets a server do: the request is served, and audited, as any other.
  httpServer.on('checkExpectation', onRequest);
  // An idle connection is closed by the client or the proxy in front, not under them: theirs
  // expire sooner (the gateway's one second before the `Keep-Alive: timeout` announced, load
  // balancers at 60 s), and a request sent on a connection the server is closing fails.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  // Node times headers from their first byte: a connection that sends nothing was held open for
  // ever, and HUB_MAX_CONNECTIONS of them (one client's, or clients gone without a FIN before their
  // first request) closed every later connection as it was accepted. One that starts no request
  // within the header limit is closed; a request times its socket itself (answerStallMs, above).
  httpServer.timeout = httpServer.headersTimeout;
  httpServer.maxConnections = options.maxConnections;
  logDroppedConnections(httpServer, options);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, resolve);
  });
  return {
    port: (httpServer.address() as AddressInfo).port,
    stop: async () => {
      stopping = true;
      // close() also closes the idle keep-alive connections; a busy one is closed once its answer
      // is sent (`Connection: close`), so that the client sends nothing more on it.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      // A request accepted is finished: a mutation past its STARTED event commits, is answered and
      // gets its final event, instead of being cut off with only the first (UNFINISHED_MUTATION),
      // its client retrying elsewhere what was done. The grace also bounds every connection that
      // holds no request yet: close() waits for them all, and Node stops timing out headers once it
      // is called, so a client that sends half its headers and nothing more would hold the stop for ever.
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.graceMs)))]);
      clearTimeout(timer);
      if (!inTime) {
        const ids = [...inFlight].map((res) => res.getHeader(REQUEST_ID_HEADER) ?? 'no request id yet');
        console.error(
          ids.length
            ? `${options.logName} stopping after ${options.graceMs} ms with ${ids.length} request(s) unfinished: ${ids.join(', ')}`
            : `${options.logName} stopping after ${options.graceMs} ms, closing connections with no request in flight`,
        );
        httpServer.closeAllConnections();
        await closed;
      }
      await server.stop();
      await db.close();
    },
  };
}

/** At most one line a minute about connections closed over the cap: a flood of them would flood the log. */
const DROP_LOG_INTERVAL_MS = 60_000;
const MAX_DROP_ADDRESSES = 1_000;

/**
 * Says in the log that connections are being closed over HUB_MAX_CONNECTIONS (clients see them
 * closed before any answer): at once for the first, then how many more, with the addresses that
 * opened the most, at most once a minute.
 */
function logDroppedConnections(httpServer: http.Server, { maxConnections, logName }: ListenOptions): void {
  let dropped = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const report = () => {
    timer = undefined;
    if (!dropped.size) return;
    const total = [...dropped.values()].reduce((a, b) => a + b, 0);
    const top = [...dropped].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([address, n]) => `${address} ${n}`);
    dropped = new Map();
    console.error(`${logName} closed ${total} more connection(s) over HUB_MAX_CONNECTIONS=${maxConnections}; most from: ${top.join(', ')}`);
    timer = setTimeout(report, DROP_LOG_INTERVAL_MS).unref();
  };
  httpServer.on('drop', (data) => {
    const address = data?.remoteAddress ?? 'unknown address';
    // A minute's tally is bounded: connections from a whole IPv6 range would each add an address.
    const tallied = dropped.has(address) || dropped.size < MAX_DROP_ADDRESSES ? address : 'other addresses';
    if (timer) return void dropped.set(tallied, (dropped.get(tallied) ?? 0) + 1);
    console.error(`${logName} closed a connection from ${address}: ${maxConnections} connections (HUB_MAX_CONNECTIONS) are open`);
    timer = setTimeout(report, DROP_LOG_INTERVAL_MS).unref();
  });
  httpServer.once('close', () => clearTimeout(timer));
}

/**
 * A request not started: one that arrives on a connection kept open for one in flight (pipelined,
 * or sent as the stop began) while the server stops, or past MAX_PIPELINED. Refused whole, audited,
 * and its connection closed, rather than started and cut off.
 */
async function refuseBeforeStart(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { auditRefusal, logName }: ListenOptions,
  refusal: HubException,
  headers: http.OutgoingHttpHeaders = {},
): Promise<void> {
  const requestId = newRequestId();
  const code = refusal.extensions.code as HubErrorCode;
  try {
    await auditRefusal?.(req, requestId, code);
  } catch (e) {
    console.error(`${logName} audit write failed for a request refused before it started (${code})`, loggableError(e));
  }
  req.resume();
  res.shouldKeepAlive = false;
  sendRefusal(res, refusal, { ...headers, [REQUEST_ID_HEADER]: requestId });
}
