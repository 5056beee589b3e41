import type { AccessLog } from '../audit/access-log';
import type { EventInput } from '../audit/audit-event';
import type { Principal } from '../auth/principal';
import type { SettledGrant } from '../policy/grants';

/** What an event names of a request's document. */
export type ParsedRequest = Pick<EventInput, 'document' | 'operationType' | 'operationName' | 'variables'>;

/** What the gateway knows of a request, built fresh for each one. */
export interface GatewayContext {
  requestId: string;
  principal: Principal;
  /** The request's instant (hubClock once its body was in, HttpAudit.instant): every subgraph context of the request, and a remote subgraph's assertion, carry it. */
  now: Date;
  /** The `x-purpose` header as sent, once per time it was sent (two are refused, not joined); parsed (and refused if malformed) once the operation is known. */
  purposeHeader: readonly string[] | undefined;
  clientAddress: string | null;
  /**
   * `performance.now()` when the request's headers arrived (HttpAudit.authenticate, or the listener's
   * Arrival): the audit event's duration counts from it, on every path, so a compiled read's event
   * and the general path's of the same request agree, a slow upload included.
   */
  startedAt: number;
  /**
   * The field grant the purpose names, settled by the purpose check before execution and handed to
   * every subgraph's context. An object, as `audit` is, for Apollo Server's shallow copy.
   */
  grant: { settled?: SettledGrant };
  /** Filled by the subgraphs' fetches: what was read of which child, and what was written. */
  access: AccessLog;
  /**
   * Set once the request's audit event is written (or the response withheld). An object, not a
   * flag: Apollo Server hands plugins a shallow copy of the context.
   */
  audit: {
    written: boolean;
    /**
     * What the HTTP layer parsed of the request (HttpAudit.validationBound): the operation, the
     * document and its variables' HMACs, for the event of a refusal made before Apollo Server
     * parses (a persisted query's) or without its pipeline (`fallback`).
     */
    parsed?: () => ParsedRequest;
  };
}
