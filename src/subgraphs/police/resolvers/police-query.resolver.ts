import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { addDays, chinaDay } from '../../../common/dates';
import { requireInt, requireSomeValues } from '../../../common/validation';
import type { HubContext } from '../../../server/hub.context';
import { FilterTests } from '../../shared/filter-tests';
import { Page, paginate, RecordPage } from '../../shared/record-page';
import { PoliceIncident } from '../entities/police-incident.entity';
import { PoliceIncidentFilter } from './types/police.input';

export const { Page: PoliceIncidentPage, PageResolver: PoliceIncidentPageResolver } = RecordPage('PoliceIncidentPage', PoliceIncident);

@Resolver()
export class PoliceQueryResolver {
  /**
   * E.g. "children with an incident in the last 30 days and their guardians' situation": filter
   * `occurredWithinDays: 30` and select `minor { guardians { situation } }`, which the gateway
   * fetches from the registry under its own policy.
   */
  @Query(() => PoliceIncidentPage, { nullable: true, description: 'Incidents in the caller’s jurisdiction, ordered by id' })
  policeIncidents(
    @Ctx() ctx: HubContext,
    @Arg('filter', () => PoliceIncidentFilter, { nullable: true }) filter?: PoliceIncidentFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Page<PoliceIncident>> {
    const qb = ctx.db.getRepository(PoliceIncident).createQueryBuilder('r');
    const tests = new FilterTests(ctx);
    if (filter?.occurredWithinDays !== undefined && filter.occurredWithinDays !== null) {
      tests.check('PoliceIncident.occurredOn', 'filter.occurredWithinDays');
      const days = requireInt('filter.occurredWithinDays', filter.occurredWithinDays, 1, 366);
      qb.andWhere('r.occurred_on > :since', { since: chinaDay(addDays(ctx.now, -days)) });
    }
    if (filter?.types != null) {
      tests.check('PoliceIncident.type', 'filter.types');
      qb.andWhere('r.type = ANY(:types)', { types: requireSomeValues('filter.types', filter.types) });
    }
    if (filter?.statuses != null) {
      tests.check('PoliceIncident.status', 'filter.statuses');
      qb.andWhere('r.status = ANY(:statuses)', { statuses: requireSomeValues('filter.statuses', filter.statuses) });
    }
    return paginate(ctx, qb, 'police-incident', tests, first, after);
  }
}
