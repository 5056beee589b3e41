import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, getOperationAST, GraphQLError, GraphQLFormattedError, OperationDefinitionNode } from 'graphql';
import { rootFieldNodes } from '../common/root-fields';
import { badInput, HubErrorCode, HubException, loggableError } from '../errors/hub.exception';
import type { GatewayContext } from '../gateway/gateway.context';
import { PolicySubject, policySubject } from '../auth/principal';
import { answerLostCodes, auditEvent, changeMayStand, MAX_OPERATION_NAME, outcomeOf } from './audit-event';
import { AuditOutcome, Purpose, ReadGroup } from './audit.types';
import { Access } from '../policy/policy.types';
import type { AuditSink } from './audit.writer';
import { auditDocument, declaredVariables, hashVariables, MAX_DECLARED_VARIABLES, MAX_DOCUMENT_CHARS, operationNameOf } from './document-signature';
import { declaredPurpose, needsPurpose, notForChildren, parsePurpose, PURPOSE_HEADER, purposeServesChildren, requireChildPurpose, runsMutation } from './purpose';
import { FieldRefusals, queryCost } from './query-cost';
import { nonNullUses, NonNullUses, nullInNonNullUse } from './variable-nulls';

/**
 * What the audit needs of a document depends only on the document, and Apollo hands the same
 * parsed DocumentNode to every request with the same text: compute it once per document.
 */
interface DocumentFacts {
  audited: { text: string; hash: string; oversized: boolean };
  /**
   * The cost of an operation whose page sizes are all literals or defaults, by the caller's policy
   * subject (what it is refused is priced as refusals); others are costed per request.
   */
  cost: Map<OperationDefinitionNode, Map<PolicySubject, number>>;
  needsPurpose: Map<OperationDefinitionNode, boolean>;
  /** Whether it reads or changes a child's data even by a purpose-free mutation (a report filed). */
  touchesChildren: Map<OperationDefinitionNode, boolean>;
  /** Whether it runs a purpose-free mutation that changes a child's record (a report filed). */
  changesUnbound: Map<OperationDefinitionNode, boolean>;
  nonNullUses: Map<OperationDefinitionNode, NonNullUses>;
}
const facts = new WeakMap<DocumentNode, DocumentFacts>();
function factsOf(doc: DocumentNode): DocumentFacts {
  let f = facts.get(doc);
  if (!f) {
    f = { audited: auditDocument(doc), cost: new Map(), needsPurpose: new Map(), touchesChildren: new Map(), changesUnbound: new Map(), nonNullUses: new Map() };
    facts.set(doc, f);
  }
  return f;
}

/** The operation a request names is not in its document, or it names none of several. */
function unresolvedOperation(name: string | undefined | null): GraphQLError {
  const message = name ? `Unknown operation named "${name.slice(0, MAX_OPERATION_NAME)}".` : 'Must provide operation name if query contains multiple operations.';
  return new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
}

/**
 * The client's BAD_USER_INPUT raised before execution is a request error: 400, as Apollo answers
 * its own (an error thrown there is otherwise answered 500). Anything else passes unchanged.
 */
function asRequestError(e: unknown): unknown {
  return e instanceof HubException && e.extensions.code === HubErrorCode.BAD_USER_INPUT
    ? new HubException(HubErrorCode.BAD_USER_INPUT, e.message, { ...e.extensions, http: { status: 400 } })
    : e;
}

/** What a client is told when the trail cannot be written: the data is withheld, the mutation refused. */
export const WITHHELD_MESSAGE = 'The request could not be audited; no data is released';
/** … and when its final event cannot be written after a change was made, or may have been. */
export const WITHHELD_CHANGES_MESSAGE = `${WITHHELD_MESSAGE}. Its changes were made, or may have been: check before making them again`;

export interface AuditPluginOptions {
  writer: AuditSink;
  variableKey: Uint8Array;
  childTypes: ReadonlySet<string>;
  /** Mutations that need no declared purpose (SubgraphSlice.purposeFreeMutations); every other one does. */
  purposeFreeMutations: ReadonlySet<string>;
  /** Of those, the ones that change no child's record: all a purpose that never serves a child's data lets through. */
  childFreeMutations: ReadonlySet<string>;
  /** Operations whose response may hold more values than this are refused (src/audit/query-cost.ts). */
  maxQueryCost: number;
  /** What each subject is refused, priced as its errors (none: every field priced as served). */
  refusals?: (subject: PolicySubject) => FieldRefusals;
  /**
   * Checks a declared purpose against the records it names (a referral's id); throws to refuse.
   * Returns the one child the purpose binds the request to (a referral's), or null.
   */
  checkPurpose?: (purpose: Purpose, ctx: GatewayContext) => Promise<string | null>;
}

