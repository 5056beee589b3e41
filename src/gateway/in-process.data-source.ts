import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { DocumentNode, execute, GraphQLError, parse, validate } from 'graphql';
import type { DataSource } from 'typeorm';
import { parsePurpose } from '../audit/purpose';
import type { HubConfig } from '../config/hub.config';
import { maskUnexpectedError } from '../errors/hub.exception';
import type { Policy } from '../policy/policy';
import { createHubContext } from '../server/hub.context';
import type { GatewayContext } from './gateway.context';
import type { BuiltSubgraph } from './supergraph';

/**
 * Executes a subgraph fetch in the gateway's process: no HTTP hop, but the same boundary as a
 * remote subgraph — a fresh subgraph context built from the gateway's principal, and errors
 * masked before they leave the subgraph. Query plans repeat the same few documents, so parsed and
 * validated documents are cached by text.
 */
export class InProcessDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly documents = new Map<string, DocumentNode | readonly GraphQLError[]>();

  constructor(
    private readonly config: HubConfig,
    private readonly subgraph: BuiltSubgraph,
    private readonly policy: Policy,
    private readonly db: DataSource,
  ) {}

  private document(query: string): DocumentNode | readonly GraphQLError[] {
    let doc = this.documents.get(query);
    if (!doc) {
      const parsed = parse(query);
      const errors = validate(this.subgraph.raw, parsed);
      doc = errors.length ? errors : parsed;
      if (this.documents.size > 1000) this.documents.clear();
      this.documents.set(query, doc);
    }
    return doc;
  }

  async process({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const doc = this.document(request.query!);
    if (!('kind' in doc)) return { errors: doc.map((e) => maskUnexpectedError(e.toJSON(), e)) };
    // The purpose travels on so that a subgraph can hold a field grant to it (validated already by the audit plugin).
    const ctx = createHubContext(this.config, context.principal, this.policy, this.db, context.requestId, context.access, parsePurpose(context.purposeHeader));
    const result = await execute({
      schema: this.subgraph.schemaFor(ctx.subject),
      document: doc,
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: ctx,
    });
    return {
      data: result.data as Record<string, unknown> | null | undefined,
      errors: result.errors?.map((e) => maskUnexpectedError(e.toJSON(), e.originalError ?? e)),
    };
  }
}
