import type { ApolloGateway } from '@apollo/gateway';
import type { GatewayInterface, GatewayLoadResult, GatewaySchemaLoadOrUpdateCallback } from '@apollo/server-gateway-interface';
import { BREAK, DocumentNode, Kind, OperationTypeNode, visit } from 'graphql';
import { rootFieldNodes } from '../common/root-fields';
import { checkCustomScalars } from './supergraph-scalars';
import type { InProcessDataSource, RootFields } from './in-process.data-source';

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
 * The fields each operation type of a document selects at its root, through fragments (the
 * document is valid on the supergraph by now: every fragment exists, none is spread in itself).
 */
function rootFields(document: DocumentNode): RootFields {
  const roots = new Map<OperationTypeNode, Set<string>>();
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    let into = roots.get(d.operation);
    if (!into) roots.set(d.operation, (into = new Set()));
    for (const field of rootFieldNodes(document, d)) into.add(field.name.value);
  }
  return roots;
}

/**
 * @apollo/gateway with a fast path: an operation that one in-process subgraph answers alone —
 * every type, field and argument it uses is that subgraph's, and the subgraph declares no field
 * `@external`, `@requires`, `@provides`, `@override` or `@shareable`, so the plan is a single fetch — runs directly on
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
    return this.gateway.onSchemaLoadOrUpdate((schema) => {
      checkCustomScalars(schema.apiSchema);
      callback(schema);
    });
  }

  async load(options: Parameters<ApolloGateway['load']>[0]): Promise<GatewayLoadResult> {
    const { executor } = await this.gateway.load(options);
    return {
      executor: async (rc) => {
        const target = this.target(rc.document);
        if (!target) return executor!(rc);
        const result = await target.executeWhole(rc as never);
        // No `data`: refused before anything ran, and left to the gateway to refuse as it does
        // (a bad DateTimeISO too: checkCustomScalars).
        return 'data' in result ? result : executor!(rc);
      },
    };
  }

  stop(): Promise<void> {
    return this.gateway.stop();
  }

  /**
   * Apollo Server hands the same DocumentNode to every request with the same text: decide once per
   * document. Only a subgraph defining every root field is asked to validate the document: a
   * validation holds the event loop, hundreds of milliseconds for some documents of a few
   * kilobytes, and asking each of nine subgraphs in turn multiplied it.
   */
  private target(document: DocumentNode): InProcessDataSource | null {
    let target = this.targets.get(document);
    if (target === undefined) {
      if (introspects(document)) target = null;
      else {
        const roots = rootFields(document);
        target = this.local.find((s) => s.definesRoots(roots) && s.answersAlone(document)) ?? null;
      }
      this.targets.set(document, target);
    }
    return target;
  }
}
