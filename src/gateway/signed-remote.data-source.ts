import { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { AccessRecord } from '../audit/audit.types';
import { parsePurpose } from '../audit/purpose';
import { HubErrorCode, HubException, loggableError, MASKED_MESSAGE } from '../errors/hub.exception';
import type { GatewayContext } from './gateway.context';
import { ACCESS_EXTENSION, ASSERTION_HEADER, signAssertion, SUBGRAPH_BODY_LIMIT_BYTES } from './gateway-assertion';
import { subgraphAgent } from './subgraph-agent';

type ReceiveOptions = Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0];
type FetchResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];

/**
 * Codes of a subgraph's refusal (a non-2xx answer) that are about the client's request and are
 * passed on: a variable the subgraph's scalars refuse, which the supergraph cannot check (an
 * in-process hub answers it with the same error). Any other refusal — the gateway's assertion
 * refused (401), a fetch the subgraph cannot parse or validate — is the hub's fault, not the client's.
 */
const CLIENT_CODES = new Set<string>([HubErrorCode.BAD_USER_INPUT]);

/** A subgraph's non-2xx answer, kept whole until process() decides what of it the client may see. */
class SubgraphRefusal extends GraphQLError {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`subgraph answered HTTP ${status}`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isClientError = (e: unknown): e is GraphQLFormattedError =>
  isRecord(e) && typeof e.message === 'string' && isRecord(e.extensions) && CLIENT_CODES.has(e.extensions.code as string);

/**
 * Distributed mode: every fetch carries the gateway's signed statement of the caller, and every
 * answer brings back what the subgraph read and wrote, for the gateway's audit event.
 */
export class SignedRemoteDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly subgraph: string,
    private readonly secret: Uint8Array,
    private readonly timeoutMs: number,
    /** The gateway's clock (hubClock): the request's age when a fetch is signed is read from it. */
    private readonly clock: () => Date,
  ) {
    super({ url });
    // RemoteGraphQLDataSource passes method, headers and body only; the agent rides on the options
    // make-fetch-happen hands to minipass-fetch (subgraph-agent.ts says why), and so does the time
    // limit, which neither sets: a subgraph that took the connection and never answered (a hung
    // process, a stalled proxy, a network dropping everything) held the request, and a mutation's
    // final event, for ever. A signal bounds the fetch whole, headers and body; minipass-fetch's
    // own `timeout` stops at the headers and then gives the body as long again. No redirect is
    // followed: a subgraph never sends one, and make-fetch-happen would repeat a 307 or 308 to any
    // host with the assertion and the body (a child's variables) — what a misconfigured or hostile
    // hop in between would need to have both delivered where it points.
    const fetch = this.fetcher;
    this.fetcher = (input, init) =>
      fetch(input, { ...init, agent: subgraphAgent, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' } as typeof init);
  }

  /**
   * A fetch that fails (a non-2xx answer, the subgraph unreachable or too slow, a body that is not
   * JSON) is answered as a GraphQL response of this subgraph, never with the error
   * RemoteGraphQLDataSource makes of it, whose `extensions.response` holds the subgraph's URL,
   * status and raw body: the client's errors of a refusal are passed on; anything else is logged
   * here and masked.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (e) {
      // Refused before it was sent (willSendRequest): the subgraph ran nothing, no answer was lost.
      if (e instanceof HubException) return { errors: [{ message: e.message, extensions: { code: e.extensions.code } }] };
      const refusal = e instanceof SubgraphRefusal ? e : null;
      const body = isRecord(refusal?.body) ? refusal.body : {};
      this.takeAccess(body.extensions, options.context);
      const errors: unknown[] = Array.isArray(body.errors) ? body.errors : [];
      const passed = errors.filter(isClientError).map(({ message, path, extensions }) => ({ message, path, extensions }));
      if (passed.length && passed.length === errors.length) return { errors: passed };
      // Its status and error codes, never the body: a refusal's errors quote what they refused and
      // its extensions carry the access record, the children's ids.
      const codes = errors.map((err) => (isRecord(err) && isRecord(err.extensions) && typeof err.extensions.code === 'string' ? err.extensions.code : 'no code'));
      console.error(`[hub] unexpected failure of subgraph ${this.subgraph}:`, refusal ? `HTTP ${refusal.status}, errors [${codes.join(', ')}]` : this.timedOut(e) ? `no answer within ${this.timeoutMs} ms (HUB_SUBGRAPH_TIMEOUT_MS)` : loggableError(e));
      return { errors: [...passed, { message: MASKED_MESSAGE, extensions: { code: HubErrorCode.INTERNAL_SERVER_ERROR } }] };
    }
  }

  /** Only the fetcher's signal aborts a fetch: its AbortError, before or during the body, is the time limit. */
  private timedOut(e: unknown): boolean {
    return e instanceof Error && e.name === 'AbortError';
  }

  /**
   * The answer as a JSON object, or a failure that quotes none of it: RemoteGraphQLDataSource takes
   * any other content type for text and fails with an error quoting the text whole, and JSON.parse's
   * error quotes the text around where it failed — a subgraph's answer, children's data, in the log.
   */
  override async parseBody(response: FetchResponse): Promise<Record<string, unknown>> {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!isRecord(body)) throw new Error(`subgraph answered HTTP ${response.status} (${response.headers.get('content-type') ?? 'no content type'}) with a body that is not a JSON object`);
    return body;
  }

  override async errorFromResponse(response: FetchResponse): Promise<GraphQLError> {
    return new SubgraphRefusal(response.status, await this.parseBody(response).catch(() => undefined));
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    if (!('principal' in context)) return; // health checks and composition carry no caller
    // The body as RemoteGraphQLDataSource writes it.
    const { http: _http, ...body } = request;
    if (Buffer.byteLength(JSON.stringify(body)) > SUBGRAPH_BODY_LIMIT_BYTES) {
      throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `The request, as sent on to subgraph ${this.subgraph}, is larger than the ${SUBGRAPH_BODY_LIMIT_BYTES} bytes it reads`);
    }
    request.http?.headers.set(
      ASSERTION_HEADER,
      // Bound to exactly this fetch's query, operation name and variables (the body process() sends).
      await signAssertion(
        this.secret,
        this.subgraph,
        // The time limit starts with the fetch, after this: the subgraph's deadline falls within it.
        {
          principal: context.principal,
          requestId: context.requestId,
          purpose: parsePurpose(context.purposeHeader),
          grant: context.grant.settled,
          budgetMs: this.timeoutMs,
          now: context.now,
          // Never below 0, should the host's clock step back under a request: the subgraph holds instant plus age to its clock.
          ageMs: Math.max(0, this.clock().getTime() - context.now.getTime()),
        },
        { query: request.query, operationName: request.operationName, variables: request.variables },
      ),
    );
  }

  override async didReceiveResponse({ response, context }: ReceiveOptions): Promise<GatewayGraphQLResponse> {
    this.takeAccess(response.extensions, context);
    if (response.extensions) delete response.extensions[ACCESS_EXTENSION];
    return response;
  }

  /**
   * What the subgraph read and wrote, into the gateway's access log. A fetch for a caller that
   * brings no record back (the connection lost after the subgraph answered, no answer within the
   * time limit — the subgraph may yet commit —, an unreadable answer, the assertion refused —
   * perhaps because someone presented it first) leaves the request's event in doubt rather than
   * saying the subgraph did nothing.
   */
  private takeAccess(extensions: unknown, context: GatewayContext | Record<string, unknown>): void {
    if (!('access' in context)) return; // health checks and composition carry no caller
    const { access } = context as GatewayContext;
    const record = isRecord(extensions) ? extensions[ACCESS_EXTENSION] : undefined;
    if (isRecord(record) && Array.isArray(record.reads) && Array.isArray(record.changes)) access.merge(record as unknown as AccessRecord);
    else access.answerLost(this.subgraph);
  }
}
