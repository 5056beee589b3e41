import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { requireSomeValues } from '../../../common/validation';
import { FilterTests } from '../../shared/filter-tests';
import { Page, paginate, RecordPage } from '../../shared/record-page';
import { PreventionCase } from '../entities/prevention-case.entity';
import { PreventionCaseFilter } from './types/youth-league.input';

export const { Page: PreventionCasePage, PageResolver: PreventionCasePageResolver } = RecordPage('PreventionCasePage', PreventionCase);

@Resolver()
export class YouthLeagueQueryResolver {
  /** E.g. the open serious-misbehaviour cases of the jurisdiction, with `lastFollowUpOn` to spot overdue follow-ups. */
  @Query(() => PreventionCasePage, { nullable: true, description: 'Prevention cases in the caller’s jurisdiction, ordered by id' })
  preventionCases(
    @Ctx() ctx: HubContext,
    @Arg('filter', () => PreventionCaseFilter, { nullable: true }) filter?: PreventionCaseFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Page<PreventionCase>> {
    const qb = ctx.db.getRepository(PreventionCase).createQueryBuilder('r');
    const tests = new FilterTests(ctx);
    if (filter?.kinds != null) {
      tests.check('PreventionCase.kind', 'filter.kinds');
      qb.andWhere('r.kind = ANY(:kinds)', { kinds: requireSomeValues('filter.kinds', filter.kinds) });
    }
    if (filter?.statuses != null) {
      tests.check('PreventionCase.status', 'filter.statuses');
      qb.andWhere('r.status = ANY(:statuses)', { statuses: requireSomeValues('filter.statuses', filter.statuses) });
    }
    return paginate(ctx, qb, 'prevention-case', tests, first, after);
  }
}