/**
 * One audit event per GraphQL request, written before the response leaves: if the write fails
 * the client gets AUDIT_UNAVAILABLE and no data (fail closed). A mutation leaves two: before it
 * executes anything (the fast path and the planned path alike), a STARTED event with no reads and
 * no changes must be durable, or the mutation is refused (AUDIT_UNAVAILABLE, HTTP 503) with
 * nothing changed and nobody notified; its final event, with the same requestId, follows as for
 * any request. Also where the purpose rule and the cost limit are enforced (the depth limit, before
 * validation, in validation-bound.ts), so that refusals are audited like everything else.
 */
export function auditPlugin(opts: AuditPluginOptions): ApolloServerPlugin<GatewayContext> {
  /** The purpose-free mutations that change a child's record (SubgraphSlice.purposeFreeChildChanges). */
  const unboundChildChanges = new Set([...opts.purposeFreeMutations].filter((name) => !opts.childFreeMutations.has(name)));
  return {
    async requestDidStart({ contextValue }) {
      const { startedAt } = contextValue;
      // Recorded in the request's event whatever refuses it (a limit, validation), not only once the
      // purpose rule has run: a data officer looking into refused probes sees what they were made for.
      const purpose = declaredPurpose(contextValue.purposeHeader);
      let purposeChild: string | null = null;
      return {
        async didResolveOperation({ document, operation, schema, contextValue, request }) {
          // Apollo leaves an unresolvable operation to execution to refuse, and an executor that
          // picks the operation itself (the fast path once did) would run one unchecked: no
          // purpose, no cost limit, no STARTED event. So it is refused here, before any executor.
          if (!operation) throw unresolvedOperation(request.operationName);
          // The schema has no subscriptions; validation lets one through, and the gateway then fails
          // on it as on an internal error.
          if (operation.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are not served', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          const f = factsOf(document);
          if (f.audited.oversized) {
            throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `Operations longer than ${MAX_DOCUMENT_CHARS / 1024} KiB (literals aside) are not served`);
          }
          if ((operation.variableDefinitions?.length ?? 0) > MAX_DECLARED_VARIABLES) {
            throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `Operations declaring more than ${MAX_DECLARED_VARIABLES} variables are not served`);
          }
          let uses = f.nonNullUses.get(operation);
          if (uses === undefined) f.nonNullUses.set(operation, (uses = nonNullUses(schema, document, operation)));
          const nulled = nullInNonNullUse(uses, request.variables);
          if (nulled) {
            throw new HubException(HubErrorCode.BAD_USER_INPUT, `Variable "$${nulled.variable}" is null where a value of type "${nulled.type}" is required`, { http: { status: 400 } });
          }
          // Before any resolver runs: a single request for thousands of pages of children once
          // held the hub until it ran out of memory, and everyone else's requests with it.
          const subject = policySubject(contextValue.principal);
          let costs = f.cost.get(operation);
          if (!costs) f.cost.set(operation, (costs = new Map()));
          let cost = costs.get(subject);
          if (cost === undefined) {
            const estimate = queryCost(schema, document, operation, request.variables, opts.refusals?.(subject));
            cost = estimate.cost;
            if (!estimate.dependsOnVariables) costs.set(subject, cost);
          }
          if (cost > opts.maxQueryCost) {
            throw new HubException(
              HubErrorCode.LIMIT_EXCEEDED,
              `The response could hold about ${Math.round(cost)} values, more than the ${opts.maxQueryCost} served in one request: ask for smaller pages, fewer fields or fewer aliases`,
            );
          }
          try {
            // A malformed header, recorded as no purpose, is refused here, after the bounds.
            if (!purpose) parsePurpose(contextValue.purposeHeader);
            if (purpose && opts.checkPurpose) purposeChild = await opts.checkPurpose(purpose, contextValue);
            let needs = f.needsPurpose.get(operation);
            if (needs === undefined) f.needsPurpose.set(operation, (needs = needsPurpose(schema, document, operation, opts.childTypes, opts.purposeFreeMutations)));
            if (needs) requireChildPurpose(purpose, "an operation that reads or changes a child's data");
            // A report filed under EMPLOYMENT_CHECK is linked to the child it names, if registered:
            // refused before it runs, for a refusal after would tell whether it was.
            if (purpose && !purposeServesChildren(purpose) && operation.operation === 'mutation') {
              let touches = f.touchesChildren.get(operation);
              if (touches === undefined) f.touchesChildren.set(operation, (touches = needsPurpose(schema, document, operation, opts.childTypes, opts.childFreeMutations)));
              if (touches) requireChildPurpose(purpose, "an operation that reads or changes a child's data");
            }
            // Nor under a purpose bound to one child: the report is of another child, or of one it
            // names to no one, and withheld after it ran it would stand, filed under a referral that
            // checks out (and withheld only when linked elsewhere, it would tell which it named).
            if (purposeChild && operation.operation === 'mutation') {
              let files = f.changesUnbound.get(operation);
              if (files === undefined) f.changesUnbound.set(operation, (files = runsMutation(schema, document, operation, unboundChildChanges)));
              if (files) throw badInput(PURPOSE_HEADER, `Under purpose ${purpose!.code} a request is about the child of ${purpose!.reference} only: a mandatory report is filed without a purpose`);
            }
          } catch (e) {
            throw asRequestError(e);
          }
          // Last of the checks, so that only a mutation about to execute is recorded as started. A
          // mutation's resolvers commit their own transactions before the response is written:
          // without this event a failed final write would leave a change (and its notifications)
          // the trail knows nothing of. Thrown here, the error stops Apollo before execution.
          if (operation.operation === 'mutation') {
            const started = auditEvent({
              requestId: contextValue.requestId,
              startedAt,
              principal: contextValue.principal,
              clientAddress: contextValue.clientAddress,
              outcome: AuditOutcome.STARTED,
              errorCodes: [],
              operationName: operationNameOf(operation, request.operationName),
              operationType: operation.operation,
              document: f.audited,
              variables: hashVariables(opts.variableKey, request.variables, declaredVariables(operation)),
              purpose,
            });
            try {
              await opts.writer.append(started);
            } catch (e) {
              console.error('[hub] audit write failed; the mutation is refused before it runs', loggableError(e));
              throw new HubException(HubErrorCode.AUDIT_UNAVAILABLE, WITHHELD_MESSAGE);
            }
          }
        },
        async willSendResponse(rc) {
          const { response, contextValue: ctx } = rc;
          if (response.body.kind !== 'single') return;
          let access = ctx.access.forEvent();
          // A purpose bound to one child (a referral's) covers reading that child only: an answer that
          // read others under it is withheld whole, so that no read of another child ever carries a
          // purpose that checks out. A mutation has committed by now, and its changes stand (its
          // event records them); only its answer is withheld — else a no-op (acknowledging again)
          // would read any child under the referral. A record about a child it names to no one here
          // (a report of an unregistered child, or of another street's) is another child's too.
          let withheld: { status: number; error: GraphQLFormattedError } | undefined;
          if (purposeChild && (ctx.access.hasServedUnnamedChild() || access.reads.some((g) => g.minorIds.some((id) => id !== purposeChild)))) {
            const ran = rc.operation?.operation === 'mutation' ? ' (the mutation ran; its answer is withheld)' : '';
            const message = `Under purpose ${purpose!.code} a request reads only the child of ${purpose!.reference}${ran}`;
            withheld = { status: 403, error: { message, extensions: { code: HubErrorCode.FORBIDDEN } } };
          } else if (purpose && !purposeServesChildren(purpose) && (ctx.access.hasServedUnnamedChild() || access.reads.some((g) => g.minorIds.length > 0))) {
            // EMPLOYMENT_CHECK serves no child's data, also through a type that is no part of a child's
            // record (a filer's receipts, a data officer's look-up of a child): refused whole, as the
            // operation is before it runs when it selects such a type.
            withheld = { status: 400, error: { message: notForChildren(purpose).message, extensions: { code: HubErrorCode.BAD_USER_INPUT, field: PURPOSE_HEADER } } };
          }
          if (withheld) {
            response.body.singleResult = { errors: [withheld.error] };
            response.http.status = withheld.status;
            // Nothing of the answer left: its reads are recorded as refused, as a field the policy
            // refuses is. Recorded as served, a data officer read them as another child's data
            // released under this referral — the very read the refusal prevented.
            access = { ...access, reads: refusedReads(access.reads) };
          }
          const result = response.body.singleResult;
          // The gateway gathers the errors of parallel fetches as they end: in path order, the same
          // request gets the same answer and the same event every time.
          if (result.errors && result.errors.length > 1) result.errors = [...result.errors].sort(byPath);
          const errorCodes = (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          // The event's own: the client is told of a failure, not of what the trail cannot vouch for.
          errorCodes.push(...answerLostCodes(ctx.access.lostAnswers()));
          // Named as sent when validation refused it (rc.operation is then unset), or as the HTTP layer
          // parsed it when Apollo Server refused it before parsing (a persisted query): a mutation
          // refused so is one attempted, and its variables' HMACs link it to the values it was sent with.
          const named = rc.operation ?? (rc.document ? (getOperationAST(rc.document, rc.request.operationName) ?? undefined) : undefined);
          const early = rc.document ? undefined : ctx.audit.parsed?.();
          const event = auditEvent({
            requestId: ctx.requestId,
            startedAt,
            principal: ctx.principal,
            clientAddress: ctx.clientAddress,
            // A change made is never DENIED: under a referral's purpose a mutation's answer naming
            // another child is withheld (above) after its transaction committed.
            outcome: outcomeOf(errorCodes, errorCodes.length ? servedData(result.data, rc.document, rc.operation) : result.data, access.changes.length > 0),
            errorCodes,
            operationName: early ? early.operationName : operationNameOf(named, rc.request.operationName),
            operationType: early ? early.operationType : (named?.operation ?? null),
            document: early ? early.document : rc.document ? factsOf(rc.document).audited : null,
            variables: early ? early.variables : hashVariables(opts.variableKey, rc.request.variables, declaredVariables(named)),
            purpose,
            access,
          });
          try {
            await opts.writer.append(event);
            ctx.audit.written = true;
          } catch (e) {
            console.error('[hub] audit write failed; the response is withheld', loggableError(e));
            // A change stands (its STARTED event names the request): 503 would invite a retry that
            // makes it twice, so the client is told to check instead, with a status nobody retries on.
            const changed = changeMayStand(rc.operation?.operation, ctx.access, errorCodes);
            response.body.singleResult = {
              errors: [{ message: changed ? WITHHELD_CHANGES_MESSAGE : WITHHELD_MESSAGE, extensions: { code: HubErrorCode.AUDIT_UNAVAILABLE } }],
            };
            response.http.status = changed ? 500 : 503;
            ctx.audit.written = true; // nothing left to audit: no data went out, and the store is down
          }
        },
      };
    },
  };
}

