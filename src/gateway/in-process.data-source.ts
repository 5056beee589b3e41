import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { BREAK, DocumentNode, execute, GraphQLError, GraphQLSchema, Kind, OperationTypeNode, parse, validate, visit } from 'graphql';
import { isLiteralRefusal, isVariableRefusal } from './input-refusal';
import type { DataSource } from 'typeorm';
import { parsePurpose } from '../audit/purpose';
import type { HubConfig } from '../config/hub.config';
import { HubErrorCode, maskUnexpectedError } from '../errors/hub.exception';
import type { Policy } from '../policy/policy';
import { createHubContext, HubContext } from '../server/hub.context';
import type { GatewayContext } from './gateway.context';
import type { BuiltSubgraph } from './supergraph';

/**
 * Federation directives under which a field a subgraph declares may still be resolved, or need
 * inputs, from another subgraph: validating a document against such a subgraph alone does not
 * make its plan a single fetch. A field another subgraph also resolves is `@shareable` in this
 * one too (composition requires it), and the planner may fetch it there.
 */
const CROSS_SUBGRAPH_DIRECTIVES = new Set(['external', 'requires', 'provides', 'override', 'interfaceObject', 'shareable']);

function usesCrossSubgraphDirectives(sdl: string): boolean {
  let found = false;
  visit(parse(sdl), {
    Directive(node) {
      if (!CROSS_SUBGRAPH_DIRECTIVES.has(node.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** The client's input refused by the subgraph (input-refusal.ts), as a remote subgraph answers it. */
const refusedInput = (e: GraphQLError) => ({ message: e.message, extensions: { code: HubErrorCode.BAD_USER_INPUT } });

/** The names of the fields a document selects at the root of each operation type it uses. */
export type RootFields = ReadonlyMap<OperationTypeNode, ReadonlySet<string>>;

/** Documents kept per subgraph: a plan's fetches are a few hundred texts at most. */
const MAX_DOCUMENTS = 1000;
/**
 * Characters of text kept per subgraph. A parsed document takes some 65 times its text, and a
 * client choosing its aliases chooses the fetches' texts: 1,000 kept fetches of 1,500 aliases
 * each (21 KB, within every bound of a document) would have held 2 GB, past the hub's heap. At
 * 128 KiB a subgraph keeps some 9 MB, nine of them 80 MB, and still a hundred or more of ordinary
 * plans' fetches (a few hundred characters to a few KB each).
 */
const MAX_DOCUMENT_CHARS = 128 * 1024;

/**
 * Executes a subgraph fetch in the gateway's process: no HTTP hop, but the same boundary as a
 * remote subgraph — a fresh subgraph context built from the gateway's principal, and errors
 * masked before they leave the subgraph. Query plans repeat the same few documents, so parsed and
 * validated documents are cached by text.
 */
export class InProcessDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  /** Characters of the texts kept in `documents` (see MAX_DOCUMENT_CHARS). */
  private documentChars = 0;
  /** Whether a document valid against this subgraph is one fetch here (see answersAlone). */
  private readonly standsAlone: boolean;

  constructor(
    private readonly config: HubConfig,
    private readonly subgraph: BuiltSubgraph,
    private readonly policy: Policy,
    private readonly db: DataSource,
  ) {
    this.standsAlone = !usesCrossSubgraphDirectives(subgraph.sdl);
  }

  /** The subgraph's schema without the policy: what documents sent to it are validated against. */
  get schema(): GraphQLSchema {
    return this.subgraph.raw;
  }

  private document(query: string): DocumentNode | readonly GraphQLError[] {
    let doc = this.documents.get(query);
    if (!doc) {
      const parsed = parse(query);
      const errors = validate(this.subgraph.raw, parsed);
      doc = errors.length ? errors : parsed;
      if (this.documents.size >= MAX_DOCUMENTS || this.documentChars + query.length > MAX_DOCUMENT_CHARS) {
        this.documents.clear();
        this.documentChars = 0;
      }
      this.documents.set(query, doc);
      this.documentChars += query.length;
    }
    return doc;
  }

  private contextOf(context: GatewayContext): HubContext {
    // The purpose and the grant it names travel on, settled already by the audit plugin's purpose check.
    return createHubContext(this.config, context.principal, this.policy, this.db, context.now, context.requestId, context.access, parsePurpose(context.purposeHeader), context.grant.settled);
  }

  async process({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const doc = this.document(request.query!);
    if (!('kind' in doc)) return { errors: doc.map((e) => (isLiteralRefusal(e) ? refusedInput(e) : maskUnexpectedError(e.toJSON(), e))) };
    const ctx = this.contextOf(context as GatewayContext);
    const result = await execute({
      schema: this.subgraph.schemaFor(ctx.subject),
      document: doc,
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: ctx,
    });
    return {
      data: result.data as Record<string, unknown> | null | undefined,
      // A refused variable is the client's input, as a remote subgraph and the fast path answer it.
      errors: result.errors?.map((e) =>
        isVariableRefusal(e) ? refusedInput(e) : maskUnexpectedError(e.toJSON(), e.originalError ?? e),
      ),
    };
  }

  /** Whether this subgraph defines every root field given: a look-up per field, no validation. */
  definesRoots(roots: RootFields): boolean {
    for (const [operation, fields] of roots) {
      const root = this.subgraph.raw.getRootType(operation);
      if (!root) return false;
      const defined = root.getFields();
      for (const f of fields) if (f !== '__typename' && !Object.hasOwn(defined, f)) return false;
    }
    return true;
  }

  /**
   * Whether this subgraph defines every type, field and argument the client's document uses:
   * then the query plan is a single fetch here, and the document can run here as it is.
   */
  answersAlone(document: DocumentNode): boolean {
    if (!this.standsAlone) return false;
    const schema = this.subgraph.raw;
    // validate() skips the fields of an operation type the schema lacks (a mutation sent to a
    // subgraph without mutations is refused only when executed), so check the roots first.
    const rootsKnown = document.definitions.every((d) => d.kind !== Kind.OPERATION_DEFINITION || schema.getRootType(d.operation));
    return rootsKnown && validate(schema, document).length === 0;
  }

  /**
   * Runs a client operation that this subgraph answers alone (see FastPathGateway), with the same
   * context, policy schema and error masking as a planned fetch.
   */
  async executeWhole(rc: GatewayGraphQLRequestContext<GatewayContext>): Promise<GatewayExecutionResult> {
    const ctx = this.contextOf(rc.context);
    const result = await execute({
      schema: this.subgraph.schemaFor(ctx.subject),
      document: rc.document,
      variableValues: rc.request.variables,
      // The name the client asked for: `rc.operationName` is null when it named no operation of
      // the document, and graphql-js would then run the document's only operation.
      operationName: rc.request.operationName,
      contextValue: ctx,
    });
    if (!result.errors) return result;
    // No `data` at all: the request itself was refused (a variable missing or of the wrong type, an
    // unknown operation name), nothing ran; FastPathGateway has the gateway answer it.
    if (!('data' in result)) return result;
    // Masked at the subgraph's boundary as in process(), and named as the gateway names a
    // subgraph's errors, without locations as the gateway passes them on: the same request answered
    // the same by either path. Apollo Server would label an unmasked driver error
    // INTERNAL_SERVER_ERROR and pass its message on.
    const serviceName = this.subgraph.slice.name;
    return {
      ...result,
      errors: result.errors.map((e) => {
        const masked = maskUnexpectedError(e.toJSON(), e.originalError ?? e);
        return new GraphQLError(masked.message, { path: masked.path, extensions: { ...masked.extensions, serviceName } });
      }),
    };
  }
}
