import type { RequestHandler } from 'express';
import type { GraphQLResolveInfo } from 'graphql';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import { AccessLog } from '../audit/access-log';
import { auditEvent } from '../audit/audit-event';
import type { Arrival } from '../audit/audit.http';
import { REQUEST_ID_HEADER } from '../server/http-listener';
import { AuditOutcome } from '../audit/audit.types';
import type { AuditSink } from '../audit/audit.writer';
import { hashVariables } from '../audit/document-signature';
import { parsePurpose, PURPOSE_HEADER, purposeServesChildren } from '../audit/purpose';
import { newRequestId } from '../audit/request-id';
import { policySubject, POLICY_SUBJECTS, type Principal } from '../auth/principal';
import { tokenExpired, type TokenService } from '../auth/token.service';
import type { HubConfig } from '../config/hub.config';
import { loggableError } from '../errors/hub.exception';
import type { InProcessDataSource } from '../gateway/in-process.data-source';
import type { Policy } from '../policy/policy';
import { Access } from '../policy/policy.types';
import { createHubContext, hubClock } from '../server/hub.context';
import { FIELD_GRANTS } from '../subgraphs';
import type { RegionDirectory } from '../server/region-directory';
import { compileRead, ReadPlan } from './compiled-read.plan';

/** Bodies larger than this are left to Express (its limit, 1 MB, and its refusal). */
const MAX_BODY = 64 * 1024;
const MAX_PLANS = 1000;
/** The compiled shape is a few hundred characters; longer texts are not parsed or kept here. */
const MAX_QUERY = 2048;
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);
/** Accept headers under which Apollo Server answers `application/json` (its content negotiation). */
const JSON_ACCEPTS = new Set([undefined, '*/*', 'application/json']);
const BODY_KEYS = new Set(['query', 'variables', 'operationName']);

/** A body the compiled path read and did not serve: Express takes it from here, and from the moment the headers arrived. */
type Preread = { arrival: Arrival } & ({ body: object } | { error: Error });
type Body = { error: Error | null; raw?: Buffer };

export interface CompiledReadsOptions {
  config: HubConfig;
  /** The registry subgraph served in this process: its schema, resolvers and single-fetch test. */
  registry: InProcessDataSource;
  policy: Policy;
  /** False only with HUB_BENCH_DISABLE=policy: every field ALLOW, as in the general path's schemas then. */
  enforce: boolean;
  db: DataSource;
  tokens: TokenService;
  regions: RegionDirectory;
  /** Null when the audit is switched off (benchmarks only): then no event and no field log, as on the general path. */
  audit: { writer: AuditSink; variableKey: Uint8Array } | null;
}

/**
 * Compiled reads: a client looking up one child by id with scalar fields that its role may read
 * exactly (all ALLOW: nothing refused, masked or opened by a grant) is answered here, ahead of
 * Express and Apollo Server, by the registry subgraph's own resolvers — same statement, same
 * values, same audit event, written before the answer leaves, same bytes out. Anything else, and
 * any doubt on the way (token, jurisdiction, purpose, no such child in the caller's subtree, an
 * error, an audit write that fails), falls back to the general path, which answers it and
 * audits it as always. See README.md in this folder.
 */
export class CompiledReads {
  private readonly plans = new Map<string, ReadPlan | null>();
  private readonly prereads = new WeakMap<IncomingMessage, Preread>();
  private count = 0;

  constructor(private readonly o: CompiledReadsOptions) {}

  /** Requests answered here (tests check the path was taken; it is invisible to clients). */
  get served(): number {
    return this.count;
  }

  /** The hub's request listener: compiled reads first, then `app` (Express) for the rest. */
  listener(app: RequestListener): RequestListener {
    return (req, res) => {
      if (!this.mayServe(req)) return app(req, res);
      // Taken as the general path takes them, when the headers arrive: the socket may be gone by the time the event is built.
      const arrival: Arrival = { startedAt: performance.now(), clientAddress: req.socket.remoteAddress ?? null, principal: null };
      // The body is read as it arrives while the caller is authenticated, as the general path does
      // at the headers: a caller it refuses is handed to it at once (it answers without the body,
      // which is dropped here as it arrives: kept, it let callers without a token hold up to
      // 64 KiB each for as long as they kept the connection); one it accepts is served as that
      // caller once the body is in, here or by the general path (HttpAudit.authenticate takes the
      // arrival on).
      let drop!: () => void;
      const body = new Promise<Body>((resolve) => (drop = readBody(req, (error, raw) => resolve({ error, raw }))));
      this.caller(req).then(
        (principal) => {
          if (principal) return body.then((b) => this.answer(req, res, app, { ...arrival, principal }, b));
          drop();
          app(req, res);
        },
        () => body.then((b) => this.answer(req, res, app, arrival, b)),
      );
    };
  }

