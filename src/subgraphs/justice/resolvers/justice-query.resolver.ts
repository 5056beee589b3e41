import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { addDays, chinaDay } from '../../../common/dates';
import { requireInt, requireSomeValues } from '../../../common/validation';
import type { HubContext } from '../../../server/hub.context';
import { FilterTests } from '../../shared/filter-tests';
import { Page, paginate, RecordPage } from '../../shared/record-page';
import { IncarceratedParent } from '../entities/incarcerated-parent.entity';
import { IncarceratedParentFilter } from './types/justice.input';

export const { Page: IncarceratedParentPage, PageResolver: IncarceratedParentPageResolver } = RecordPage('IncarceratedParentPage', IncarceratedParent);

@Resolver()
export class JusticeQueryResolver {
  /** E.g. parents released within 60 days, so that the child's family situation is reassessed before. */
  @Query(() => IncarceratedParentPage, { nullable: true, description: 'Incarcerated parents of children in the caller’s jurisdiction, ordered by id' })
  incarceratedParents(
    @Ctx() ctx: HubContext,
    @Arg('filter', () => IncarceratedParentFilter, { nullable: true }) filter?: IncarceratedParentFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Page<IncarceratedParent>> {
    const qb = ctx.db.getRepository(IncarceratedParent).createQueryBuilder('r');
    const tests = new FilterTests(ctx);
    if (filter?.releaseWithinDays !== undefined && filter.releaseWithinDays !== null) {
      tests.check('IncarceratedParent.expectedRelease', 'filter.releaseWithinDays');
      const days = requireInt('filter.releaseWithinDays', filter.releaseWithinDays, 1, 366);
      qb.andWhere('r.expected_release BETWEEN :today AND :until', { today: chinaDay(ctx.now), until: chinaDay(addDays(ctx.now, days)) });
    }
    if (filter?.statuses != null) {
      tests.check('IncarceratedParent.status', 'filter.statuses');
      qb.andWhere('r.status = ANY(:statuses)', { statuses: requireSomeValues('filter.statuses', filter.statuses) });
    }
    return paginate(ctx, qb, 'incarcerated-parent', tests, first, after);
  }
}
