import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { MandatoryReport } from '../entities/mandatory-report.entity';
import { MinorStub } from '../entities/minor.stub';
import { Referral } from '../entities/referral.entity';
import { workflowLoaders } from '../workflow.loaders';

/** The child's referrals and reports, as fields of the registry's Minor (batched per request). */
@Resolver(() => MinorStub)
export class MinorWorkflowResolver {
  @FieldResolver(() => [Referral], { nullable: true, description: 'Referrals of this child the caller’s department sent or received (civil affairs: all), newest first' })
  referrals(@Root() minor: MinorStub, @Ctx() ctx: HubContext): Promise<Referral[]> {
    return workflowLoaders(ctx).referralsByMinor.load(minor.id);
  }

  @FieldResolver(() => [MandatoryReport], { nullable: true, description: 'Mandatory reports linked to this child, in the caller’s jurisdiction, newest first' })
  mandatoryReports(@Root() minor: MinorStub, @Ctx() ctx: HubContext): Promise<MandatoryReport[]> {
    return workflowLoaders(ctx).reportsByMinor.load(minor.id);
  }
}
