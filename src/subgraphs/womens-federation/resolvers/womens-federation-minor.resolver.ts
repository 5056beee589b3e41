import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { HistoryAfter, HistoryFirst, historyOf } from '../../shared/history-page';
import { CarePlan } from '../entities/care-plan.entity';
import { CareVisit } from '../entities/care-visit.entity';
import { ChildrenHomeAttendance } from '../entities/children-home-attendance.entity';
import { DomesticViolenceSupport } from '../entities/domestic-violence-support.entity';
import { FamilyEducationSession } from '../entities/family-education-session.entity';
import { WomensFederationMinor } from '../entities/minor.stub';
import { womensFederationLoaders } from '../womens-federation.loaders';

/** The women's federation records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => WomensFederationMinor)
export class WomensFederationMinorResolver {
  @FieldResolver(() => [CarePlan], { nullable: true, description: historyOf('留守流动 care plans') })
  carePlans(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<CarePlan[]> {
    return womensFederationLoaders(ctx).plansByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [FamilyEducationSession], { nullable: true, description: historyOf('家庭教育指导') })
  familyEducationSessions(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<FamilyEducationSession[]> {
    return womensFederationLoaders(ctx).sessionsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [DomesticViolenceSupport], { nullable: true, description: historyOf('Support after domestic violence') })
  domesticViolenceSupports(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<DomesticViolenceSupport[]> {
    return womensFederationLoaders(ctx).supportByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [ChildrenHomeAttendance], { nullable: true, description: historyOf('儿童之家 attendance') })
  childrenHomeAttendances(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<ChildrenHomeAttendance[]> {
    return womensFederationLoaders(ctx).attendanceByMinor(first, after).load(minor.id);
  }
}

@Resolver(() => CarePlan)
export class CarePlanResolver {
  @FieldResolver(() => [CareVisit], { nullable: true, description: historyOf('Care visits') })
  visits(@Root() plan: CarePlan, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<CareVisit[]> {
    return womensFederationLoaders(ctx).visitsByPlan(first, after).load(plan.id);
  }
}
