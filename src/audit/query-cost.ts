import {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLCompositeType,
  GraphQLField,
  GraphQLObjectType,
  GraphQLSchema,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  OperationDefinitionNode,
  SchemaMetaFieldDef,
  SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  valueFromAST,
  ValueNode,
} from 'graphql';
import { DifficultyCategory, Gender, RegionLevel } from '../subgraphs/registry/registry.enums';
import { MAX_GUARDIANS } from '../subgraphs/registry/registry.constants';
import { MAX_RESCREEN } from '../subgraphs/workflow/workflow.employment';
import { MAX_PAYLOAD_FIELDS } from '../subgraphs/workflow/workflow.notify';
import { MAX_GRANTED_FIELDS } from '../subgraphs/workflow/workflow.policy';
import { ANOMALY_REQUEST_IDS } from '../subgraphs/audit/audit.anomalies';
import { MAX_DECLARED_VARIABLES } from './document-signature';
import { FIELD_READS_PER_EVENT } from '../subgraphs/audit/resolvers/types/audit-event.type';
import { AgeBand, StatisticsDimension, StatisticsRiskLevel, TrendSeries } from '../subgraphs/statistics/resolvers/types/statistics.types';

/**
 * Items assumed in a list that has no page size and no bound of its own (BOUNDED_LISTS): a
 * child's categories, a report's steps — what grows with a child's history has a `first` and is
 * priced by it (src/subgraphs/shared/history-page.ts). What keeps a list near it is the loaders'
 * refusal of one longer than UNPAGED_LIST_LIMIT (src/subgraphs/shared/list-limit.ts).
 */
export const UNPAGED_LIST_SIZE = 5;

/** Lists without a page size whose length the domain bounds, priced at that bound. */
const BOUNDED_LISTS: Record<string, number> = {
  'Minor.guardians': MAX_GUARDIANS,
  // Each category once (NEEDS_SUPPORT is only the mask of one): 17, where a child may hold them all.
  'Minor.categories': Object.values(DifficultyCategory).filter((c) => c !== DifficultyCategory.NEEDS_SUPPORT).length,
  // One answer per candidate: a re-screening's length is its input's, not a page's.
  'RescreenResult.answers': MAX_RESCREEN,
  'Notification.payload': MAX_PAYLOAD_FIELDS,
  'Referral.grantedFields': MAX_GRANTED_FIELDS,
  'AuditEvent.variableNames': MAX_DECLARED_VARIABLES,
  'AuditAnomaly.requestIds': ANOMALY_REQUEST_IDS,
};

/**
 * Regions of each level in one district, the widest jurisdiction (statistics.config.ts): a city
 * district has about 20 streets of about 10 communities of about 10 grids (the demo district:
 * 4 × 3 × 3).
 */
const REGIONS_IN_A_DISTRICT: Record<RegionLevel, number> = {
  [RegionLevel.DISTRICT]: 1,
  [RegionLevel.STREET]: 20,
  [RegionLevel.COMMUNITY]: 200,
  [RegionLevel.GRID]: 2000,
};
const regionsAt = (level: unknown) => REGIONS_IN_A_DISTRICT[level as RegionLevel] ?? REGIONS_IN_A_DISTRICT[RegionLevel.GRID];

/** From the top of a district down; a grid, the finest, has no children. */
const LEVELS = [RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY, RegionLevel.GRID];

/** Regions of each level a field gives one object above it. */
type Regions = Partial<Record<RegionLevel, number>>;

/**
 * The regions a field of type Region or [Region] holds, in a district shaped as above, from one
 * region of the given level. Each region is priced at its own level: `children` at the fan-out of
 * that level — 20 under a district, 10 under a street or a community, none under a grid — and
 * `parent` at the level above, none above a district (the widest jurisdiction: null above the
 * caller's). In such a district the estimate is what the answer holds. An average over a list
 * would not do: `parent { children }` goes up and down again, each region naming all its
 * siblings, and with `children` priced at 1 per region five such turns under `regions` passed for
 * some 27,000 values and would have answered 370 million.
 */
