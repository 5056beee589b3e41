import {
  defaultFieldResolver,
  DocumentNode,
  FieldNode,
  GraphQLFieldResolver,
  GraphQLLeafType,
  GraphQLObjectType,
  isLeafType,
  isNonNullType,
  Kind,
  OperationDefinitionNode,
  parse,
} from 'graphql';
import { auditDocument } from '../audit/document-signature';
import type { PolicySubject } from '../auth/principal';
import type { InProcessDataSource } from '../gateway/in-process.data-source';
import { GATEWAY_VARIABLE } from '../gateway/reserved-response-names';
import type { Policy } from '../policy/policy';
import { Access } from '../policy/policy.types';

/** The one shape compiled: `query ($v: ID!) { minor(id: $v) { <scalar fields of Minor> } }`. */
const ROOT_TYPE = 'Query';
const ROOT_FIELD = 'minor';
const ROOT_ARGUMENT = 'id';
const RECORD_TYPE = 'Minor';

export interface CompiledField {
  name: string;
  /** `Minor.<name>`: the policy row and the access log's key. */
  key: string;
  type: GraphQLLeafType;
  nonNull: boolean;
  /** The subgraph's own resolver for the field (what graphql-js would call under the policy middleware). */
  resolve: GraphQLFieldResolver<unknown, unknown>;
}

export interface ReadPlan {
  operationName: string | null;
  /** Name of the operation's one variable, the child's id. */
  variable: string;
  /** The subgraph's own resolver of `Query.minor`. */
  resolveRecord: GraphQLFieldResolver<unknown, unknown>;
  fields: CompiledField[];
  /** The document as the audit event stores it (same function as the audit plugin). */
  audited: { text: string; hash: string };
  /** Whether the table lets this subject read every field exactly (ALLOW: no refusal, mask or grant decision). */
  allowed(subject: PolicySubject): boolean;
}

const plain = (node: { directives?: readonly unknown[] }) => !node.directives?.length;

function operationOf(document: DocumentNode): OperationDefinitionNode | null {
  if (document.definitions.length !== 1) return null;
  const [op] = document.definitions;
  return op.kind === Kind.OPERATION_DEFINITION && op.operation === 'query' && plain(op) ? op : null;
}

/** The variable holding the id, if the operation declares exactly `$v: ID!` and passes it as `minor(id: $v)`. */
function idVariable(op: OperationDefinitionNode, root: FieldNode): string | null {
  const [variable, ...more] = op.variableDefinitions ?? [];
  if (!variable || more.length || variable.defaultValue || !plain(variable)) return null;
  const type = variable.type;
  if (type.kind !== Kind.NON_NULL_TYPE || type.type.kind !== Kind.NAMED_TYPE || type.type.name.value !== 'ID') return null;
  const [arg, ...otherArgs] = root.arguments ?? [];
  if (!arg || otherArgs.length || arg.name.value !== ROOT_ARGUMENT || arg.value.kind !== Kind.VARIABLE) return null;
  return arg.value.name.value === variable.variable.name.value ? arg.value.name.value : null;
}

/**
 * Compiles a client's query text into a read plan, or null for anything but the one shape above
 * with every field a scalar or enum of Minor, each selected once, without alias, argument,
 * directive or fragment, and only a document the registry answers alone (valid there and one fetch,
 * as FastPathGateway decides): the plan never answers what the gateway would have planned across
 * subgraphs.
 */
export function compileRead(query: string, registry: Pick<InProcessDataSource, 'schema' | 'answersAlone'>, policy: Policy, enforce: boolean): ReadPlan | null {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return null;
  }
  const op = operationOf(document);
  if (!op || op.selectionSet.selections.length !== 1) return null;
  const [root] = op.selectionSet.selections;
  if (root.kind !== Kind.FIELD || root.name.value !== ROOT_FIELD || root.alias || !plain(root) || !root.selectionSet) return null;
  const variable = idVariable(op, root);
  // The general path refuses the name the gateway keeps for its entity fetches (reservedVariableNames).
  if (!variable || variable === GATEWAY_VARIABLE) return null;
  const queryType = registry.schema.getQueryType();
  const recordType = registry.schema.getType(RECORD_TYPE);
  if (queryType?.name !== ROOT_TYPE || !(recordType instanceof GraphQLObjectType)) return null;
  const recordFields = recordType.getFields();
  const fields: CompiledField[] = [];
  for (const selection of root.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.alias || selection.arguments?.length || !plain(selection) || selection.selectionSet) return null;
    const name = selection.name.value;
    const field = recordFields[name];
    // A field that declares arguments would get their defaults from graphql-js; the compiled
    // resolve call passes none.
    if (!field || field.args.length || fields.some((f) => f.name === name)) return null;
    const named = isNonNullType(field.type) ? field.type.ofType : field.type;
    if (!isLeafType(named)) return null;
    fields.push({ name, key: `${RECORD_TYPE}.${name}`, type: named, nonNull: isNonNullType(field.type), resolve: field.resolve ?? defaultFieldResolver });
  }
  if (!registry.answersAlone(document)) return null;
  const keys = [`${ROOT_TYPE}.${ROOT_FIELD}`, ...fields.map((f) => f.key)];
  const decided = new Map<PolicySubject, boolean>();
  return {
    operationName: op.name?.value ?? null,
    variable,
    resolveRecord: queryType.getFields()[ROOT_FIELD].resolve ?? defaultFieldResolver,
    fields,
    audited: auditDocument(document),
    allowed(subject) {
      let allowed = decided.get(subject);
      if (allowed === undefined) {
        allowed = !enforce || keys.every((k) => policy.access(subject, k) === Access.ALLOW);
        decided.set(subject, allowed);
      }
      return allowed;
    },
  };
}
