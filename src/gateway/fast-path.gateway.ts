import type { ApolloGateway } from '@apollo/gateway';
import type { GatewayInterface, GatewayLoadResult, GatewaySchemaLoadOrUpdateCallback } from '@apollo/server-gateway-interface';
import { BREAK, DocumentNode, visit } from 'graphql';
import type { InProcessDataSource } from './in-process.data-source';

/** Introspection answers from the supergraph, never from one subgraph's schema. */
function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * @apollo/gateway with a fast path: an operation that one in-process subgraph answers alone —
 * every type, field and argument it uses is that subgraph's, and the subgraph declares no field
 * `@external`, `@requires`, `@provides` or `@override`, so the plan is a single fetch — runs directly on
 * that subgraph's policy schema, skipping the plan's execution, the subgraph operation's
 * round trip through text and the result re-shaping. Everything else goes through the gateway.
 * Authentication, the purpose rule and the audit event happen around the executor, the policy
 * inside the subgraph schema: the fast path bypasses neither.
 */
export class FastPathGateway implements GatewayInterface {
  private readonly targets = new WeakMap<DocumentNode, InProcessDataSource | null>();

  constructor(
    private readonly gateway: ApolloGateway,
    private readonly local: readonly InProcessDataSource[],
  ) {}

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback) {
    return this.gateway.onSchemaLoadOrUpdate(callback);
  }

  async load(options: Parameters<ApolloGateway['load']>[0]): Promise<GatewayLoadResult> {
    const { executor } = await this.gateway.load(options);
    return {
      executor: (rc) => {
        const target = this.target(rc.document);
        return target ? target.executeWhole(rc as never) : executor!(rc);
      },
    };
  }

  stop(): Promise<void> {
    return this.gateway.stop();
  }

  /** Apollo Server hands the same DocumentNode to every request with the same text: decide once per document. */
  private target(document: DocumentNode): InProcessDataSource | null {
    let target = this.targets.get(document);
    if (target === undefined) {
      target = introspects(document) ? null : (this.local.find((s) => s.answersAlone(document)) ?? null);
      this.targets.set(document, target);
    }
    return target;
  }
}