const REGION_FIELDS: Record<string, (level: RegionLevel) => Regions> = {
  'Query.regions': () => REGIONS_IN_A_DISTRICT,
  'Minor.grid': () => ({ [RegionLevel.GRID]: 1 }),
  'Region.parent': (level) => {
    const above = LEVELS[LEVELS.indexOf(level) - 1];
    return above ? { [above]: 1 } : {};
  },
  'Region.children': (level) => {
    const below = LEVELS[LEVELS.indexOf(level) + 1];
    return below ? { [below]: REGIONS_IN_A_DISTRICT[below] / REGIONS_IN_A_DISTRICT[level] } : {};
  },
};
const REGION_TYPE = 'Region';

/** Values a statistics table is broken down into per dimension: it has a cell for every combination. */
const DIMENSION_VALUES: Record<StatisticsDimension, number> = {
  [StatisticsDimension.RISK_LEVEL]: Object.keys(StatisticsRiskLevel).length,
  [StatisticsDimension.CATEGORY]: Object.keys(DifficultyCategory).length,
  [StatisticsDimension.AGE_BAND]: Object.keys(AgeBand).length,
  [StatisticsDimension.GENDER]: Object.keys(Gender).length,
};
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : v == null ? [] : [v]);
const whole = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.ceil(v)) : fallback);

/** Arguments that decide a list's size; the others (filters, cursors) can only make it smaller. */
type SizeArgs = { first?: unknown; level?: unknown; by?: unknown; months?: unknown };
const SIZE_ARGS = ['first', 'level', 'by', 'months'] as const;

/** Lengths of the lists under a field that its own arguments decide, by the list field's name. */
const LISTS_UNDER: Record<string, (args: SizeArgs) => Record<string, number>> = {
  'Query.minorCounts': ({ level, by }) => ({
    cells: regionsAt(level) * listOf(by).reduce<number>((n, d) => n * (DIMENSION_VALUES[d as StatisticsDimension] ?? 1), 1),
    dimensions: listOf(by).length,
  }),
  'Query.statisticsRates': ({ level }) => ({ regions: regionsAt(level) }),
  'Query.monthlyTrend': ({ months }) => ({ points: whole(months, 12) * Object.keys(TrendSeries).length }),
  // A page of the trail answers FIELD_READS_PER_EVENT fields of children per event asked in all,
  // though one event's reads may hold thousands: priced as that many children of one field each,
  // which is no less, since each child answered comes with a field at least.
  'AuditEventEdge.node': () => ({ reads: FIELD_READS_PER_EVENT }),
  'AuditEvent.reads': () => ({ fields: 1 }),
};

const NONE: Record<string, number> = {};

/**
 * What a root field costs at least, whatever it returns: each is a resolver of its own — a
 * statement, for statistics a transaction — so 2000 aliases of a one-cell count held the database
 * for seconds while their answer stayed small. At 1000, a request may hold a few hundred.
 */
export const ROOT_FIELD_COST = 1000;

/**
 * What an introspection field costs at least (`__schema`, `__type`; served outside production
 * only): its lists — every type, field and argument of the schema — are far longer than any
 * assumed size, and one full introspection answer is some 170 KB. At most ten per request.
 */
export const INTROSPECTION_COST = 50_000;

/**
 * Introspection's lists, by the schema they describe (its own types counted): the longest of each
 * (`max`), and under `__schema { types }` their mean over the types (`perType`), which is what an
 * answer listing every type holds. Priced at UNPAGED_LIST_SIZE, aliases of `types` (177 of them in
 * the hub's schema) or of the fields of `__type(name: "Query")` (58) answered several times the
 * cost limit under INTROSPECTION_COST.
 */
interface IntrospectionLists {
  max: Record<string, number>;
  perType: Record<string, number>;
}

