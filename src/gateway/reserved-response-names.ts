import { ASTVisitor, GraphQLError, isAbstractType, Kind, parse, ValidationContext, ValidationRule } from 'graphql';

/**
 * The key fields of each entity type of the supergraph (`@join__type(key: "id")`), by type name:
 * the top-level fields of each key's selection.
 */
export function entityKeyFields(supergraphSdl: string): ReadonlyMap<string, ReadonlySet<string>> {
  const keys = new Map<string, Set<string>>();
  for (const d of parse(supergraphSdl, { noLocation: true }).definitions) {
    if (d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const j of d.directives ?? []) {
      const key = j.name.value === 'join__type' ? j.arguments?.find((a) => a.name.value === 'key')?.value : undefined;
      if (key?.kind !== Kind.STRING) continue;
      const [selection] = parse(`{ ${key.value} }`, { noLocation: true }).definitions;
      if (selection.kind !== Kind.OPERATION_DEFINITION) continue;
      let fields = keys.get(d.name.value);
      if (!fields) keys.set(d.name.value, (fields = new Set()));
      for (const s of selection.selectionSet.selections) if (s.kind === Kind.FIELD) fields.add(s.name.value);
    }
  }
  return keys;
}

/**
 * Refuses an alias that gives another field a response name the query planner keeps for its own:
 * `__typename`, which it adds to what it fetches and by which it shapes the answer, and an entity's
 * key fields (`Minor.id`), which it fetches to go to the next subgraph. It merges every fetch's
 * answer by response name, so `policeIncidents { __typename: narrative }` took the narrative for the
 * record's type — the record answered null with the gateway's diagnostics in the answer's
 * extensions and no error, or, where the narrative is refused, an internal error — and
 * `minor { id: name policeIncidents { id } }` answered the child's id as its name. Refused whatever
 * path would answer the document (the fast path did right), so that a document gets one answer.
 */
export function reservedResponseNames(keys: ReadonlyMap<string, ReadonlySet<string>>): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    Field(node) {
      const alias = node.alias?.value;
      if (alias === undefined || alias === node.name.value) return;
      const parent = context.getParentType();
      if (!parent) return;
      const types = isAbstractType(parent) ? [parent, ...context.getSchema().getPossibleTypes(parent)] : [parent];
      if (alias !== '__typename' && !types.some((type) => keys.get(type.name)?.has(alias))) return;
      context.reportError(new GraphQLError(`The response name "${alias}" is kept on ${parent.name} for its own field: give "${node.name.value}" another alias`, { nodes: node }));
    },
  });
}

/**
 * The variable through which the gateway sends a subgraph the records it takes there (an entity
 * fetch: `_entities(representations: $representations)`), beside the client's own variables.
 */
export const GATEWAY_VARIABLE = 'representations';

/**
 * Refuses an operation declaring a variable named GATEWAY_VARIABLE: the gateway would not build an
 * entity fetch beside it (`Variables cannot contain key "representations"`), and a child's police
 * incidents asked with `first: $representations` were answered null with an internal error. Refused
 * whichever path would answer the document, one that needs no entity fetch too, so that a document
 * gets one answer.
 */
export const reservedVariableNames: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  VariableDefinition(node) {
    if (node.variable.name.value !== GATEWAY_VARIABLE) return;
    context.reportError(new GraphQLError(`The variable name "$${GATEWAY_VARIABLE}" is kept by the gateway for the records it sends between subgraphs: give the variable another name`, { nodes: node }));
  },
});
