import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal';
import { tokenExpired, type TokenService } from '../auth/token.service';
import { getOperationAST } from 'graphql';
import { badInput, DATABASE_UNAVAILABLE_MESSAGE, HubErrorCode, HubException, databaseUnavailableCause, loggableError, unauthenticated } from '../errors/hub.exception';
import type { GatewayContext } from '../gateway/gateway.context';
import { postOnlyRefusal, REQUEST_ID_HEADER, sendRefusal } from '../server/http-listener';
import type { RegionDirectory } from '../server/region-directory';
import { AccessLog } from './access-log';
import { auditEvent, EventInput, outcomeOf } from './audit-event';
import type { AuditSink } from './audit.writer';
import { auditDocument, declaredVariables, hashVariables, operationNameOf } from './document-signature';
import { declaredPurpose, PURPOSE_HEADER } from './purpose';
import { newRequestId } from './request-id';
import { MAX_VARIABLE_DEPTH, SubgraphFields, validationBound, variableDeeperThan } from './validation-bound';

/**
 * What the hub's listener established when a request's headers arrived, for a request it read the
 * body of before handing it to Express (src/compiled-read): Express then goes on from that moment,
 * as it would had it seen the headers itself. Kept by the listener, keyed by the request object, so
 * no client can supply it.
 */
export interface Arrival {
  startedAt: number;
  clientAddress: string | null;
  /** The caller accepted at the headers; null when none was (then the token is verified here). */
  principal: Principal | null;
}

interface Locals {
  requestId?: string;
  hubContext?: GatewayContext;
  audited?: boolean;
  startedAt?: number;
  clientAddress?: string | null;
}

const locals = (res: Response) => res.locals as Locals;

/** body-parser's own error for a client that left mid-body. */
const requestAborted = () => Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400, expose: true });
/**
 * express.json()'s `verify`: a body in any charset but UTF-8 (RFC 8259 §8.1) is refused 415 before
 * it is decoded, as body-parser refuses one it does not know. body-parser decodes any `utf-*`, UTF-7
 * included, where `+AHs-` is `{`: the text a proxy or a capture read was not the operation the hub
 * ran and audited. The charset is the one body-parser itself read from the header (a check of the
 * header's text was misled by a quoted parameter holding `; charset=utf-8`).
 */
export function utf8Only(_req: unknown, _res: unknown, _body: Buffer, encoding: string): void {
  if (encoding === 'utf-8' || encoding === 'utf8') return;
  throw Object.assign(new Error(`unsupported charset "${encoding.toUpperCase()}"`), { type: 'charset.unsupported', status: 415 });
}

