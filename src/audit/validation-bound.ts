import { DocumentNode, FragmentDefinitionNode, GraphQLError, Kind, parse, SelectionSetNode } from 'graphql';
import { HubErrorCode, HubException } from '../errors/hub.exception';

/** Deeper selections than any client needs are refused before planning (LIMIT_EXCEEDED). */
export const MAX_DEPTH = 12;
/**
 * The most lexical tokens (names, punctuation, values) a document may hold: graphql-js validates
 * some 5,000 in a few tens of milliseconds of the event loop, every other caller waiting. The
 * largest operation of the repository, the dashboard's, holds 230.
 */
export const MAX_TOKENS = 5_000;
/**
 * The most fragments a document may define: validation compares each pair of those spread at one
 * place (400 of them, 4,400 tokens, took 150 ms). The repository's operations define three at most.
 */
export const MAX_FRAGMENTS = 50;
/**
 * The most fields one response name may gather at one place of the response, from the fields,
 * inline fragments and fragments spread there: a client writes a field once, a few fragments may
 * repeat it. Validation compares each pair, with everything below it: 300 ` grid { parent { code } }`
 * in one child, 2,400 tokens, held the event loop for 270 ms, and the fast path once validated them
 * again for each subgraph.
 */
export const MAX_SAME_NAME = 10;
/**
 * The most fields a document selects, a fragment counted at each place it is spread (once per
 * place): fragments spread in fragments multiply what is walked, here and in validation.
 */
export const MAX_SELECTIONS = 5_000;

/** A selection set at a place of the response, and the fragments spread on the way there. */
interface Reached {
  set: SelectionSetNode;
  /** A fragment spread inside itself is a cycle, which validation refuses: not followed again. */
  via: ReadonlySet<string>;
}

/**
 * Walks the document as validation merges it — for each place of the response, the fields of every
 * selection set answering there, fragments spread into them — without validating anything: an
 * unknown fragment or a cycle is skipped, and a fragment spread twice at a place counts once, as
 * graphql-js compares it once.
 */
class Walk {
  private selected = 0;
  constructor(private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>) {}

  place(reached: readonly Reached[], depth: number): string | null {
    if (depth > MAX_DEPTH) return `Selections deeper than ${MAX_DEPTH} levels are not served`;
    const byName = new Map<string, { count: number; below: Reached[] }>();
    const spread = new Set<string>();
    const collect = ({ set, via }: Reached): string | null => {
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          if (++this.selected > MAX_SELECTIONS) return `Operations selecting more than ${MAX_SELECTIONS} fields (a fragment counted wherever it is spread) are not served`;
          const name = s.alias?.value ?? s.name.value;
          let same = byName.get(name);
          if (!same) byName.set(name, (same = { count: 0, below: [] }));
          if (++same.count > MAX_SAME_NAME) return `Selecting one response name more than ${MAX_SAME_NAME} times in one place is not served: use aliases`;
          if (s.selectionSet) same.below.push({ set: s.selectionSet, via });
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          const refused = collect({ set: s.selectionSet, via });
          if (refused) return refused;
        } else {
          const name = s.name.value;
          const fragment = this.fragments.get(name);
          if (!fragment || via.has(name) || spread.has(name)) continue;
          spread.add(name);
          const refused = collect({ set: fragment.selectionSet, via: new Set([...via, name]) });
          if (refused) return refused;
        }
      }
      return null;
    };
    for (const r of reached) {
      const refused = collect(r);
      if (refused) return refused;
    }
    for (const { below } of byName.values()) {
      const refused = below.length ? this.place(below, depth + 1) : null;
      if (refused) return refused;
    }
    return null;
  }
}

/**
 * Checks a client's document against the bounds above before graphql-js validates it, so that no
 * request under the hub's limits costs more than a few tens of milliseconds of validation: the
 * LIMIT_EXCEEDED refusal, with the document when it could be parsed (for the audit event), or no
 * refusal. A text that does not parse is left to Apollo Server to refuse, as it was.
 */
export function validationBound(query: string): { refusal?: HubException; document?: DocumentNode } {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS, noLocation: true });
  } catch (e) {
    // graphql-js says "more that N tokens" (sic) up to 16.x at least; either spelling.
    if (e instanceof GraphQLError && /^Syntax Error: Document contains more tha[nt] \d+ tokens/.test(e.message)) {
      return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, `Documents of more than ${MAX_TOKENS} tokens are not served`) };
    }
    return {};
  }
  const defined = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  if (defined.length > MAX_FRAGMENTS) return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, `Documents defining more than ${MAX_FRAGMENTS} fragments are not served`), document };
  const fragments = new Map(defined.map((f) => [f.name.value, f]));
  const walk = new Walk(fragments);
  // Validation compares the selections of every definition, a fragment spread nowhere included.
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const refused = walk.place([{ set: d.selectionSet, via: new Set(d.kind === Kind.FRAGMENT_DEFINITION ? [d.name.value] : []) }], 1);
    if (refused) return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, refused), document };
  }
  return {};
}
