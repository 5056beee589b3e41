import { DocumentNode, FieldNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, SelectionSetNode } from 'graphql';

/**
 * Each field a selection set holds, through inline fragments and fragment spreads (each fragment
 * walked once: validation has refused one spread within itself, a fragment spread twice adds the
 * same keys again, and a missing one adds nothing).
 */
function eachField(sets: readonly SelectionSetNode[], fragment: (name: string) => FragmentDefinitionNode | undefined, visit: (field: FieldNode) => void): void {
  const spread = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) visit(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet);
      else if (!spread.has(s.name.value)) {
        spread.add(s.name.value);
        const found = fragment(s.name.value);
        if (found) collect(found.selectionSet);
      }
    }
  };
  for (const set of sets) collect(set);
}

/**
 * The fields an operation selects at its root. Aliases kept: `(field.alias ?? field.name).value`
 * is the field's key in the answer.
 */
export function rootFieldNodes(document: DocumentNode, operation: OperationDefinitionNode): FieldNode[] {
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const fields: FieldNode[] = [];
  eachField([operation.selectionSet], (name) => fragments.get(name), (field) => fields.push(field));
  return fields;
}

/**
 * What a field's answer holds of each object it returns: its sub-fields by their key in the answer,
 * each with the nodes graphql-js merges into it (a resolver's `info.fieldNodes` and `info.fragments`).
 * Directives (`@skip`, `@include`) are not read: a field they leave out is counted as selected.
 */
export function answerKeys(fieldNodes: readonly FieldNode[], fragments: Readonly<Record<string, FragmentDefinitionNode>>): Map<string, FieldNode[]> {
  const keys = new Map<string, FieldNode[]>();
  const sets = fieldNodes.flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
  eachField(sets, (name) => fragments[name], (field) => {
    const key = (field.alias ?? field.name).value;
    keys.set(key, [...(keys.get(key) ?? []), field]);
  });
  return keys;
}