const introspectionListsOf = new WeakMap<GraphQLSchema, IntrospectionLists>();

function introspectionLists(schema: GraphQLSchema): IntrospectionLists {
  let found = introspectionListsOf.get(schema);
  if (found) return found;
  const types = Object.values(schema.getTypeMap());
  const directives = schema.getDirectives();
  const lengths: Record<string, number[]> = {
    fields: types.map((t) => (isObjectType(t) || isInterfaceType(t) ? Object.keys(t.getFields()).length : 0)),
    inputFields: types.map((t) => (isInputObjectType(t) ? Object.keys(t.getFields()).length : 0)),
    enumValues: types.map((t) => (isEnumType(t) ? t.getValues().length : 0)),
    interfaces: types.map((t) => (isObjectType(t) || isInterfaceType(t) ? t.getInterfaces().length : 0)),
    possibleTypes: types.map((t) => (isAbstractType(t) ? schema.getPossibleTypes(t).length : 0)),
  };
  const fieldArgs = types.flatMap((t) => (isObjectType(t) || isInterfaceType(t) ? Object.values(t.getFields()).map((f) => f.args.length) : []));
  const longest = (ns: number[]) => Math.max(0, ...ns);
  found = {
    max: {
      '__Schema.types': types.length,
      '__Schema.directives': directives.length,
      '__Directive.args': longest(directives.map((d) => d.args.length)),
      '__Directive.locations': longest(directives.map((d) => d.locations.length)),
      '__Field.args': longest(fieldArgs),
      ...Object.fromEntries(Object.entries(lengths).map(([name, ns]) => [`__Type.${name}`, longest(ns)])),
    },
    perType: Object.fromEntries(Object.entries(lengths).map(([name, ns]) => [name, Math.ceil(ns.reduce((a, b) => a + b, 0) / Math.max(1, ns.length))])),
  };
  introspectionListsOf.set(schema, found);
  return found;
}

/**
 * What a field refused on each object that holds it costs there: null and an error with its path,
 * some 230 bytes of answer, and in the hub a few KB and about a tenth of a millisecond of CPU per
 * error (stack, path and locations, once in the subgraph and again at the gateway) where a value is
 * some 20 bytes and a couple of microseconds. Priced at 1, a school's page of 1000 children with
 * 490 aliases of `birthDate` passed for 492,000 values and was answered 490,000 FORBIDDEN errors,
 * 113 MB, past the heap of a hub started as `npm start` starts it. At 50, a request is answered
 * at most HUB_MAX_QUERY_COST / 50 such errors (10,000 by default: 2.3 MB, under a second).
 */
export const REFUSED_FIELD_COST = 50;

/** What the caller's policy makes of a field (`Type.field`), for the price of its refusals. */
export interface FieldRefusals {
  /** Refused (DENY): null and FORBIDDEN on every object that holds it. */
  refused(coordinate: string): boolean;
  /** A grant may open it for one child, then served as any other (src/policy/grants.ts). */
  grantable(coordinate: string): boolean;
}


function mentionsVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(mentionsVariable);
  if (value.kind === Kind.OBJECT) return value.fields.some((f) => mentionsVariable(f.value));
  return false;
}

