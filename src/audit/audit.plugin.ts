import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, FieldNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { badInput, HubErrorCode, HubException } from '../errors/hub.exception';
import type { GatewayContext } from '../gateway/gateway.context';
import { auditEvent, outcomeOf } from './audit-event';
import type { Purpose } from './audit.types';
import type { AuditSink } from './audit.writer';
import { auditDocument, hashVariables } from './document-signature';
import { parsePurpose, PURPOSE_HEADER, touchesChildRecords } from './purpose';

/** Deeper selections than any client needs are refused before planning (LIMIT_EXCEEDED). */
export const MAX_DEPTH = 12;

function depth(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) max = Math.max(max, 1 + depth((sel as FieldNode).selectionSet, fragments, seen));
    else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depth(sel.selectionSet, fragments, seen));
    else if (!seen.has(sel.name.value)) {
      const frag = fragments.get(sel.name.value);
      max = Math.max(max, depth(frag?.selectionSet, fragments, new Set([...seen, sel.name.value])));
    }
  }
  return max;
}

function operationDepth(doc: DocumentNode, op: OperationDefinitionNode): number {
  const fragments = new Map(
    doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  return depth(op.selectionSet, fragments, new Set());
}

/**
 * What the audit needs of a document depends only on the document, and Apollo hands the same
 * parsed DocumentNode to every request with the same text: compute it once per document.
 */
interface DocumentFacts {
  audited: { text: string; hash: string };
  depth: Map<OperationDefinitionNode, number>;
  touchesChild: Map<OperationDefinitionNode, boolean>;
}
const facts = new WeakMap<DocumentNode, DocumentFacts>();
function factsOf(doc: DocumentNode): DocumentFacts {
  let f = facts.get(doc);
  if (!f) {
    f = { audited: auditDocument(doc), depth: new Map(), touchesChild: new Map() };
    facts.set(doc, f);
  }
  return f;
}

export interface AuditPluginOptions {
  writer: AuditSink;
  variableKey: Uint8Array;
  childTypes: ReadonlySet<string>;
}

/**
 * One audit event per GraphQL request, written before the response leaves: if the write fails
 * the client gets AUDIT_UNAVAILABLE and no data (fail closed). Also where the purpose rule and
 * the depth limit are enforced, so that refusals are audited like everything else.
 */
export function auditPlugin(opts: AuditPluginOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const startedAt = performance.now();
      let purpose: Purpose | null = null;
      return {
        async didResolveOperation({ document, operation, schema, contextValue }) {
          if (!operation) return; // Apollo refuses an unresolvable operation itself
          const f = factsOf(document);
          let depth = f.depth.get(operation);
          if (depth === undefined) f.depth.set(operation, (depth = operationDepth(document, operation)));
          if (depth > MAX_DEPTH) {
            throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `Selections deeper than ${MAX_DEPTH} levels are not served`);
          }
          purpose = parsePurpose(contextValue.purposeHeader) ?? null;
          let touches = f.touchesChild.get(operation);
          if (touches === undefined) f.touchesChild.set(operation, (touches = touchesChildRecords(schema, document, operation, opts.childTypes)));
          if (!purpose && touches) {
            throw badInput(PURPOSE_HEADER, `an operation that returns a child's data must declare its purpose: ${PURPOSE_HEADER}: CODE[; reference]`);
          }
        },
        async willSendResponse(rc) {
          const { response, contextValue: ctx } = rc;
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const errorCodes = (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          const event = auditEvent({
            requestId: ctx.requestId,
            startedAt,
            principal: ctx.principal,
            clientAddress: ctx.clientAddress,
            outcome: outcomeOf(errorCodes, result.data),
            errorCodes,
            operationName: rc.operation?.name?.value ?? rc.request.operationName ?? null,
            operationType: rc.operation?.operation ?? null,
            document: rc.document ? factsOf(rc.document).audited : null,
            variables: hashVariables(opts.variableKey, rc.request.variables),
            purpose,
            access: ctx.access.forEvent(),
          });
          try {
            await opts.writer.append(event);
            ctx.audit.written = true;
          } catch (e) {
            console.error('[hub] audit write failed; the response is withheld', e);
            response.body.singleResult = {
              errors: [{ message: 'The request could not be audited; no data is released', extensions: { code: HubErrorCode.AUDIT_UNAVAILABLE } }],
            };
            response.http.status = 503;
            ctx.audit.written = true; // nothing left to audit: no data went out, and the store is down
          }
        },
      };
    },
  };
}
