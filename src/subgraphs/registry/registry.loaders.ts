import DataLoader from 'dataloader';
import type { ObjectLiteral } from 'typeorm';
import { groupBy } from '../../common/group-by';
import { canonicalId, isUuid } from '../../common/uuid';
import { entityReader } from '../../db/entity-reader';
import { NEEDS_SUPPORT, SENSITIVE_CATEGORIES } from '../../policy/masks';
import { HubContext, sliceLoaders } from '../../server/hub.context';
import { historyList, pageStatement, rankedBy } from '../shared/history-page';
import { boundedLists } from '../shared/list-limit';
import { Guardian } from './entities/guardian.entity';
import { MinorCategory } from './entities/minor-category.entity';
import { Minor } from './entities/minor.entity';
import { Region } from './entities/region.entity';
import { RiskAssessment } from './entities/risk-assessment.entity';
import { Visit } from './entities/visit.entity';
import { RiskLevel } from './registry.enums';

/** LIKE pattern for the caller's jurisdiction subtree (codes are digits only, nothing to escape). */
export const jurisdictionPattern = (ctx: HubContext) => `${ctx.principal.region}%`;

/**
 * SQL: the person born on `birthDate` (a column) is a minor at `at` (a placeholder bound to the
 * request's `ctx.now`), under 18 on the day in China (`registry.is_minor`, migration 1795401500000).
 * Every reader of the registry's children applies it beside the jurisdiction, as the departments'
 * view `registry.minor_jurisdiction` does: someone who has turned 18 is no one's to read or write,
 * exactly like a child outside the caller's subtree. The request's clock decides, the one `age`,
 * the age filters and createMinor's adult check count by: with the database's `now()` the two
 * clocks disagreed across a midnight in China (and by HUB_CLOCK_OFFSET_MS in a rehearsal), and a
 * child was served aged 18, or one aged 17 was missing. The departments' view can only use `now()`
 * (README, "Ageing out").
 */
export const isMinorAt = (birthDate: string, at: string) => `registry.is_minor(${birthDate}, ${at})`;

/**
 * SQL: the children among the ids `$1` whose grid lies under `$2` (a LIKE pattern) and who are
 * minors at `$3` — the registry's rule at a clock the caller passes, for the workflow's look-ups of
 * the children its records name (shared/jurisdiction.ts, workflow.notify.ts).
 */
export const MINORS_UNDER_AT = `SELECT id AS minor_id FROM registry.minor WHERE id = ANY($1) AND grid_code LIKE $2 AND ${isMinorAt('birth_date', '$3')}`;

/** SQL: a risk level's rank, the gravest first (RiskLevel's order: RED, ORANGE, YELLOW, BLUE). */
export const gravestFirst = (column: string): string => `array_position(ARRAY[${Object.values(RiskLevel).map((l) => `'${l}'`).join(', ')}], ${column})`;

/**
 * SQL: a child's assessments newest first (`alias` the table's, or none). Two dated the same
 * instant — a day typed as its midnight, twice — are told apart by the graver level first: ordered
 * by their random ids alone, a RED recorded after a YELLOW of the same day left the child YELLOW
 * for one pair of ids in two, and no one was told it was RED. The child's level, its due date, its
 * `latestAssessment` and the assessor asked about a lapsed visit all take the first.
 */
export const assessmentsNewestFirst = (alias?: string): string => {
  const c = alias ? `${alias}.` : '';
  return `${c}assessed_at DESC, ${gravestFirst(`${c}level`)}, ${c}id`;
};

/** Region codes: district 6 digits, street 9, community 12, grid (网格, the finest) 15. */
export const GRID_CODE_LENGTH = 15;
export const DISTRICT_CODE_LENGTH = 6;
export const STREET_CODE_LENGTH = 9;

/**
 * A child's categories in the order of what a department that sees them masked is shown: the shown
 * name, then the date identified. Sorted by the real name, a NEEDS_SUPPORT between two visible
 * categories told which sensitive one it was (DISABILITY, NEEDS_SUPPORT, DROPOUT could only be
 * DOMESTIC_VIOLENCE), and two NEEDS_SUPPORT of different dates came in their real names' order
 * (CRIME_VICTIM before DOMESTIC_VIOLENCE before INCARCERATED_PARENT): the women's federation, which
 * knows the DV one's date from its own records, learnt the other. Entries still tied are alike to
 * every reader — the same shown name and date, and a category has nothing else — so the real name
 * that settles them tells nothing; a field added to MinorCategory must join the order before it.
 * One order for every reader: those who see the names exactly lose nothing by it.
 */