  /** Serves the body here, or hands it, read, to Express (always, without a caller). */
  private answer(req: IncomingMessage, res: ServerResponse, app: RequestListener, arrival: Arrival, { error, raw }: Body): void {
    const fallback = (pre: { body: object } | { error: Error }) => {
      this.prereads.set(req, { arrival, ...pre });
      app(req, res);
    };
    if (error) return fallback({ error });
    let text = raw!.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // as body-parser's decoder does
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return fallback({ error: parseFailure(e as Error) });
    }
    // body-parser's strict mode: an object or an array, nothing else.
    if (body === null || typeof body !== 'object') return fallback({ error: parseFailure(new SyntaxError('JSON body must be an object or an array')) });
    const { principal } = arrival;
    if (!principal) return fallback({ body });
    this.serve(req, res, body, { ...arrival, principal }).then(
      (served) => {
        if (!served) fallback({ body });
      },
      (e) => {
        console.error('[hub] compiled read failed', loggableError(e));
        // Nothing sent yet (the answer is the last step): the general path answers.
        if (!res.headersSent) fallback({ body });
      },
    );
  }

  /** The caller as the general path's authentication sees it, or null where it refuses. */
  private async caller(req: IncomingMessage): Promise<Principal | null> {
    const principal = await this.o.tokens.verify(req.headers.authorization).catch(() => null);
    return principal && (await this.o.regions.has(principal.region)) ? principal : null;
  }

  /** What the listener established at the headers of a request it hands to Express, for HttpAudit.authenticate. */
  arrival(req: IncomingMessage): Arrival | undefined {
    return this.prereads.get(req)?.arrival;
  }

  /** Where `express.json()` ran on /graphql: a body the listener has read already is handed on as parsed, or as the same error. */
  jsonBody(json: RequestHandler): RequestHandler {
    return (req, res, next) => {
      const pre = this.prereads.get(req);
      if (!pre) return json(req, res, next);
      this.prereads.delete(req);
      if ('error' in pre) return next(pre.error);
      req.body = pre.body;
      next();
    };
  }

  /** From the headers alone: could this be a compiled read? Nothing is consumed when not. */
  private mayServe(req: IncomingMessage): boolean {
    const h = req.headers;
    if (req.method !== 'POST' || req.url !== '/graphql' || !h.authorization || h[PURPOSE_HEADER] === undefined) return false;
    if (!JSON_TYPES.has(h['content-type']?.toLowerCase() ?? '') || !JSON_ACCEPTS.has(h.accept)) return false;
    if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
    const length = Number(h['content-length']);
    return Number.isInteger(length) && length > 0 && length <= MAX_BODY;
  }

  private plan(query: string): ReadPlan | null {
    let plan = this.plans.get(query);
    if (plan === undefined) {
      const { registry, policy, enforce } = this.o;
      plan = compileRead(query, registry, policy, enforce);
      if (this.plans.size >= MAX_PLANS) this.plans.clear();
      this.plans.set(query, plan);
    }
    return plan;
  }

  /** Answers the request and resolves true, or resolves false having sent nothing and written nothing. */
  private async serve(req: IncomingMessage, res: ServerResponse, body: object, { principal, startedAt, clientAddress }: Arrival & { principal: Principal }): Promise<boolean> {
    // The request's instant, as the general path takes it (HttpAudit.instant): its body is in.
    const now = hubClock(this.o.config);
    // A token that expired while the body came: the general path refuses it (HttpAudit.instant).
    if (tokenExpired(principal)) return false;
    if (Array.isArray(body) || Object.keys(body).some((k) => !BODY_KEYS.has(k))) return false;
    const { query, variables, operationName } = body as Record<string, unknown>;
    if (typeof query !== 'string' || query.length > MAX_QUERY) return false;
    // Only authenticated callers' texts are compiled and kept.
    const plan = this.plan(query);
    if (!plan || (operationName != null && operationName !== plan.operationName)) return false;
    if (!variables || typeof variables !== 'object' || Array.isArray(variables)) return false;
    const names = Object.keys(variables);
    const id = (variables as Record<string, unknown>)[plan.variable];
    if (names.length !== 1 || typeof id !== 'string') return false;
    const subject = policySubject(principal);
    if (!POLICY_SUBJECTS.includes(subject) || !plan.allowed(subject)) return false;
    let purpose;
    try {
      purpose = parsePurpose(req.headersDistinct[PURPOSE_HEADER]);
    } catch {
      return false;
    }
    // A purpose that names a granting record (a referral) is checked against it on the general path,
    // and one that never serves a child's data is refused there.
    if (!purpose || FIELD_GRANTS.governs(purpose) || !purposeServesChildren(purpose)) return false;

    const requestId = newRequestId();
    const ctx = createHubContext(this.o.config, principal, this.o.policy, this.o.db, now, requestId, new AccessLog(), purpose);
    const info = undefined as unknown as GraphQLResolveInfo; // a resolver that needs it throws, and the general path answers
    const record = (await plan.resolveRecord(undefined, { id }, ctx, info)) as { id?: unknown } | null;
    if (!record || typeof record.id !== 'string') return false;
    const minor: Record<string, unknown> = {};
    for (const f of plan.fields) {
      const value = f.resolve(record, {}, ctx, info);
      if (value instanceof Error || typeof (value as Promise<unknown> | null)?.then === 'function') return false;
      const out = value === null || value === undefined ? null : f.type.serialize(value);
      if (out === null || out === undefined) {
        if (f.nonNull || (value !== null && value !== undefined)) return false;
      }
      minor[f.name] = out ?? null;
    }

    if (this.o.audit) {
      for (const f of plan.fields) ctx.access.read(record.id, f.key, Access.ALLOW);
      const event = auditEvent({
        requestId,
        startedAt,
        principal,
        clientAddress,
        outcome: AuditOutcome.SUCCESS,
        errorCodes: [],
        operationName: plan.operationName,
        operationType: 'query',
        document: plan.audited,
        variables: hashVariables(this.o.audit.variableKey, variables as Record<string, unknown>, [plan.variable]),
        purpose,
        access: ctx.access.forEvent(),
      });
      // Not durable, nothing sent: the general path answers, and withholds the data if its own event fails too.
      if (!(await this.o.audit.writer.append(event).then(() => true, () => false))) return false;
    }
    const text = `${JSON.stringify({ data: { minor } })}\n`;
    // Names, case and order as the general path sends them (HttpAudit, Apollo Server, Express's res.send).
    res.writeHead(200, {
      'X-Content-Type-Options': 'nosniff',
      [REQUEST_ID_HEADER]: requestId,
      'cache-control': 'no-store',
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
    this.count++;
    return true;
  }
}

/** What body-parser reports for a body that is not JSON (HttpAudit.bodyErrors refuses it). */
function parseFailure(e: Error): Error {
  return Object.assign(e, { type: 'entity.parse.failed', status: 400 });
}

/** Reads the body for `done`; the function returned stops keeping it (what arrives then is discarded). */
function readBody(req: IncomingMessage, done: (error: Error | null, body?: Buffer) => void): () => void {
  let chunks: Buffer[] = [];
  let settled = false;
  const settle = (error: Error | null, body?: Buffer) => {
    if (settled) return;
    settled = true;
    done(error, body);
  };
  const keep = (c: Buffer) => chunks.push(c);
  req.on('data', keep);
  req.once('end', () => settle(null, Buffer.concat(chunks)));
  // A client gone mid-body, reported as body-parser (raw-body) reports it to the general path.
  req.once('aborted', () => settle(Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400, statusCode: 400, expose: true })));
  req.once('error', (e) => settle(e));
  return () => {
    // Still flowing without a 'data' listener: the rest is read off the socket and discarded.
    req.off('data', keep);
    chunks = [];
  };
}
