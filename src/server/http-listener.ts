import type { ApolloServer } from '@apollo/server';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DATABASE_RETRY_AFTER_SECONDS, HubErrorCode, HubException, loggableError, MASKED_MESSAGE } from '../errors/hub.exception';
import type { Database } from './bootstrap';

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

/** Answers a request refused before GraphQL runs: the refusal's status and typed error, nothing else. */
export function sendRefusal(res: Response, error: HubException): void {
  const status = (error.extensions.http as { status?: number } | undefined)?.status ?? 400;
  if (error.extensions.code === HubErrorCode.DATABASE_UNAVAILABLE) res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  res.status(status).json({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] });
}

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
  res.status(client ? status! : 500).json({
    errors: [{ message: client ? message : MASKED_MESSAGE, extensions: { code: client ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }],
  });
};

export interface Listening {
  port: number;
  /** Stops accepting, drops idle keep-alive connections, then stops Apollo and the database. */
  stop(): Promise<void>;
}

/** `handler`: the Express app, or a listener in front of it (the hub's compiled reads). */
export async function listen(handler: http.RequestListener, port: number, server: ApolloServer<any>, db: Database): Promise<Listening> {
  const httpServer = http.createServer(handler);
  // An idle connection is closed by the client or the proxy in front, not under them: theirs
  // expire sooner (the gateway's one second before the `Keep-Alive: timeout` announced, load
  // balancers at 60 s), and a request sent on a connection the server is closing fails.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, resolve);
  });
  return {
    port: (httpServer.address() as AddressInfo).port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeAllConnections();
      await closed;
      await server.stop();
      await db.close();
    },
  };
}
