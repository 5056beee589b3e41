import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { addDays, chinaDay } from '../../../common/dates';
import { requireInt, requireSomeValues } from '../../../common/validation';
import type { HubContext } from '../../../server/hub.context';
import { FilterTests } from '../../shared/filter-tests';
import { Page, paginate, RecordPage } from '../../shared/record-page';
import { CarePlan } from '../entities/care-plan.entity';
import { CarePlanFilter } from './types/womens-federation.input';

export const { Page: CarePlanPage, PageResolver: CarePlanPageResolver } = RecordPage('CarePlanPage', CarePlan);

@Resolver()
export class WomensFederationQueryResolver {
  /** E.g. "left-behind children without a visit in 30 days": `{kinds: [LEFT_BEHIND], statuses: [ACTIVE], notVisitedWithinDays: 30}`. */
  @Query(() => CarePlanPage, { nullable: true, description: 'Care plans in the caller’s jurisdiction, ordered by id' })
  carePlans(
    @Ctx() ctx: HubContext,
    @Arg('filter', () => CarePlanFilter, { nullable: true }) filter?: CarePlanFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Page<CarePlan>> {
    const qb = ctx.db.getRepository(CarePlan).createQueryBuilder('r');
    const tests = new FilterTests(ctx);
    if (filter?.kinds != null) {
      tests.check('CarePlan.kind', 'filter.kinds');
      qb.andWhere('r.kind = ANY(:kinds)', { kinds: requireSomeValues('filter.kinds', filter.kinds) });
    }
    if (filter?.statuses != null) {
      tests.check('CarePlan.status', 'filter.statuses');
      qb.andWhere('r.status = ANY(:statuses)', { statuses: requireSomeValues('filter.statuses', filter.statuses) });
    }
    if (filter?.notVisitedWithinDays !== undefined && filter.notVisitedWithinDays !== null) {
      tests.check('CarePlan.lastVisitOn', 'filter.notVisitedWithinDays');
      const days = requireInt('filter.notVisitedWithinDays', filter.notVisitedWithinDays, 1, 366);
      qb.andWhere('(r.last_visit_on IS NULL OR r.last_visit_on <= :cutoff)', { cutoff: chinaDay(addDays(ctx.now, -days)) });
    }
    return paginate(ctx, qb, 'care-plan', tests, first, after);
  }
}
