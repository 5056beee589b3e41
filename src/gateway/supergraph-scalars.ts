import { GraphQLError, GraphQLFormattedError, GraphQLSchema, isScalarType } from 'graphql';
import { HubErrorCode } from '../errors/hub.exception';
import { DateTimeISO } from '../schema/date-time.scalar';

/** The refusal of a DateTimeISO literal, told apart from the document's other validation errors. */
class DateLiteralRefusal extends GraphQLError {}

/**
 * The supergraph knows the custom scalar DateTimeISO by name only and takes any value for it; the
 * subgraph using the value refused it after the plan had started, so the request's other
 * mutations — those of other subgraphs — were written under a refusal (a half-written request, that
 * the client then sent again, corrected). Checked here, a bad date is a request error before
 * anything runs (HTTP 400), as an Int out of range is. The value passes on as given: the subgraph
 * parses it again, with its own scalar.
 */
export function checkCustomScalars(apiSchema: GraphQLSchema): void {
  const type = apiSchema.getType(DateTimeISO.name);
  if (!isScalarType(type)) return;
  const { parseValue, parseLiteral } = type;
  type.parseValue = (value) => {
    DateTimeISO.parseValue(value);
    return parseValue(value);
  };
  type.parseLiteral = (ast, variables) => {
    try {
      DateTimeISO.parseLiteral(ast, variables);
    } catch (e) {
      throw new DateLiteralRefusal(e instanceof Error ? e.message : String(e), { nodes: ast });
    }
    return parseLiteral(ast, variables);
  };
}

/**
 * A DateTimeISO literal refused is the client's bad input, as a variable refused is and as the
 * subgraph labelled it (BAD_USER_INPUT), not the document's type error (GRAPHQL_VALIDATION_FAILED).
 */
export function dateLiteralAsBadInput(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const refusal = error instanceof GraphQLError && error.originalError instanceof DateLiteralRefusal;
  return refusal ? { ...formatted, extensions: { ...formatted.extensions, code: HubErrorCode.BAD_USER_INPUT } } : formatted;
}
