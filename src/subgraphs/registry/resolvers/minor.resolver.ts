import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { ageOn, yearsBefore } from '../../../common/dates';
import { entityReader } from '../../../db/entity-reader';
import { badInput } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { Guardian } from '../entities/guardian.entity';
import { MinorCategory } from '../entities/minor-category.entity';
import { Minor } from '../entities/minor.entity';
import { Region } from '../entities/region.entity';
import { RiskAssessment } from '../entities/risk-assessment.entity';
import { Visit } from '../entities/visit.entity';
import { isUuid } from '../../../common/uuid';
import { isRegionCode, requirePageSize, requireSomeValues } from '../../../common/validation';
import { requireIdNumber } from '../../../common/id-number';
import { GRID_CODE_LENGTH, isMinorAt, jurisdictionPattern, registryLoaders, STREET_CODE_LENGTH } from '../registry.loaders';
import { FilterTests } from '../../shared/filter-tests';
import { HistoryAfter, HistoryFirst, MAX_HISTORY_PAGE } from '../../shared/history-page';
import { MinorConnection, MinorCount } from './types/minor-connection.type';
import { MinorFilter } from './types/minor-filter.input';
import { millisecondBound } from '../../../schema/date-time.scalar';

export const MAX_PAGE_SIZE = 1000;

const NEWEST_PAGE = `The newest \`first\` (1–${MAX_HISTORY_PAGE}), newest first, or with \`after\` the next \`first\` after that row`;

const encodeCursor = (id: string) => Buffer.from(`minor:${id}`).toString('base64url');
function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString();
  const id = raw.startsWith('minor:') ? raw.slice(6) : '';
  if (!isUuid(id)) throw badInput('after', 'not a cursor returned by this API');
  return id;
}

@Resolver(() => Minor)
export class MinorResolver {
  @Query(() => Minor, { nullable: true, description: 'A minor in the caller’s jurisdiction; null when there is none with this id' })
  minor(@Arg('id', () => ID) id: string, @Ctx() ctx: HubContext): Promise<Minor | null> {
    return registryLoaders(ctx).minorById.load(id);
  }

  @Query(() => Minor, { nullable: true, description: 'Look-up by 公民身份号码; needs read access to the full ID number' })
  async minorByIdNumber(@Arg('idNumber') idNumber: string, @Ctx() ctx: HubContext): Promise<Minor | null> {
    ctx.policy.assertFilterable(ctx.subject, 'Minor.idNumber', 'idNumber');
    const wanted = requireIdNumber('idNumber', idNumber);
    const [found] = await entityReader(ctx.db, Minor, 'x').read(ctx.db, `WHERE x.id_number = $1 AND x.grid_code LIKE $2 AND ${isMinorAt('x.birth_date', '$3')}`, [wanted, jurisdictionPattern(ctx), ctx.now], {
      byKeys: true,
    });
    // A look-up by number is a filter on it (README, "Filter side channel"): the child it returns is
    // known to hold that number, whatever is selected, and the trail says so — recorded as a look-up
    // by id (a name, `__typename`), a data officer could not tell who linked the number to the child.
    if (found) ctx.access.read(found.id, 'Minor.idNumber', ctx.policy.access(ctx.subject, 'Minor.idNumber'));
    return found ?? null;
  }

