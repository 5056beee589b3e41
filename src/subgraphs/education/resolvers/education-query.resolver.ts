import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { requireLine, requireSomeValues } from '../../../common/validation';
import type { HubContext } from '../../../server/hub.context';
import { FilterTests } from '../../shared/filter-tests';
import { Page, paginate, RecordPage } from '../../shared/record-page';
import { DropoutReport } from '../entities/dropout-report.entity';
import { DropoutReportFilter } from './types/education.input';

export const { Page: DropoutReportPage, PageResolver: DropoutReportPageResolver } = RecordPage('DropoutReportPage', DropoutReport);

@Resolver()
export class EducationQueryResolver {
  /**
   * 控辍保学 list of the caller's jurisdiction, e.g. the open reports of one school. Children at
   * risk ≥ ORANGE come from the registry's `minors(filter: {riskLevels})` in the same request
   * (docs/departments.md shows the combined query).
   */
  @Query(() => DropoutReportPage, { nullable: true, description: 'Dropout reports in the caller’s jurisdiction, ordered by id' })
  dropoutReports(
    @Ctx() ctx: HubContext,
    @Arg('filter', () => DropoutReportFilter, { nullable: true }) filter?: DropoutReportFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Page<DropoutReport>> {
    const qb = ctx.db.getRepository(DropoutReport).createQueryBuilder('r');
    const tests = new FilterTests(ctx);
    if (filter?.school !== undefined && filter.school !== null) {
      tests.check('DropoutReport.school', 'filter.school');
      qb.andWhere('r.school = :school', { school: requireLine('filter.school', filter.school, 100) });
    }
    if (filter?.statuses != null) {
      tests.check('DropoutReport.status', 'filter.statuses');
      qb.andWhere('r.status = ANY(:statuses)', { statuses: requireSomeValues('filter.statuses', filter.statuses) });
    }
    return paginate(ctx, qb, 'dropout-report', tests, first, after);
  }
}
