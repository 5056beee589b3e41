import { createHash, createHmac } from 'node:crypto';
import { DocumentNode, Kind, OperationDefinitionNode, print, stripIgnoredCharacters, visit } from 'graphql';

/**
 * The document as audited: literal values replaced (a child's name or ID number typed inline
 * must not end up in the trail in clear, nor an enum such as `level: RED` or `harmType:
 * SEXUAL_ABUSE` next to the children the request named — the auditor may not read those fields)
 * and ignored characters removed, plus its SHA-256.
 */
export function auditDocument(doc: DocumentNode): { text: string; hash: string } {
  const stripped = visit(doc, {
    StringValue: () => ({ kind: Kind.STRING, value: '' }),
    IntValue: () => ({ kind: Kind.INT, value: '0' }),
    FloatValue: () => ({ kind: Kind.FLOAT, value: '0' }),
    EnumValue: () => ({ kind: Kind.ENUM, value: '_' }),
    BooleanValue: () => ({ kind: Kind.BOOLEAN, value: false }),
  });
  const text = stripIgnoredCharacters(print(stripped));
  return { text, hash: createHash('sha256').update(text).digest('hex') };
}

/**
 * Keyed hashes of the values of the variables the operation declares: comparable between events,
 * not reversible by guessing. Variables it does not declare take no part in the request and are
 * left out: their names are any text the client likes (control characters included), and a
 * request could otherwise swell its event with thousands of them.
 */
export function hashVariables(key: Uint8Array, variables: Record<string, unknown> | undefined, declared: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const given = variables ?? {};
  // In name order: the event's canonical order (canonical.ts).
  for (const name of [...declared].sort()) {
    if (!Object.hasOwn(given, name)) continue;
    out[name] = createHmac('sha256', key).update(JSON.stringify(given[name] ?? null)).digest('hex');
  }
  return out;
}

/** The names of the variables an operation declares; none for an operation not resolved. */
export const declaredVariables = (operation: OperationDefinitionNode | undefined | null): string[] =>
  operation?.variableDefinitions?.map((v) => v.variable.name.value) ?? [];
