import { createHash, createHmac } from 'node:crypto';
import { DocumentNode, Kind, OperationDefinitionNode, print, stripIgnoredCharacters, visit } from 'graphql';

/**
 * The longest operation text served, literals aside (stripped as audited): every event keeps its
 * document, and a 1 MB body of 31,000 aliases of `__typename` left 690 KB in the append-only trail
 * per request, from any token. Real operations are a few kilobytes.
 */
export const MAX_DOCUMENT_CHARS = 64 * 1024;
/**
 * The most variables an operation may declare: each takes an HMAC of some 75 bytes in its event,
 * and 3,000 of them in a 64 KiB document stored 300 KB per request. Real operations declare a few.
 */
export const MAX_DECLARED_VARIABLES = 100;

/** What an event keeps of a document over MAX_DOCUMENT_CHARS (refused, or invalid): its beginning and its hash. */
const KEPT_OF_OVERSIZED = 2048;

/**
 * The document as audited: literal values replaced (a child's name or ID number typed inline
 * must not end up in the trail in clear, nor an enum such as `level: RED` or `harmType:
 * SEXUAL_ABUSE` next to the children the request named — the auditor may not read those fields)
 * and ignored characters removed, plus its SHA-256. Over MAX_DOCUMENT_CHARS only its beginning is
 * kept (`oversized`), the hash still of the whole.
 */
export function auditDocument(doc: DocumentNode): { text: string; hash: string; oversized: boolean } {
  const stripped = visit(doc, {
    StringValue: () => ({ kind: Kind.STRING, value: '' }),
    IntValue: () => ({ kind: Kind.INT, value: '0' }),
    FloatValue: () => ({ kind: Kind.FLOAT, value: '0' }),
    EnumValue: () => ({ kind: Kind.ENUM, value: '_' }),
    BooleanValue: () => ({ kind: Kind.BOOLEAN, value: false }),
  });
  const text = stripIgnoredCharacters(print(stripped));
  const hash = createHash('sha256').update(text).digest('hex');
  const oversized = text.length > MAX_DOCUMENT_CHARS;
  return { text: oversized ? `${text.slice(0, KEPT_OF_OVERSIZED)}…` : text, hash, oversized };
}

/**
 * Keyed hashes of the values of the variables the operation declares: comparable between events,
 * not reversible by guessing. Variables it does not declare take no part in the request and are
 * left out: their names are any text the client likes (control characters included), and a
 * request could otherwise swell its event with thousands of them.
 */
export function hashVariables(key: Uint8Array, variables: Record<string, unknown> | undefined, declared: readonly string[]): Record<string, string> {
  // No prototype: a variable may be named `$__proto__`, and assigning that name on a plain object
  // sets its prototype (or, for a string, does nothing) instead of adding the key.
  const out: Record<string, string> = Object.create(null);
  const given = variables ?? {};
  // In name order: the event's canonical order (canonical.ts). An operation declaring more is
  // refused (audit.plugin), and its event keeps the first MAX_DECLARED_VARIABLES.
  for (const name of [...declared].sort().slice(0, MAX_DECLARED_VARIABLES)) {
    if (!Object.hasOwn(given, name)) continue;
    out[name] = createHmac('sha256', key).update(JSON.stringify(given[name] ?? null)).digest('hex');
  }
  return out;
}

/** The names of the variables an operation declares; none for an operation not resolved. */
export const declaredVariables = (operation: OperationDefinitionNode | undefined | null): string[] =>
  operation?.variableDefinitions?.map((v) => v.variable.name.value) ?? [];

/**
 * The operation name for the trail (auditEvent cuts it to MAX_OPERATION_NAME). A name the document
 * does not define is the client's text only: kept if it is a GraphQL name, else left out (it
 * could be anything, control characters included, up to the size of the body).
 */
export function operationNameOf(operation: OperationDefinitionNode | undefined, requested: unknown): string | null {
  const name = operation ? operation.name?.value : requested;
  return typeof name === 'string' && /^[_A-Za-z][_0-9A-Za-z]*$/.test(name) ? name : null;
}
