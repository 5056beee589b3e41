import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { isConnectionLoss } from '../db/lost-session';

/** Domain error codes; each maps to the GraphQL `extensions.code` clients branch on. */
export enum HubErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  /** Not a request the endpoint serves (a GET on /graphql), as Apollo Server names its own. */
  BAD_REQUEST = 'BAD_REQUEST',
  /** The request is larger or deeper than the hub serves. */
  LIMIT_EXCEEDED = 'LIMIT_EXCEEDED',
  /** The request could not be audited, so nothing is released. */
  AUDIT_UNAVAILABLE = 'AUDIT_UNAVAILABLE',
  /**
   * The database did not answer in time (a table held locked, every connection busy, a server not
   * answering), rolled a transaction back to settle a conflict, ended the session, or refused a
   * write because its transactions had turned read only: what needed it was not done, a mutation's
   * transaction rolled back. Worth retrying.
   */
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  /**
   * A write's COMMIT was sent and its reply lost, and the database could not then say whether it
   * committed (src/db/commit-outcome.ts): the change may be stored. Not to be retried blindly.
   */
  COMMIT_OUTCOME_UNKNOWN = 'COMMIT_OUTCOME_UNKNOWN',
  /**
   * The identity provider's key set (HUB_JWKS_URL) could not be fetched, so a token could not be
   * checked: no fault of the token, and nothing was served. Worth sending again.
   */
  IDENTITY_PROVIDER_UNAVAILABLE = 'IDENTITY_PROVIDER_UNAVAILABLE',
  /**
   * The audit trail holds an event that is no audit event (its body rewritten by someone who could
   * write the table): the auditor's page, or history, that met it is not answered. `auditVerify`
   * names the break; a page after it is answered.
   */
  AUDIT_TRAIL_DAMAGED = 'AUDIT_TRAIL_DAMAGED',
  /**
   * A statistics field read other summaries than the request's first statistics field: a refresh
   * committed between them. Not answered, so that no answer mixes two refreshes. Worth sending again.
   */
  STATISTICS_REFRESHED = 'STATISTICS_REFRESHED',
  /** The server is stopping (a deploy): the request was not started. Worth sending again. */
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

const HTTP_STATUS: Partial<Record<HubErrorCode, number>> = {
  [HubErrorCode.UNAUTHENTICATED]: 401,
  [HubErrorCode.LIMIT_EXCEEDED]: 413,
  [HubErrorCode.AUDIT_UNAVAILABLE]: 503,
  [HubErrorCode.DATABASE_UNAVAILABLE]: 503,
  [HubErrorCode.SHUTTING_DOWN]: 503,
  [HubErrorCode.IDENTITY_PROVIDER_UNAVAILABLE]: 503,
};

/**
 * The only error type resolvers throw on purpose. It is a GraphQLError so that graphql-shield
 * (`allowExternalErrors`) and the gateway pass code and message through untouched; anything else
 * that escapes a resolver is an unexpected failure and is masked by `maskUnexpectedError`.
 */
export class HubException extends GraphQLError {
  constructor(code: HubErrorCode, message: string, details: Record<string, unknown> = {}) {
    const status = HTTP_STATUS[code];
    super(message, { extensions: { code, ...details, ...(status ? { http: { status } } : {}) } });
  }
}

export const badInput = (field: string, message: string) =>
  new HubException(HubErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });
export const forbidden = (message: string, details: Record<string, unknown> = {}) =>
  new HubException(HubErrorCode.FORBIDDEN, message, details);
export const unauthenticated = (message: string) => new HubException(HubErrorCode.UNAUTHENTICATED, message);
/** What a record missing, and one the caller may not know of, both read as. */
export const notFound = (what: string) => new HubException(HubErrorCode.NOT_FOUND, `${what} not found`);

/** All a client is told of a failure nobody raised on purpose. */
export const MASKED_MESSAGE = 'Internal server error';

export const DATABASE_UNAVAILABLE_MESSAGE = 'The database did not answer in time; try again shortly';
export const COMMIT_OUTCOME_UNKNOWN_MESSAGE = 'The database did not confirm whether this change was saved; check before making it again';
/** `Retry-After` of an answer refused with DATABASE_UNAVAILABLE: a held lock or a burst usually passes within seconds. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
/** `Retry-After` of IDENTITY_PROVIDER_UNAVAILABLE: the hub fetches the key set again no sooner (token.service.ts). */
export const IDENTITY_PROVIDER_RETRY_AFTER_SECONDS = 10;
/** The `Retry-After` of a refusal before GraphQL (sendRefusal), by its code: a passing outage. */
export const RETRY_AFTER_SECONDS: Partial<Record<HubErrorCode, number>> = {
  [HubErrorCode.DATABASE_UNAVAILABLE]: DATABASE_RETRY_AFTER_SECONDS,
  [HubErrorCode.IDENTITY_PROVIDER_UNAVAILABLE]: IDENTITY_PROVIDER_RETRY_AFTER_SECONDS,
};

