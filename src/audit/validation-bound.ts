import { ConstDirectiveNode, DocumentNode, FragmentDefinitionNode, GraphQLError, Kind, OperationTypeNode, parse, SelectionSetNode, TypeNode } from 'graphql';
import { HubErrorCode, HubException } from '../errors/hub.exception';

/** Deeper selections than any client needs are refused before planning (LIMIT_EXCEEDED). */
export const MAX_DEPTH = 12;
/**
 * The deepest fragments (inline or spread) may nest within one level of fields. The planner
 * recurses through each: 1,600 inline fragments in one level, 4,800 tokens, ran it out of stack
 * (an internal error where the refusal belonged). A client nests a few; a chain of the 50 fragments
 * a document may define stays within it.
 */
export const MAX_FRAGMENT_NESTING = 64;
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

/**
 * The most subgraph hops a document's operations may make, a fragment counted at each place it is
 * spread: fields the gateway's query planner must fetch from another subgraph than the field they
 * are selected in (a root field enters its subgraph), and fields returning an entity that other
 * subgraphs resolve by key, where the planner weighs going to each of them. Planning is not
 * validation: 40 roots each going five times between a child and its referrals (7 KB), or 780
 * aliases of six departments' records in one child (21 KB), within every bound above, held the
 * event loop 150–700 ms in the planner, aliases defeating its cache. The widest operation of the
 * repository, one child with every department's records (bench scenario 3), makes 21; the costliest
 * documents measured at 64 planned in 2–8 ms at best and 4–31 ms as a median on a shared two-core
 * machine, where those two took 25 ms and 31–34 ms.
 */
export const MAX_SUBGRAPH_HOPS = 64;

/**
 * How deep a variable's value may nest, objects and lists within each other. No input type of the
 * schema nests more than a few levels, and a value some thousands deep (18 KB) overflowed the stack
 * where the audit hashes each value (JSON.stringify): answered 500, its event without its operation.
 */
export const MAX_VARIABLE_DEPTH = 32;

/**
 * Whether a variable's value holds more than `bound` objects and lists within each other (a list of
 * input objects is two): walked with a stack of its own, however deep it goes.
 */
export function variableDeeperThan(variables: unknown, bound: number): boolean {
  // The variables' own object is level 0, each value's outermost object or list level 1.
  const pending: [unknown, number][] = [[variables, 0]];
  while (pending.length) {
    const [v, depth] = pending.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > bound) return true;
    for (const inner of Object.values(v)) pending.push([inner, depth + 1]);
  }
  return false;
}

/** What the planner chooses from at a field: the subgraphs resolving it, and what it returns. */
interface FieldGraphs {
  graphs: readonly string[];
  type: string;
}

interface TypeGraphs {
  fields: ReadonlyMap<string, FieldGraphs>;
  /** Subgraphs that resolve an object of this type by its key (an entity's). */
  keyed: readonly string[];
}

const argument = (d: ConstDirectiveNode, name: string) => d.arguments?.find((a) => a.name.value === name)?.value;
const graphOf = (d: ConstDirectiveNode): string[] => {
  const graph = argument(d, 'graph');
  return graph?.kind === Kind.ENUM ? [graph.value] : [];
};
const isTrue = (d: ConstDirectiveNode, name: string): boolean => {
  const value = argument(d, name);
  return value?.kind === Kind.BOOLEAN && value.value;
};
const isFalse = (d: ConstDirectiveNode, name: string): boolean => {
  const value = argument(d, name);
  return value?.kind === Kind.BOOLEAN && !value.value;
};
const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

/**
 * Which subgraphs resolve each field of the supergraph, from its join directives (`@join__type`
 * on a type, `@join__field` on a field that not every subgraph of its type resolves): what the
 * hop count reads, the composition the gateway plans over.
 */
export class SubgraphFields {
  private constructor(
    private readonly types: ReadonlyMap<string, TypeGraphs>,
    private readonly roots: ReadonlyMap<OperationTypeNode, string>,
  ) {}

  static fromSupergraph(sdl: string): SubgraphFields {
    const document = parse(sdl, { noLocation: true });
    const types = new Map<string, TypeGraphs>();
    const roots = new Map<OperationTypeNode, string>();
    for (const d of document.definitions) {
      if (d.kind === Kind.SCHEMA_DEFINITION) for (const o of d.operationTypes) roots.set(o.operation, o.type.name.value);
      if (d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
      const joined = (d.directives ?? []).filter((j) => j.name.value === 'join__type');
      const all = joined.flatMap(graphOf);
      const keyed = joined.filter((j) => argument(j, 'key') && !isFalse(j, 'resolvable')).flatMap(graphOf);
      const fields = new Map<string, FieldGraphs>();
      for (const f of d.fields ?? []) {
        const joins = (f.directives ?? []).filter((j) => j.name.value === 'join__field');
        const graphs = joins.length ? joins.filter((j) => !isTrue(j, 'external')).flatMap(graphOf) : all;
        fields.set(f.name.value, { graphs, type: namedType(f.type) });
      }
      types.set(d.name.value, { fields, keyed });
    }
    return new SubgraphFields(types, roots);
  }

  root(operation: OperationTypeNode): TypeGraphs | undefined {
    const name = this.roots.get(operation);
    return name === undefined ? undefined : this.types.get(name);
  }

  type(name: string): TypeGraphs | undefined {
    return this.types.get(name);
  }
}

/** A selection set at a place of the response, and the fragments spread on the way there. */
interface Reached {
  set: SelectionSetNode;
  /** A fragment spread inside itself is a cycle, which validation refuses: not followed again. */
  via: ReadonlySet<string>;
  /**
   * The type selected on, when the hops are counted here (in an operation, its fields known so
   * far); an unknown field or type, which validation refuses later, counts nothing below it.
   */
  on?: TypeGraphs;
  /** The subgraphs that could resolve the field this set is selected in: none at the root. */
  graphs: readonly string[];
}

/**
 * Walks the document as validation merges it — for each place of the response, the fields of every
 * selection set answering there, fragments spread into them — without validating anything: an
 * unknown fragment or a cycle is skipped. A fragment spread twice at a place counts twice: graphql-js
 * compares it once, but the query planner expands every spread, and fragments each spreading the one
 * below twice, 1 KB of text counted as a few hundred fields, were 12 million selections to it (a
 * 500, or the event loop held for 98 s at 15 layers). Counted so, such a document reaches
 * MAX_SELECTIONS within that many fields walked.
 */
class Walk {
  private selected = 0;
  private hops = 0;
  constructor(
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly subgraphs: SubgraphFields,
  ) {}