function fieldDef(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

/**
 * One estimate of one operation. A named fragment's cost depends only on the list lengths its
 * enclosing field gives it, so each (fragment, lengths) is walked once: a fragment spread twice in
 * each of thirty fragments is not walked 2^30 times.
 */
class CostWalk {
  variablesUsed = false;
  private readonly fragmentCost = new Map<string, number>();
  private readonly introspection: IntrospectionLists;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly root: GraphQLObjectType,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly refusals: FieldRefusals | undefined,
  ) {
    this.introspection = introspectionLists(schema);
  }

  /**
   * What one object of the type costs. A region is walked at its level (`level`, for the type
   * Region only); a region of unknown level, reached by a field not in REGION_FIELDS, at the
   * dearest of them.
   */
  selections(set: SelectionSetNode, type: GraphQLCompositeType, lists: Record<string, number>, listsKey: string, level?: RegionLevel): number {
    if (type.name === REGION_TYPE && level === undefined) return Math.max(...LEVELS.map((l) => this.selections(set, type, lists, listsKey, l)));
    let sum = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) sum += this.field(sel, type, lists, level);
      else if (sel.kind === Kind.INLINE_FRAGMENT) sum += this.selections(sel.selectionSet, this.narrowed(sel.typeCondition?.name.value, type), lists, listsKey, level);
      else sum += this.fragment(sel.name.value, type, lists, listsKey, level);
    }
    return sum;
  }

  private fragment(name: string, type: GraphQLCompositeType, lists: Record<string, number>, listsKey: string, level: RegionLevel | undefined): number {
    const key = `${name}\n${listsKey}\n${level ?? ''}`;
    let cost = this.fragmentCost.get(key);
    if (cost === undefined) {
      const fragment = this.fragments.get(name);
      cost = fragment ? this.selections(fragment.selectionSet, this.narrowed(fragment.typeCondition.name.value, type), lists, listsKey, level) : 0;
      this.fragmentCost.set(key, cost);
    }
    return cost;
  }

  private narrowed(typeName: string | undefined, type: GraphQLCompositeType): GraphQLCompositeType {
    const named = typeName ? this.schema.getType(typeName) : undefined;
    return named && isCompositeType(named) ? named : type;
  }

  private field(node: FieldNode, parent: GraphQLCompositeType, lists: Record<string, number>, level: RegionLevel | undefined): number {
    const def = fieldDef(this.schema, parent, node.name.value);
    if (def === SchemaMetaFieldDef || def === TypeMetaFieldDef) return Math.max(INTROSPECTION_COST, this.cost(node, parent, def, lists, level));
    if (parent === this.root && def && def.name !== TypeNameMetaFieldDef.name) return Math.max(ROOT_FIELD_COST, this.cost(node, parent, def, lists, level));
    if (!def) return 1;
    if (def !== TypeNameMetaFieldDef && this.refusals?.refused(`${parent.name}.${def.name}`)) {
      // Refused, nothing under it is served; a grant may serve it whole for one child.
      return this.refusals.grantable(`${parent.name}.${def.name}`) ? Math.max(REFUSED_FIELD_COST, this.cost(node, parent, def, lists, level)) : REFUSED_FIELD_COST;
    }
    const cost = this.cost(node, parent, def, lists, level);
    return def.args.length && this.refusedPerParent(node, def) ? Math.max(REFUSED_FIELD_COST, cost) : cost;
  }

  /**
   * A history list refuses, for each parent, a `first` below its range (0 or less; one above it
   * is priced by itself, higher than a refusal) and an `after` that is no row of that
   * parent's list (src/subgraphs/shared/history-page.ts): a cursor names one child's row, and
   * under a page of children it is refused for every other.
   */
  private refusedPerParent(node: FieldNode, def: GraphQLField<unknown, unknown>): boolean {
    let refused = false;
    for (const given of node.arguments ?? []) {
      const name = given.name.value;
      const arg = def.args.find((a) => a.name === name);
      if (!arg || (name !== 'after' && name !== 'first')) continue;
      if (mentionsVariable(given.value)) this.variablesUsed = true;
      // A variable left out leaves the argument its default.
      if (given.value.kind === Kind.VARIABLE && !(given.value.name.value in this.variables)) continue;
      const value = valueFromAST(given.value, arg.type, this.variables);
      if (name === 'after' ? value != null : !(typeof value === 'number' && Number.isInteger(value) && value >= 1)) refused = true;
    }
    return refused;
  }

  private cost(node: FieldNode, parent: GraphQLCompositeType, def: GraphQLField<unknown, unknown>, lists: Record<string, number>, level: RegionLevel | undefined): number {
    const args = this.sizeArgs(def, node);
    const coordinate = `${parent.name}.${def.name}`;
    const type = getNamedType(def.type);
    // A field's level is its object's: the walk reaches Region's fields with one.
    const regions = REGION_FIELDS[coordinate]?.(level as RegionLevel);
    if (regions) {
      const held = Object.entries(regions) as [RegionLevel, number][];
      if (!node.selectionSet || !isCompositeType(type)) return 1 + held.reduce((n, [, count]) => n + count, 0);
      return 1 + held.reduce((n, [l, count]) => n + count * this.selections(node.selectionSet!, type, NONE, '{}', l), 0);
    }
    const page = def.args.some((a) => a.name === 'first') ? whole(args.first, UNPAGED_LIST_SIZE) : undefined;
    const listed = isListType(getNullableType(def.type));
    const introspection = this.introspection;
    const size = listed ? (page ?? lists[def.name] ?? BOUNDED_LISTS[coordinate] ?? introspection.max[coordinate] ?? UNPAGED_LIST_SIZE) : 1;
    if (!node.selectionSet || !isCompositeType(type)) return 1 + (listed ? size : 0);
    // A page that is not itself a list (a connection) gives its size to the lists it holds.
    const under =
      page !== undefined && !listed && isObjectType(type)
        ? pageLists(type, page)
        : (LISTS_UNDER[coordinate]?.(args) ?? (coordinate === '__Schema.types' ? introspection.perType : NONE));
    return 1 + size * this.selections(node.selectionSet, type, under, JSON.stringify(under));
  }

  private sizeArgs(def: GraphQLField<unknown, unknown>, node: FieldNode): SizeArgs {
    const out: Record<string, unknown> = {};
    for (const name of SIZE_ARGS) {
      const arg = def.args.find((a) => a.name === name);
      if (!arg) continue;
      const given = node.arguments?.find((a) => a.name.value === name);
      if (given && mentionsVariable(given.value)) this.variablesUsed = true;
      const value = given ? valueFromAST(given.value, arg.type, this.variables) : undefined;
      out[name] = value ?? arg.defaultValue;
    }
    return out;
  }
}

