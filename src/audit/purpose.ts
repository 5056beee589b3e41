import { DocumentNode, GraphQLSchema, OperationDefinitionNode, TypeInfo, visit, visitWithTypeInfo, getNamedType } from 'graphql';
import { isWellFormed } from '../common/validation';
import { badInput } from '../errors/hub.exception';
import { Purpose, PurposeCode } from './audit.types';

export const PURPOSE_HEADER = 'x-purpose';
const CODES = Object.values(PurposeCode) as string[];

/**
 * `x-purpose: CASE_HANDLING` or `x-purpose: CASE_HANDLING; 2026-民-0042` (code, then an
 * optional free-text reference such as a case number). Undefined when absent; BAD_USER_INPUT
 * when malformed.
 */
export function parsePurpose(header: string | undefined): Purpose | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const raw = decodeHeader(header);
  const [code, ...rest] = raw.split(';');
  const trimmed = code.trim().toUpperCase();
  if (!CODES.includes(trimmed)) throw badInput(PURPOSE_HEADER, `purpose must be one of ${CODES.join(', ')}`);
  const reference = rest.join(';').trim();
  if (Array.from(reference).length > 200) throw badInput(PURPOSE_HEADER, 'reference must be at most 200 characters');
  // The reference is shown to auditors as it is: no NUL (Postgres's JSON refuses it, and the
  // auditor's searches over the trail with it), no escape sequence, no bidirectional override.
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(reference) || !isWellFormed(reference)) {
    throw badInput(PURPOSE_HEADER, 'reference must not contain control or format characters');
  }
  return { code: trimmed as PurposeCode, ...(reference ? { reference } : {}) };
}

/** Headers are Latin-1 on the wire; a client may percent-encode a Chinese case reference. */
function decodeHeader(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Whether the operation selects any field of a type that is part of a child's record. */
export function touchesChildRecords(schema: GraphQLSchema, doc: DocumentNode, operation: OperationDefinitionNode, childTypes: ReadonlySet<string>): boolean {
  const typeInfo = new TypeInfo(schema);
  let touches = false;
  const fragments = doc.definitions.filter((d) => d.kind === 'FragmentDefinition');
  visit(
    { kind: doc.kind, definitions: [operation, ...fragments] },
    visitWithTypeInfo(typeInfo, {
      Field() {
        const type = typeInfo.getType();
        if (type && childTypes.has(getNamedType(type).name)) touches = true;
      },
    }),
  );
  return touches;
}