  @Query(() => MinorConnection, { nullable: true, description: 'Minors in the caller’s jurisdiction, ordered by id' })
  async minors(
    @Ctx() ctx: HubContext,
    @Arg('filter', () => MinorFilter, { nullable: true }) filter?: MinorFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<MinorConnection> {
    requirePageSize(first, MAX_PAGE_SIZE);
    const tests = new FilterTests(ctx);
    const params: unknown[] = [];
    // The conditions that pick the caller's children by grid (`scope`), and the filter's other tests (`rest`).
    const scope: string[] = [];
    const rest: string[] = [];
    const bind = (condition: (p: string) => string, value: unknown, into = rest) => {
      params.push(value);
      into.push(condition(`$${params.length}`));
    };
    bind((p) => `x.grid_code LIKE ${p}`, jurisdictionPattern(ctx), scope);
    bind((p) => isMinorAt('x.birth_date', p), ctx.now, scope);
    let area = ctx.principal.region;
    if (filter?.regionCode !== undefined && filter.regionCode !== null) {
      tests.check('Minor.grid', 'filter.regionCode');
      if (!isRegionCode(filter.regionCode)) throw badInput('filter.regionCode', 'a region code is 6, 9, 12 or 15 digits');
      // A grid (15 digits, the finest level) is matched by equality: its children then come in id
      // order from the (grid_code, id) index. A prefix's row estimate can be a histogram bucket
      // (10,000 rows for a grid of 200 at 1M minors), and Postgres then walked the primary key for
      // seconds looking for the grid's first 100.
      if (filter.regionCode.length === GRID_CODE_LENGTH) bind((p) => `x.grid_code = ${p}`, filter.regionCode, scope);
      else bind((p) => `x.grid_code LIKE ${p}`, `${filter.regionCode}%`, scope);
      if (filter.regionCode.length > area.length) area = filter.regionCode;
    }
    if (filter?.riskLevels != null) {
      tests.check('Minor.riskLevel', 'filter.riskLevels');
      bind((p) => `x.risk_level = ANY(${p})`, requireSomeValues('filter.riskLevels', filter.riskLevels));
    }
    if (filter?.categories != null) {
      tests.check('MinorCategory.category', 'filter.categories', filter.categories);
      const categories = requireSomeValues('filter.categories', filter.categories);
      if (categories.includes('NEEDS_SUPPORT' as never)) {
        throw badInput('filter.categories', 'NEEDS_SUPPORT is how a sensitive category is shown, not a category');
      }
      // In a street or finer, tested child by child (OFFSET 0 keeps the test a probe of each
      // child's categories): as a semi-join Postgres read every child of the category in the city.
      const probe = area.length >= STREET_CODE_LENGTH ? ' OFFSET 0' : '';
      bind((p) => `EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = x.id AND c.category = ANY(${p})${probe})`, categories);
    }
    for (const [arg, value] of [['ageMin', filter?.ageMin], ['ageMax', filter?.ageMax]] as const) {
      if (value === undefined || value === null) continue;
      tests.check('Minor.age', `filter.${arg}`);
      if (!Number.isInteger(value) || value < 0 || value > 17) throw badInput(`filter.${arg}`, 'must be between 0 and 17');
    }
    if (filter?.ageMin != null) bind((p) => `x.birth_date <= ${p}`, yearsBefore(ctx.now, filter.ageMin));
    if (filter?.ageMax != null) bind((p) => `x.birth_date > ${p}`, yearsBefore(ctx.now, filter.ageMax + 1));
    if (filter?.nextVisitDueBefore) {
      tests.check('Minor.nextVisitDue', 'filter.nextVisitDueBefore');
      bind((p) => `x.next_visit_due < ${p}`, millisecondBound(filter.nextVisitDueBefore));
    }

    const counting: MinorCount = { where: [...scope, ...rest].join(' AND '), params: [...params], tested: tests.tested };
    if (after != null) bind((p) => `x.id > ${p}`, decodeCursor(after), scope);
    params.push(first + 1);
    const limit = `ORDER BY x.id LIMIT $${params.length}`;
    // Postgres takes a filter's children (RED, aged 15 and over, …) to be spread evenly over the
    // city: with many of them elsewhere it walked the primary key in id order through all of them
    // for a street's few (RED children concentrated in another district: 20 → 596 ms at 1M). In a
    // street or finer, the fence (OFFSET 0) reads the area's children by grid first and tests and
    // orders only them (10 ms). A district's page keeps the walk: reading its 100,000 children
    // costs more than walking past other districts' (bench/optimisations.md, entry 50). A grid's
    // children come in id order from the (grid_code, id) index, fence or none.
    const fenced = rest.length > 0 && area.length >= STREET_CODE_LENGTH && filter?.regionCode?.length !== GRID_CODE_LENGTH;
    const rows = fenced
      ? await entityReader(ctx.db, Minor, 'x').read(ctx.db, `WHERE ${rest.join(' AND ')} ${limit}`, params, {
          from: `SELECT * FROM registry.minor x WHERE ${scope.join(' AND ')} OFFSET 0`,
        })
      : await entityReader(ctx.db, Minor, 'x').read(ctx.db, `WHERE ${[...scope, ...rest].join(' AND ')} ${limit}`, params);
    const page = rows.slice(0, first);
    const loaders = registryLoaders(ctx);
    for (const m of page) loaders.minorById.prime(m.id, m);
    const last = page.at(-1);
    return {
      edges: page.map((node) => ({ cursor: encodeCursor(node.id), node, minorId: node.id })),
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: last ? encodeCursor(last.id) : null,
        minorId: last?.id ?? null,
        decidedBy: rows.map((m) => m.id),
        tested: tests.tested,
      },
      counting,
    };
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Age in whole years today' })
  age(@Root() minor: Minor, @Ctx() ctx: HubContext): number {
    return ageOn(minor.birthDate, ctx.now);
  }

  @FieldResolver(() => Region, { nullable: true, description: 'The grid (网格) the child lives in' })
  grid(@Root() minor: Minor, @Ctx() ctx: HubContext): Promise<Region | null> {
    return registryLoaders(ctx).regionByCode.load(minor.gridCode);
  }

  @FieldResolver(() => [MinorCategory], { nullable: true, description: '困境类型' })
  categories(@Root() minor: Minor, @Ctx() ctx: HubContext): Promise<MinorCategory[]> {
    return registryLoaders(ctx).categoriesByMinor.load(minor.id);
  }

  @FieldResolver(() => [Guardian], { nullable: true })
  guardians(@Root() minor: Minor, @Ctx() ctx: HubContext): Promise<Guardian[]> {
    return registryLoaders(ctx).guardiansByMinor.load(minor.id);
  }

  @FieldResolver(() => RiskAssessment, { nullable: true })
  latestAssessment(@Root() minor: Minor, @Ctx() ctx: HubContext): Promise<RiskAssessment | null> {
    return registryLoaders(ctx).latestAssessmentByMinor.load(minor.id);
  }

  @FieldResolver(() => [RiskAssessment], { nullable: true, description: NEWEST_PAGE })
  assessments(@Root() minor: Minor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<RiskAssessment[]> {
    return registryLoaders(ctx).assessmentsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [Visit], { nullable: true, description: NEWEST_PAGE })
  visits(@Root() minor: Minor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<Visit[]> {
    return registryLoaders(ctx).visitsByMinor(first, after).load(minor.id);
  }
}