const CATEGORY_ORDER = `CASE WHEN x.category::text IN (${[...SENSITIVE_CATEGORIES].map((c) => `'${c}'`).join(', ')}) THEN '${NEEDS_SUPPORT}' ELSE x.category::text END, x.identified_at, x.category`;

/**
 * One loader per relation, one statement per batch whatever the page size. `minorById` applies
 * the jurisdiction and the age rule, so a child outside the caller's subtree, or one who has
 * turned 18, loads exactly like a missing one.
 * Relations are keyed by minors already loaded through it.
 */
function createRegistryLoaders(ctx: HubContext) {
  const db = ctx.db;
  // Every statement here selects by keys: prepared once per connection (EntityReader.read).
  const read = <T extends ObjectLiteral>(entity: new () => T, rest: string, params: unknown[], opts: { distinctOn?: string; from?: string } = {}) =>
    entityReader(db, entity, 'x').read(db, rest, params, { ...opts, byKeys: true });
  const byMinor = <T extends { minorId: string }>(entity: new () => T, orderBy: string) =>
    new DataLoader<string, T[]>(async (ids) => boundedLists(ids, groupBy(await read(entity, `WHERE x.minor_id = ANY($1) ORDER BY ${orderBy}`, [ids]), (r) => r.minorId), entity.name));
  /**
   * The pages asked of each child's rows, newest first, for a page of children in one statement:
   * ranked per child by a window function, so that a child with years of weekly visits answers
   * its latest `first`, and `after` the `first` before it (history-page.ts).
   */
  const newestByMinor = <T extends { minorId: string; id: string }>(entity: new () => T, order: string) => {
    const ranked = `SELECT *, ${rankedBy('minor_id', order)} FROM ${db.getMetadata(entity).tablePath} WHERE minor_id = ANY($1)`;
    return historyList(async (ids, batch) => {
      const { from, rest, params } = pageStatement(ranked, 'minor_id', 'x', 2, batch);
      return groupBy(await read(entity, rest, [ids, ...params], { from }), (r) => r.minorId);
    });
  };

  return {
    minorById: new DataLoader<string, Minor | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await read(Minor, `WHERE x.id = ANY($1) AND x.grid_code LIKE $2 AND ${isMinorAt('x.birth_date', '$3')}`, [valid, jurisdictionPattern(ctx), ctx.now]) : [];
      const byId = new Map(rows.map((m) => [m.id, m]));
      // Postgres finds a UUID in either case but prints it in lower case; an id in capitals, which
      // every write accepts, read as no child.
      return ids.map((id) => byId.get(canonicalId(id)) ?? null);
    }),
    guardiansByMinor: byMinor(Guardian, 'x.id'),
    categoriesByMinor: byMinor(MinorCategory, CATEGORY_ORDER),
    assessmentsByMinor: newestByMinor(RiskAssessment, assessmentsNewestFirst()),
    latestAssessmentByMinor: new DataLoader<string, RiskAssessment | null>(async (ids) => {
      const rows = await read(RiskAssessment, `WHERE x.minor_id = ANY($1) ORDER BY x.minor_id, ${assessmentsNewestFirst('x')}`, [ids], { distinctOn: 'x.minor_id' });
      const byMinorId = new Map(rows.map((a) => [a.minorId, a]));
      return ids.map((id) => byMinorId.get(id) ?? null);
    }),
    visitsByMinor: newestByMinor(Visit, 'visited_at DESC, id'),
    /** Regions inside the caller's jurisdiction only; the tree above it is not theirs to walk. */
    regionByCode: new DataLoader<string, Region | null>(async (codes) => {
      const rows = await read(Region, 'WHERE x.code = ANY($1) AND x.code LIKE $2', [codes, jurisdictionPattern(ctx)]);
      const byCode = new Map(rows.map((r) => [r.code, r]));
      return codes.map((c) => byCode.get(c) ?? null);
    }),
    regionChildren: new DataLoader<string, Region[]>(async (codes) => {
      const rows = await read(Region, 'WHERE x.parent_code = ANY($1) ORDER BY x.code', [codes]);
      const grouped = groupBy(rows, (r) => r.parentCode!);
      return codes.map((c) => grouped.get(c) ?? []);
    }),
  };
}

export type RegistryLoaders = ReturnType<typeof createRegistryLoaders>;
export const registryLoaders = (ctx: HubContext): RegistryLoaders => sliceLoaders(ctx, 'registry', createRegistryLoaders);
