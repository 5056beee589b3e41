import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
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
  @FieldResolver(() => [CarePlan], { nullable: true, description: '留守流动 care plans, newest first' })
  carePlans(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext): Promise<CarePlan[]> {
    return womensFederationLoaders(ctx).plansByMinor.load(minor.id);
  }

  @FieldResolver(() => [FamilyEducationSession], { nullable: true, description: '家庭教育指导, newest first' })
  familyEducationSessions(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext): Promise<FamilyEducationSession[]> {
    return womensFederationLoaders(ctx).sessionsByMinor.load(minor.id);
  }

  @FieldResolver(() => [DomesticViolenceSupport], { nullable: true, description: 'Support after domestic violence, newest first' })
  domesticViolenceSupports(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext): Promise<DomesticViolenceSupport[]> {
    return womensFederationLoaders(ctx).supportByMinor.load(minor.id);
  }

  @FieldResolver(() => [ChildrenHomeAttendance], { nullable: true, description: '儿童之家 attendance, newest first' })
  childrenHomeAttendances(@Root() minor: WomensFederationMinor, @Ctx() ctx: HubContext): Promise<ChildrenHomeAttendance[]> {
    return womensFederationLoaders(ctx).attendanceByMinor.load(minor.id);
  }
}

@Resolver(() => CarePlan)
export class CarePlanResolver {
  @FieldResolver(() => [CareVisit], { nullable: true, description: 'Care visits, newest first' })
  visits(@Root() plan: CarePlan, @Ctx() ctx: HubContext): Promise<CareVisit[]> {
    return womensFederationLoaders(ctx).visitsByPlan.load(plan.id);
  }
}