  /**
   * Where a field selected on `on`, inside a field resolved in `graphs`, is resolved — in those of
   * them that resolve it too, else in its own — counting a hop when it leaves them or returns an
   * entity another subgraph resolves (null: one hop too many).
   */
  private hop(on: TypeGraphs | undefined, name: string, graphs: readonly string[]): { field?: FieldGraphs; graphs: readonly string[] } | null {
    const field = on?.fields.get(name);
    if (!field) return { graphs: [] };
    const staying = field.graphs.filter((g) => graphs.includes(g));
    const there = staying.length ? staying : field.graphs;
    const entity = this.subgraphs.type(field.type)?.keyed.some((g) => !there.includes(g));
    if ((!staying.length || entity) && ++this.hops > MAX_SUBGRAPH_HOPS) return null;
    return { field, graphs: there };
  }

  place(reached: readonly Reached[], depth: number): string | null {
    if (depth > MAX_DEPTH) return `Selections deeper than ${MAX_DEPTH} levels are not served`;
    const byName = new Map<string, { count: number; below: Reached[] }>();
    const collect = ({ set, via, on, graphs }: Reached, nesting = 0): string | null => {
      if (nesting > MAX_FRAGMENT_NESTING) return `Fragments nested more than ${MAX_FRAGMENT_NESTING} deep within one level of fields are not served`;
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          if (++this.selected > MAX_SELECTIONS) return `Operations selecting more than ${MAX_SELECTIONS} fields (a fragment counted wherever it is spread and where it is defined) are not served`;
          const name = s.alias?.value ?? s.name.value;
          let same = byName.get(name);
          if (!same) byName.set(name, (same = { count: 0, below: [] }));
          if (++same.count > MAX_SAME_NAME) return `Selecting one response name more than ${MAX_SAME_NAME} times in one place is not served: use aliases`;
          const hop = this.hop(on, s.name.value, graphs);
          if (!hop) return `Operations going between subgraphs more than ${MAX_SUBGRAPH_HOPS} times (a fragment counted wherever it is spread) are not served`;
          if (s.selectionSet) same.below.push({ set: s.selectionSet, via, on: hop.field && this.subgraphs.type(hop.field.type), graphs: hop.graphs });
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          const refused = collect({ set: s.selectionSet, via, on: s.typeCondition && on ? this.subgraphs.type(s.typeCondition.name.value) : on, graphs }, nesting + 1);
          if (refused) return refused;
        } else {
          const name = s.name.value;
          const fragment = this.fragments.get(name);
          if (!fragment || via.has(name)) continue;
          const refused = collect({ set: fragment.selectionSet, via: new Set([...via, name]), on: on && this.subgraphs.type(fragment.typeCondition.name.value), graphs }, nesting + 1);
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
 * request under the hub's limits costs more than a few tens of milliseconds of validation or of
 * planning: the
 * LIMIT_EXCEEDED refusal, with the document when it could be parsed (for the audit event), or no
 * refusal. A text that does not parse is left to Apollo Server to refuse, as it was.
 */
export function validationBound(query: string, subgraphs: SubgraphFields): { refusal?: HubException; document?: DocumentNode } {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS, noLocation: true });
  } catch (e) {
    // graphql-js says "more that N tokens" (sic) up to 16.x at least; either spelling.
    if (e instanceof GraphQLError && /^Syntax Error: Document contains more tha[nt] \d+ tokens/.test(e.message)) {
      return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, `Documents of more than ${MAX_TOKENS} tokens are not served`) };
    }
    // The parser's recursion ran out of stack (a list value nested thousands deep within the tokens
    // allowed): left to Apollo Server, its parse failed again and the engine's message reached the client.
    if (e instanceof RangeError) return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, 'Documents nested this deep are not served') };
    return {};
  }
  const defined = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  if (defined.length > MAX_FRAGMENTS) return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, `Documents defining more than ${MAX_FRAGMENTS} fragments are not served`), document };
  const fragments = new Map(defined.map((f) => [f.name.value, f]));
  const walk = new Walk(fragments, subgraphs);
  // Validation compares the selections of every definition, a fragment spread nowhere included;
  // the planner plans an operation, fragments where it spreads them.
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const reached: Reached =
      d.kind === Kind.OPERATION_DEFINITION ? { set: d.selectionSet, via: new Set(), on: subgraphs.root(d.operation), graphs: [] } : { set: d.selectionSet, via: new Set([d.name.value]), graphs: [] };
    const refused = walk.place([reached], 1);
    if (refused) return { refusal: new HubException(HubErrorCode.LIMIT_EXCEEDED, refused), document };
  }
  return { document };
}