/** Root fields that answer of the schema, never of a record: `__typename` (`Query`, `Mutation`) and introspection (development only). */
const SCHEMA_FIELDS = new Set(['__typename', '__schema', '__type']);

/**
 * The answer's data without the root's SCHEMA_FIELDS, under whatever alias or fragment: they tell
 * nothing of any record, and beside root fields all refused they made the request PARTIAL — served
 * — where it is DENIED (outcomeOf).
 */
function servedData(
  data: Record<string, unknown> | null | undefined,
  document: DocumentNode | undefined,
  operation: OperationDefinitionNode | undefined,
): Record<string, unknown> | null | undefined {
  if (!data || !document || !operation) return data;
  const schemaFields = new Set(rootFieldNodes(document, operation).flatMap((f) => (SCHEMA_FIELDS.has(f.name.value) ? [(f.alias ?? f.name).value] : [])));
  if (!schemaFields.size) return data;
  // A response name is one field's (validation refuses two fields under one name).
  return Object.fromEntries(Object.entries(data).filter(([key]) => !schemaFields.has(key)));
}

/**
 * The reads of an answer withheld whole, each field as refused. Groups that now read alike are one,
 * as AccessLog.forEvent groups them: children in order, groups in the order of their first child.
 */
function refusedReads(reads: ReadGroup[]): ReadGroup[] {
  const byFields = new Map<string, ReadGroup>();
  for (const g of reads) {
    // Keys in canonical order (src/audit/canonical.ts): `fields` before `minorIds`, fields as they were.
    const fields: Record<string, Access> = {};
    for (const field of Object.keys(g.fields)) fields[field] = Access.DENY;
    const text = JSON.stringify(fields);
    const group = byFields.get(text);
    if (group) group.minorIds = [...group.minorIds, ...g.minorIds].sort();
    else byFields.set(text, { fields, minorIds: [...g.minorIds] });
  }
  return [...byFields.values()];
}

/** Request-level errors (no path) first, then by path — indices as numbers — then by message. */
function byPath(a: GraphQLFormattedError, b: GraphQLFormattedError): number {
  const pa = a.path ?? [];
  const pb = b.path ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return pa.length - pb.length || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}
