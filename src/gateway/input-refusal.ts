import { GraphQLError, Kind } from 'graphql';

/**
 * A subgraph's refusal of the client's own input that the supergraph accepted: the supergraph checks
 * DateTimeISO with the hub's scalar (checkCustomScalars), yet a remote subgraph of another release
 * may judge a value otherwise, and the fast path validates on the subgraph's schema. Such a refusal
 * is the client's error (BAD_USER_INPUT), not the hub's, in process and from a remote subgraph alike.
 */

/**
 * graphql-js's refusal of a variable's value, before anything ran (e.g. a DateTimeISO out of
 * range). Apollo Server's own test for the errors it labels BAD_USER_INPUT.
 */
export function isVariableRefusal(e: GraphQLError): boolean {
  const node = e.nodes?.length === 1 ? e.nodes[0] : undefined;
  return node?.kind === Kind.VARIABLE_DEFINITION && e.message.startsWith(`Variable "$${node.variable.name.value}" `) && e.extensions?.code == null;
}

const VALUE_KINDS = new Set<string>([Kind.STRING, Kind.INT, Kind.FLOAT, Kind.BOOLEAN, Kind.ENUM, Kind.NULL, Kind.LIST, Kind.OBJECT]);

/**
 * A validation error of a literal written in the client's document (`nextVisitDueBefore:
 * "not-a-date"`), as the subgraph's validation reports its scalar's refusal: the error names the
 * value itself. The query planner copies the client's literals into the fetch, and everything else
 * about the document the supergraph has already validated.
 */
export function isLiteralRefusal(e: GraphQLError): boolean {
  const node = e.nodes?.length === 1 ? e.nodes[0] : undefined;
  return node !== undefined && VALUE_KINDS.has(node.kind);
}