/**
 * What the request path's time limits raise (src/db/time-limits.ts): Postgres cancelling a
 * statement (57014: statement_timeout, or an operator's pg_cancel_backend), giving up on a lock
 * (55P03: lock_timeout) or ending a session idle in its transaction (25P03); node-postgres giving up
 * on a connection from the pool, on connecting, or on a reply (query_timeout). Also Postgres ending
 * a session whose transaction outlived a transaction_timeout set for the database, the role or the
 * cluster (25P04, Postgres 17): the transaction is rolled back, as under the others.
 */
const TIMEOUT_SQLSTATES = new Set(['57014', '55P03', '25P03', '25P04']);
const TIMEOUT_MESSAGES = new Set(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout', 'Query read timeout']);

/**
 * What Postgres answers a transaction it rolled back to settle a conflict with another: a deadlock
 * it broke (40P01: the victim's every statement undone) or a serialization failure (40001, at a
 * statement or at COMMIT). Nothing of the transaction stands and the same request again usually
 * passes, as after a lock wait that ran out: answered DATABASE_UNAVAILABLE, where a masked internal
 * error told the client neither that nothing was written nor that trying again is safe.
 */
const ROLLED_BACK_SQLSTATES = new Set(['40P01', '40001']);

/**
 * What Postgres answers a write in a transaction that is read only because the database's are at
 * runtime (25006): default_transaction_read_only turned on for the database, the role or the
 * cluster (a maintenance, ALTER SYSTEM and a reload), or the server become a standby under the
 * hub's sessions (a failover). The hub refuses to start on such a database (src/db/data-source.ts);
 * one that turns so later refused every write with a masked internal error. The statement did
 * nothing and its transaction rolls back: nothing of the request is written, and the same request
 * passes once the database takes writes again.
 */
const READ_ONLY_SQLSTATE = '25006';

/**
 * What Postgres answers a new session (the pool growing, or replacing one it lost) it will not take
 * now: no slot left (53300: max_connections, reached by other clients beside the hub's), the server
 * starting up or shutting down (57P03, a restart or a failover). The audit writer keeps its own
 * sessions, so the request was audited and answered a masked internal error. A statement Postgres
 * lacked the resources for (class 53: disk full, out of memory) did nothing either.
 */
const INSUFFICIENT_RESOURCES = /^53[0-9A-Z]{3}$/;
const SESSION_ENDED_OR_REFUSED = /^57P[0-9A-Z]{2}$/;

/** Whether `error`, or one it wraps (a GraphQLError's originalError, TypeORM's driverError, a cause), passes `test`. */
function wraps(error: unknown, test: (e: Error, code: unknown) => boolean): boolean {
  const seen: unknown[] = [];
  for (let e = error; e instanceof Error && !seen.includes(e) && seen.length < 5; ) {
    seen.push(e);
    const { code, driverError } = e as { code?: unknown; driverError?: unknown };
    if (test(e, code)) return true;
    e = e instanceof GraphQLError ? e.originalError : (driverError ?? e.cause);
  }
  return false;
}

/** Whether `error`, or one it wraps, is the database not answering in time. */
export const isDatabaseTimeout = (error: unknown): boolean =>
  wraps(error, (e, code) => (typeof code === 'string' && TIMEOUT_SQLSTATES.has(code)) || TIMEOUT_MESSAGES.has(e.message));

/** Whether `error`, or one it wraps, is a lock not granted within `lock_timeout` (or NOWAIT): another session holds it. */
export const isLockNotAvailable = (error: unknown): boolean => wraps(error, (_e, code) => code === '55P03');

/** Whether `error`, or one it wraps, is Postgres rolling a transaction back to settle a conflict (ROLLED_BACK_SQLSTATES). */
export const isConflictRollback = (error: unknown): boolean => wraps(error, (_e, code) => typeof code === 'string' && ROLLED_BACK_SQLSTATES.has(code));

/**
 * Why the database could not do what `error` (one unexpected by the code that met it) was about,
 * when it is a passing condition of the database's after which nothing of the request stands — a
 * wait that ran out (isDatabaseTimeout), a conflict rolled back, a write refused by a read-only
 * database, a session refused or a statement without resources (INSUFFICIENT_RESOURCES,
 * SESSION_ENDED_OR_REFUSED), or the session ended or its connection lost (isConnectionLoss: a lost COMMIT is
 * settled before its error gets here, src/db/commit-outcome.ts, and every other write of a request
 * is in a transaction, rolled back with the session) — worded for the log; else undefined.
 */
export function databaseUnavailableCause(error: unknown): string | undefined {
  if (isDatabaseTimeout(error)) return 'the database did not answer in time';
  if (isConflictRollback(error)) return 'the database rolled back a transaction to settle a conflict';
  if (wraps(error, (_e, code) => code === READ_ONLY_SQLSTATE)) return "the database refused a write: its transactions are read only (default_transaction_read_only, or a standby)";
  if (wraps(error, (_e, code) => typeof code === 'string' && INSUFFICIENT_RESOURCES.test(code))) return 'the database lacked the resources (no connection slot left, disk full, out of memory)';
  if (wraps(error, (_e, code) => typeof code === 'string' && SESSION_ENDED_OR_REFUSED.test(code))) return 'the database ended the session, or would not take one now';
  // A statement's (TypeORM's QueryFailedError): a remote subgraph's connection reset is not the database's.
  if (wraps(error, (e) => e.name === 'QueryFailedError' && isConnectionLoss(e))) return 'the database ended the session, or its connection was lost';
  // TypeORM's, for a transaction's next statement once its session ended between two (the driver's
  // error event released the runner): nothing of the transaction was committed.
  // TypeORM's refusal of the next statement on a session released when it ended: by the transaction's query runner, or by `em.query`.
  if (wraps(error, (e) => e.name === 'QueryRunnerAlreadyReleasedError' || e.name === 'QueryRunnerProviderAlreadyReleasedError')) return 'the database ended the session between two statements';
  return undefined;
}

/**
 * Codes passed on with their message. Not INTERNAL_SERVER_ERROR: Apollo Server gives that code to
 * every error that has none before `formatError` sees it, so its message is whatever failed.
 */
const KNOWN_CODES = new Set<string>([
  ...Object.values(HubErrorCode).filter((code) => code !== HubErrorCode.INTERNAL_SERVER_ERROR),
  // Codes Apollo Server and the gateway produce for malformed requests; they carry no internals.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * graphql-js's "Did you mean …?" at the end of an error's message (a field, argument, input field or
 * enum value near the one given): with introspection off in production, a caller could otherwise
 * spell out the schema by trying near misses. Dropped from every error with a known code, validation
 * errors and a variable's value alike, so one rule covers both.
 */
const SUGGESTION = / ?Did you mean .+\?$/;

/** What Postgres reports of a failed statement that names no value: its SQLSTATE and where it failed. */
const PG_FIELDS = ['code', 'schema', 'table', 'column', 'constraint'] as const;
/** A URL's scheme and its `user:password@`. */
const URL_CREDENTIALS = /\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@]*@/gi;

/** `text` with every URL's `user:password@` blanked (`https://…@host`), for a log line. */
export const withoutUrlCredentials = (text: string): string => text.replace(URL_CREDENTIALS, '$1…@');

/**
 * An unexpected error as the server log keeps it: the class and message of the error and of each it
 * wraps (a GraphQLError's `originalError`, a `cause`), with the GraphQL path, Postgres's SQLSTATE,
 * schema, table, column and constraint, and the stack of the innermost. Never the values it was
 * about, which are children's data: TypeORM's QueryFailedError carries its statement and
 * `parameters` (names, ID numbers, addresses) and the driver's error; Postgres's `detail` quotes the
 * row or key ("Failing row contains (…)", "Key (id_number)=(…) already exists") and `where` the
 * statement; a data exception's message (SQLSTATE class 22) quotes the value it could not take
 * (`invalid input syntax for type uuid: "…"`) — unescaped, so a value holding a `"` would end a
 * quote early: everything from its first quote on is blanked.
 */
export function loggableError(error: unknown): string {
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && !chain.includes(e) && chain.length < 5; ) {
    chain.push(e);
    e = e instanceof GraphQLError ? e.originalError : e.cause;
  }
  if (!chain.length) return `a thrown ${typeof error}, not an Error`;
  const fields = (e: Error) => {
    const reported = e as unknown as Record<string, unknown>;
    return PG_FIELDS.flatMap((f) => (typeof reported[f] === 'string' ? [`${f} ${reported[f]}`] : []));
  };
  const dataException = chain.some((e) => /^22[0-9A-Z]{3}$/.test(String((e as { code?: unknown }).code)));
  const lines = chain.map((e, i) => {
    // A URL's `user:password@` blanked: a fetcher's error quotes the URL it failed on whole, and a
    // subgraph URL may carry credentials.
    const message = withoutUrlCredentials(dataException ? e.message.replace(/".*$/s, '"…"') : e.message);
    const where = [...(e instanceof GraphQLError && e.path ? [`path ${e.path.join('.')}`] : []), ...fields(e)];
    return `${i ? 'caused by ' : ''}${e.name}: ${message}${where.length ? ` [${where.join(', ')}]` : ''}`;
  });
  // A stack begins with the error's `name: message` — unblanked, and as many lines as the message has
  // (a quoted multi-line value with a line starting "  at " would pass for a frame): skipped.
  const innermost = chain[chain.length - 1];
  const frames = (innermost.stack ?? '')
    .split('\n')
    .slice(innermost.message.split('\n').length)
    .filter((l) => /^\s+at /.test(l));
  return [...lines, ...frames].join('\n');
}

/**
 * loggableError on one line, without the stack: what a line about a failure its reader is to act
 * on says of it — a start-up refused, a command-line tool's error, a pooled connection lost. Those
 * printed the error's message as it was, a data exception's quoted value included (a child's ID
 * number in a migration or a load). A plain Error's message, one the hub wrote to explain itself
 * ("DATABASE_URL …", "--department must be one of …"), reads as written, as does Postgres's.
 */
export function loggableSummary(error: unknown): string {
  return loggableError(error)
    .split('\n')
    .filter((line) => !/^\s+at /.test(line))
    .join('; ')
    .replace(/^(Error|error): /, ''); // node-postgres names a server's error `error`
}

/**
 * Errors we did not raise deliberately (driver errors with SQL text, TypeErrors, …) must never
 * reach a client: they are logged, as loggableError words them, and replaced by a generic
 * INTERNAL_SERVER_ERROR. A subgraph masks its own (in process or over HTTP) and logs them; the
 * gateway recognises such an error by its masked message and passes it on with the subgraph's
 * name, without logging it again.
 */
export function maskUnexpectedError(formatted: GraphQLFormattedError, original?: unknown, production = false): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && KNOWN_CODES.has(code)) {
    // Drop stack traces and gateway internals that may accompany a known code (`response`: the
    // URL, status and body of a subgraph's refusal, as RemoteGraphQLDataSource reports one).
    const { stacktrace: _s, exception: _e, http: _h, response: _r, ...extensions } = formatted.extensions ?? {};
    const message = production ? formatted.message.replace(SUGGESTION, '') : formatted.message;
    return { message, path: formatted.path, locations: formatted.locations, extensions };
  }
  if (code === HubErrorCode.INTERNAL_SERVER_ERROR && formatted.message === MASKED_MESSAGE) {
    const serviceName = formatted.extensions?.serviceName;
    return {
      message: MASKED_MESSAGE,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code, ...(typeof serviceName === 'string' ? { serviceName } : {}) },
    };
  }
  const unavailable = original === undefined ? undefined : databaseUnavailableCause(original);
  if (unavailable) {
    // Logged, one line: an operator must see the database stall (which table, which lock: Postgres's
    // log), the deadlock, which a further one of the same two writes would repeat, a database gone
    // read only or sessions ended under the hub.
    console.error(`[hub] ${unavailable}: ${loggableSummary(original)}`);
    return { message: DATABASE_UNAVAILABLE_MESSAGE, path: formatted.path, locations: formatted.locations, extensions: { code: HubErrorCode.DATABASE_UNAVAILABLE } };
  }
  if (original !== undefined) console.error('[hub] unexpected error', loggableError(original));
  return {
    message: MASKED_MESSAGE,
    path: formatted.path,
    extensions: { code: HubErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * An answer that served nothing because the database did not answer in time is HTTP 503 with
 * `Retry-After`, as load balancers and clients' retry logic expect of a passing outage. One that
 * served data beside such a field error stays 200, as with any other field's error: the data is
 * the answer. So does one whose change may be stored (`changeMayStand`, given the request's
 * context, operation type and error codes): retried whole, it would be made twice.
 */
export function databaseUnavailableStatus<C extends BaseContext>(changeMayStand: (ctx: C, operationType: string | undefined, codes: string[]) => boolean): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, contextValue }) {
          if (response.body.kind !== 'single') return;
          const { errors, data } = response.body.singleResult;
          const codes = (errors ?? []).map((e) => String(e.extensions?.code));
          if (!codes.includes(HubErrorCode.DATABASE_UNAVAILABLE)) return;
          if (changeMayStand(contextValue, operation?.operation, codes)) return;
          if (data && Object.values(data).some((v) => v !== null && v !== undefined)) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
        },
      };
    },
  };
}