/** A GET's `variables` parameter as JSON, or nothing when it is not: its refusal is for the method, not for them. */
function jsonOrNothing(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The media types Apollo Server answers a single result in (its MEDIA_TYPES), the first by default. */
const ANSWER_TYPES = ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8'];
export const gatewayContextOf = (res: Response): GatewayContext => locals(res).hubContext!;

/**
 * The audit trail's HTTP side: requests refused before GraphQL runs (no or bad token, body too
 * large or not JSON) get their event here; anything Apollo answers without running its request
 * pipeline is caught by the `finish` fallback. Every request to /graphql thus leaves one event (a
 * mutation two: the audit plugin's STARTED event before it runs, then its final one).
 */
export class HttpAudit {
  constructor(
    private readonly writer: AuditSink,
    private readonly tokens: TokenService,
    private readonly regions: RegionDirectory,
    /** The supergraph's subgraphs, which the bound counts the hops between. */
    private readonly subgraphs: SubgraphFields,
    /** The hub's clock (hubClock), read for a request once its body is in (`instant`). */
    private readonly clock: () => Date,
    /** The key of the variables' HMACs (auditKey), as the audit plugin's. */
    private readonly variableKey: Uint8Array,
    private readonly arrivalOf: (req: IncomingMessage) => Arrival | undefined = () => undefined,
  ) {}

  private async refuse(res: Response, error: HubException, input: Partial<EventInput>): Promise<void> {
    const code = String(error.extensions.code);
    const outcome = outcomeOf([code], null);
    const l = locals(res);
    l.audited = true;
    try {
      await this.writer.append(
        auditEvent({
          requestId: l.requestId ?? newRequestId(),
          startedAt: l.startedAt ?? performance.now(),
          principal: l.hubContext?.principal ?? null,
          clientAddress: l.clientAddress ?? null,
          outcome,
          errorCodes: [code],
          purpose: declaredPurpose(l.hubContext?.purposeHeader),
          ...input,
        }),
      );
    } catch (e) {
      console.error('[hub] audit write failed', loggableError(e));
      sendRefusal(res, new HubException(HubErrorCode.AUDIT_UNAVAILABLE, 'The request could not be audited'));
      return;
    }
    sendRefusal(res, error);
  }

  /**
   * Verifies the bearer token and builds this request's context; refusals are audited. When the
   * headers arrive, or as of then for a request the listener read first (Arrival); a token that
   * expires while the body is arriving is refused once it is in (`instant`).
   */
  authenticate: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    const l = locals(res);
    const arrival = this.arrivalOf(req);
    l.startedAt = arrival?.startedAt ?? performance.now();
    l.clientAddress = arrival ? arrival.clientAddress : (req.socket.remoteAddress ?? null);
    l.requestId = newRequestId();
    res.setHeader(REQUEST_ID_HEADER, l.requestId);
    // Every answer here is of one request. Apollo Server says so of those its pipeline makes
    // (NO_STORE_ANSWERS), not of its refusals before it (no body, a batch, an Accept it cannot serve).
    res.setHeader('Cache-Control', 'no-store');
    res.on('finish', () => this.fallback(res));
    try {
      const principal = arrival?.principal ?? (await this.caller(req));
      l.hubContext = {
        requestId: l.requestId,
        principal,
        // Until the body is in (`instant`).
        now: this.clock(),
        purposeHeader: req.headersDistinct[PURPOSE_HEADER],
        clientAddress: l.clientAddress,
        startedAt: l.startedAt,
        access: new AccessLog(),
        grant: {},
        audit: { written: false },
      };
      next();
    } catch (e) {
      // The region look-up waited out the database's time limit (the requests' pool exhausted), or
      // its session was ended under it (an idle_session_timeout): a passing condition, as in GraphQL.
      if (databaseUnavailableCause(e)) return this.refuse(res, new HubException(HubErrorCode.DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE), {});
      if (!(e instanceof HubException)) return next(e);
      await this.refuse(res, e, {});
    }
  };

  /**
   * The caller of a request refused before it started (a 9th pipelined, one arriving while the hub
   * stops), for its event: null unless its token checks out — an auditor looking for a user's
   * requests finds those too.
   */
  async refusedCaller(req: IncomingMessage): Promise<Principal | null> {
    try {
      return await this.caller(req);
    } catch {
      return null;
    }
  }

  private async caller(req: IncomingMessage): Promise<Principal> {
    const principal = await this.tokens.verify(req.headers.authorization);
    if (!(await this.regions.has(principal.region))) throw unauthenticated('Token names an unknown jurisdiction');
    return principal;
  }

  /**
   * The request's instant, by which every fetch of it is served (ages, due dates, time stamps): read
   * once its body is in. The client decides when that is — taken at the headers, a body sent minutes
   * later (a request times out only after Node's 300 s) was served as of then, the record of a child
   * who had turned 18 meanwhile read and written. So is the token: checked at the headers, one
   * that expired before the body was in had served its caller for as long as the client took to
   * send it (up to Node's 300 s), past its `exp` and the hub's maximum token age.
   */
  instant: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    const context = locals(res).hubContext!;
    context.now = this.clock();
    // Its event names the operation and hashes its variables, as the event of any refusal once the body is in.
    if (tokenExpired(context.principal)) return this.refuse(res, unauthenticated('Token expired'), this.parse(req.body).parsed?.() ?? {});
    next();
  };

  /** Only POST (postOnlyRefusal says why): anything else is refused (405) and audited before anything runs. */
  postOnly: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    const refusal = postOnlyRefusal(req, res);
    if (!refusal) return next();
    // A GET carries its operation in the URL: the event names the one attempted, as a refused POST's does.
    const { query, operationName, variables } = req.query;
    await this.refuse(res, refusal, this.parse({ query, operationName, variables: typeof variables === 'string' ? jsonOrNothing(variables) : undefined }).parsed?.() ?? {});
  };

  /**
   * An answer the client accepts, decided before anything runs: Apollo Server negotiates its media
   * type only once the operation has run, so a mutation sent with `Accept: text/html` committed and
   * was answered 406 with no data — a refusal, which invites sending it again — and a read left an
   * event of children whose data never left. The same media types and message as Apollo Server's.
   */
  acceptable: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    if (!req.headers.accept || req.accepts(ANSWER_TYPES)) return next();
    const refusal = new HubException(HubErrorCode.BAD_REQUEST, `An 'accept' header was provided for this request which does not accept ${ANSWER_TYPES.join(' or ')}`, {
      http: { status: 406 },
    });
    await this.refuse(res, refusal, {});
  };

  /**
   * express.json() with the client's hang-up always ending it: body-parser reads a compressed body
   * from a decompression stream that is not told of an abort, and waited for it for ever; and a
   * request whose client left while it was being authenticated it takes for read, leaving no body,
   * which Apollo Server answers with a 500 that no one receives. Neither left an event. Both are
   * now the abort body-parser reports of a plain body.
   */
  readBody(json: RequestHandler): RequestHandler {
    return (req, res, next) => {
      let settled = false;
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        req.off('close', hungUp);
        next(err ?? ('body' in req ? undefined : requestAborted()));
      };
      const hungUp = () => {
        if (!req.complete) settle(requestAborted());
      };
      req.once('close', hungUp);
      json(req, res, settle);
    };
  }

  /**
   * express.json() failures: too large (LIMIT_EXCEEDED), not JSON, or a body it cannot read — an
   * unsupported charset or content encoding, a length that does not match, an abort (INVALID, with
   * body-parser's status and its message, which it marks safe to show), or a compressed body that
   * does not decompress (zlib's errors have no type, and their text is zlib's).
   */
  bodyErrors: ErrorRequestHandler = async (err, _req, res, next) => {
    const { type, status, expose, message } = err as { type?: string; status?: number; expose?: boolean; message?: string };
    if (type === 'entity.too.large') {
      await this.refuse(res, new HubException(HubErrorCode.LIMIT_EXCEEDED, 'Request body too large'), {});
    } else if (type === 'entity.parse.failed' || err instanceof SyntaxError) {
      await this.refuse(res, new HubException(HubErrorCode.BAD_USER_INPUT, 'Request body is not valid JSON'), {});
    } else if (expose && status && status >= 400 && status < 500) {
      const why = typeof type === 'string' ? message : 'it does not decompress as its content-encoding says';
      await this.refuse(res, new HubException(HubErrorCode.BAD_USER_INPUT, `Request body cannot be read: ${why}`, { http: { status } }), {});
    } else {
      next(err);
    }
  };

  /**
   * The bound on what graphql-js's validation and the gateway's query planner may cost
   * (validation-bound.ts), checked before Apollo Server parses and validates: LIMIT_EXCEEDED (413),
   * audited with the document when it parsed; and a variable nested past MAX_VARIABLE_DEPTH, which
   * no input type takes and the audit could not hash: BAD_USER_INPUT (400).
   * Anything but one request with a text query is Apollo Server's to refuse.
   */
  validationBound: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    const { refusal, document, given, parsed } = this.parse(req.body);
    if (!parsed) return next();
    if (refusal) return this.refuse(res, refusal, parsed());
    if (!document) return next();
    // For the event of a refusal Apollo Server makes before it parses, or without its pipeline (`fallback`).
    locals(res).hubContext!.audit.parsed = parsed;
    if (!variableDeeperThan(given, MAX_VARIABLE_DEPTH)) return next();
    await this.refuse(res, badInput('variables', `a value nests deeper than ${MAX_VARIABLE_DEPTH} levels`), parsed());
  };

  /**
   * A body's document within the validation bound (parsed only then) and what the event of its
   * refusal records of it; no `parsed` unless it is one request with a text query.
   */
  private parse(body: { query?: unknown; variables?: unknown; operationName?: unknown } | undefined) {
    const query = body?.query;
    if (typeof query !== 'string') return {};
    const { refusal, document } = validationBound(query, this.subgraphs);
    // The event names the operation refused, as every event does: a mutation refused so is one
    // attempted, and the HMACs of its variables link it to the values it was sent with. A document
    // that does not parse declares no variable, and none of its values is hashed; nor is one nested
    // past MAX_VARIABLE_DEPTH, which the hash could not take.
    const operation = document && getOperationAST(document, typeof body?.operationName === 'string' ? body.operationName : undefined);
    const given = body?.variables;
    // Made only for a refusal: a request served is the audit plugin's to record.
    const parsed = () => ({
      document: document ? auditDocument(document) : null,
      operationType: operation?.operation ?? null,
      operationName: operationNameOf(operation ?? undefined, body?.operationName),
      variables: hashVariables(
        this.variableKey,
        given !== null && typeof given === 'object' && !Array.isArray(given)
          ? Object.fromEntries(Object.entries(given).filter(([, value]) => !variableDeeperThan([value], MAX_VARIABLE_DEPTH)))
          : undefined,
        declaredVariables(operation),
      ),
    });
    return { refusal, document, given, parsed };
  }

  /**
   * Apollo answered without running its pipeline (e.g. no query at all), or Express answered what
   * escaped the middleware (jsonErrors: a masked 500): still one event, with the code the client got.
   */
  private fallback(res: Response): void {
    const l = locals(res);
    if (l.audited || l.hubContext?.audit.written) return;
    l.audited = true;
    const errorCodes = res.statusCode < 400 ? [] : [res.statusCode >= 500 ? HubErrorCode.INTERNAL_SERVER_ERROR : 'BAD_REQUEST'];
    this.writer
      .append(
        auditEvent({
          requestId: l.requestId ?? newRequestId(),
          startedAt: l.startedAt ?? performance.now(),
          principal: l.hubContext?.principal ?? null,
          clientAddress: l.clientAddress ?? null,
          outcome: outcomeOf(errorCodes, null),
          errorCodes,
          purpose: declaredPurpose(l.hubContext?.purposeHeader),
          ...l.hubContext?.audit.parsed?.(),
        }),
      )
      // No data went out with these answers; a failed write is logged for the operators.
      .catch((e) => console.error('[hub] audit write failed for a request answered without GraphQL', loggableError(e)));
  }
}
