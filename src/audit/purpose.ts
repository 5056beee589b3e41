import { DocumentNode, getNamedType, GraphQLOutputType, GraphQLSchema, OperationDefinitionNode, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { INVISIBLE, isWellFormed } from '../common/validation';
import { badInput } from '../errors/hub.exception';
import { Purpose, PurposeCode } from './audit.types';

export const PURPOSE_HEADER = 'x-purpose';
const CODES = Object.values(PurposeCode) as string[];
// As a line of text (common/validation.ts): a no-break or ideographic space is drawn as U+0020,
// and `2026\u00A00042` would search apart from the `2026 0042` it reads as.
const CONTROL_OR_UNSEEN = new RegExp(String.raw`[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|${INVISIBLE.source}|(?! )\p{Zs}`, 'u');

/**
 * A code as declared, its ASCII letters upper-cased (`case_handling`) and no other: JavaScript's
 * upper-casing turns `ß` into `SS`, `ſ` into `S` and `ı` into `I`, and `aßistance` was recorded as
 * ASSISTANCE, a code the header never held.
 */
const codeOf = (declared: string): string => declared.trim().replace(/[a-z]+/g, (letters) => letters.toUpperCase());

/**
 * `x-purpose: CASE_HANDLING` or `x-purpose: CASE_HANDLING; 2026-民-0042` (code, then an
 * optional free-text reference such as a case number). Undefined when absent; BAD_USER_INPUT
 * when malformed.
 */
export function parsePurpose(header: string | readonly string[] | undefined): Purpose | undefined {
  // Node joins a repeated header with ", ": the second purpose would be read into the first's reference.
  if (typeof header !== 'string' && header !== undefined) {
    if (header.length > 1) throw badInput(PURPOSE_HEADER, `declare one purpose: ${PURPOSE_HEADER} was sent ${header.length} times`);
    header = header[0];
  }
  if (header === undefined || header.trim() === '') return undefined;
  const raw = decodeHeader(header);
  const [code, ...rest] = raw.split(';');
  const trimmed = codeOf(code);
  if (!CODES.includes(trimmed)) throw badInput(PURPOSE_HEADER, `purpose must be one of ${CODES.join(', ')}`);
  const reference = rest.join(';').trim();
  // `CASE_HANDLING; 2026-1, SCREENING` is two purposes joined by a client or proxy (RFC 9110 §5.3), not a reference.
  if (reference.split(',').slice(1).some((part) => CODES.includes(codeOf(part.split(';')[0])))) {
    throw badInput(PURPOSE_HEADER, `declare one purpose: ${PURPOSE_HEADER} was sent more than once`);
  }
  if (Array.from(reference).length > 200) throw badInput(PURPOSE_HEADER, 'reference must be at most 200 characters');
  // The reference is shown to auditors as it is: no NUL (Postgres's JSON refuses it, and the
  // auditor's searches over the trail with it), no escape sequence, no bidirectional override, and
  // nothing drawn as nothing: `2026-0042` with a combining grapheme joiner (U+034F) inside reads
  // as `2026-0042` and searches apart from it.
  if (CONTROL_OR_UNSEEN.test(reference) || !isWellFormed(reference)) {
    throw badInput(PURPOSE_HEADER, 'reference must not contain control, format or invisible characters, or spaces other than U+0020');
  }
  // As user ids: `José` spelt with a combining accent reads as the precomposed one and searches apart
  // from it; so does `2026  0042`, drawn as `2026 0042`.
  if (reference !== reference.normalize('NFC')) throw badInput(PURPOSE_HEADER, 'reference must be in Unicode NFC (precomposed characters)');
  if (reference.includes('  ')) throw badInput(PURPOSE_HEADER, 'reference must not hold two spaces in a row (they are drawn as one)');
  return { code: trimmed as PurposeCode, ...(reference ? { reference } : {}) };
}

/**
 * A pre-employment check (入职查询) is about the adult applying, and is answered by `employmentCheck`
 * without any purpose: it never justifies reading or changing a child's data, which any officer
 * could otherwise do under it.
 */
export function purposeServesChildren(purpose: Purpose): boolean {
  return purpose.code !== PurposeCode.EMPLOYMENT_CHECK;
}

/**
 * Refuses `what` (an operation, a count, a cursor that reads children) without a purpose, or under one
 * that never justifies it (`purposeServesChildren`).
 */
export function requireChildPurpose(purpose: Purpose | null | undefined, what: string): void {
  if (!purpose) throw badInput(PURPOSE_HEADER, `${what} must declare its purpose: ${PURPOSE_HEADER}: CODE[; reference]`);
  if (!purposeServesChildren(purpose)) throw notForChildren(purpose);
}

/** The refusal of a child's data under a purpose that never justifies it. */
export const notForChildren = (purpose: Purpose) =>
  badInput(PURPOSE_HEADER, `${purpose.code} is about the adult applying for a job with children and never justifies reading or changing a child's data; declare why this child's data is needed`);

/**
 * The purpose a request declared, for its audit event whatever refuses it: null when none, or
 * when the header is malformed (the refusal then says so).
 */
export function declaredPurpose(header: string | readonly string[] | undefined): Purpose | null {
  try {
    return parsePurpose(header) ?? null;
  } catch {
    return null;
  }
}

/** Headers are Latin-1 on the wire; a client may percent-encode a Chinese case reference. */
function decodeHeader(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Whether the operation must declare its purpose: it selects any field of a type that is part of a
 * child's record, or it is a mutation with a root field not declared purpose-free. A mutation may
 * change a child's record without answering with any of it (a removal answers with an id), so a
 * mutation needs a purpose by default, and a new one is covered without anyone remembering to.
 */
export function needsPurpose(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operation: OperationDefinitionNode,
  childTypes: ReadonlySet<string>,
  purposeFreeMutations: ReadonlySet<string>,
): boolean {
  return someField(schema, doc, operation, (name, type, mutationRoot) => {
    if (type && childTypes.has(getNamedType(type).name)) return true;
    // `__typename` changes nothing.
    return mutationRoot && !name.startsWith('__') && !purposeFreeMutations.has(name);
  });
}

/** Whether the operation runs one of the mutations `names`. */
export function runsMutation(schema: GraphQLSchema, doc: DocumentNode, operation: OperationDefinitionNode, names: ReadonlySet<string>): boolean {
  return someField(schema, doc, operation, (name, _type, mutationRoot) => mutationRoot && names.has(name));
}

/**
 * Whether `test` holds of some field the operation selects, also through its fragments, given its
 * name, its type and whether it is a root field of Mutation (also through a fragment on Mutation).
 */
function someField(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operation: OperationDefinitionNode,
  test: (name: string, type: GraphQLOutputType | null | undefined, mutationRoot: boolean) => boolean,
): boolean {
  const typeInfo = new TypeInfo(schema);
  const mutationType = schema.getMutationType();
  let found = false;
  const fragments = doc.definitions.filter((d) => d.kind === 'FragmentDefinition');
  visit(
    { kind: doc.kind, definitions: [operation, ...fragments] },
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (!found && test(node.name.value, typeInfo.getType(), !!mutationType && typeInfo.getParentType() === mutationType)) found = true;
      },
    }),
  );
  return found;
}

/**
 * Start-up check of a slice's purpose-free mutations: each must be a mutation of its schema (a
 * renamed one would silently leave the exemption to whatever takes the name) that returns no
 * child-record type (such a mutation needs a purpose by what it selects: exempting it misleads).
 */
export function checkPurposeFreeMutations(slice: string, schema: GraphQLSchema, names: Iterable<string>, childTypes: ReadonlySet<string>): void {
  const fields = schema.getMutationType()?.getFields() ?? {};
  for (const name of names) {
    const field = fields[name];
    if (!field) throw new Error(`Subgraph "${slice}" declares "${name}" purpose-free, but it has no such mutation`);
    const returns = getNamedType(field.type).name;
    if (childTypes.has(returns)) throw new Error(`Subgraph "${slice}" declares "${name}" purpose-free, but it returns ${returns}, part of a child's record`);
  }
}
