import { DocumentNode, GraphQLSchema, isNonNullType, OperationDefinitionNode, TypeInfo, ValidationContext } from 'graphql';

/** Where an operation's variables stand in non-null positions: a variable's name and the type there. */
export type NonNullUses = readonly { variable: string; type: string }[];

/**
 * The non-null positions (a field's or a directive's argument, an input field, a list item) an
 * operation puts its variables in, fragments included. Validation lets a nullable variable stand
 * there when it or the position has a default (the spec's "allowed variable usage"), so a null
 * given for it is refused only as the field or directive executes — by graphql-js inside a
 * subgraph, or by the gateway itself for a root field's `@include` — as an unexpected error.
 */
export function nonNullUses(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): NonNullUses {
  const context = new ValidationContext(schema, document, new TypeInfo(schema), () => undefined);
  return context
    .getRecursiveVariableUsages(operation)
    .filter((u) => u.type && isNonNullType(u.type))
    .map((u) => ({ variable: u.node.name.value, type: String(u.type) }));
}

/** The first use given null by the request's variables, if any: the client's input to refuse before anything runs. */
export function nullInNonNullUse(uses: NonNullUses, variables: Record<string, unknown> | undefined): { variable: string; type: string } | undefined {
  if (!variables) return undefined;
  return uses.find((u) => Object.prototype.hasOwnProperty.call(variables, u.variable) && variables[u.variable] === null);
}