function pageLists(type: GraphQLObjectType, page: number): Record<string, number> {
  return Object.fromEntries(Object.values(type.getFields()).filter((f) => isListType(getNullableType(f.type))).map((f) => [f.name, page]));
}

export interface QueryCost {
  /** An estimate of the values the response may hold. */
  cost: number;
  /** False: the same document costs the same with any variables. */
  dependsOnVariables: boolean;
}

/**
 * The number of values (objects, scalars, list items) an operation's response may hold: every
 * field counts 1 (a root field at least ROOT_FIELD_COST; one refused on each object that holds it,
 * by the caller's policy (`refusals`) or by its page arguments, REFUSED_FIELD_COST) and a list multiplies what it holds by its length — the `first` it is given (its
 * default when absent), or for a list without paging an assumed or known length. Aliases and
 * fragments count wherever they are used. An estimate from the document and variables alone,
 * made before anything executes.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | undefined,
  refusals?: FieldRefusals,
): QueryCost {
  const root = schema.getRootType(operation.operation);
  if (!root) return { cost: 0, dependsOnVariables: false };
  // Coerced as execution will (the operation's defaults included). Variables it refuses are left
  // out, each argument they give costed at its default: execution refuses the operation before any
  // resolver runs, and the client is told which variable (BAD_USER_INPUT), not an estimate of a
  // page no Int holds (`first: 2147483648`, LIMIT_EXCEEDED for "about 2147483654 values").
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const walk = new CostWalk(schema, root, fragments, coerced.coerced ?? {}, refusals);
  const cost = walk.selections(operation.selectionSet, root, NONE, '{}');
  return { cost, dependsOnVariables: walk.variablesUsed };
}
