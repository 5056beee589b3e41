import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { HistoryAfter, HistoryFirst, historyOf } from '../../shared/history-page';
import { MandatoryReport } from '../entities/mandatory-report.entity';
import { MinorStub } from '../entities/minor.stub';
import { Referral } from '../entities/referral.entity';
import { workflowLoaders } from '../workflow.loaders';

/** The child's referrals and reports, as fields of the registry's Minor (batched per request). */
@Resolver(() => MinorStub)
export class MinorWorkflowResolver {
  @FieldResolver(() => [Referral], { nullable: true, description: historyOf('Referrals of this child the caller’s department sent or received (civil affairs: all)') })
  referrals(@Root() minor: MinorStub, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<Referral[]> {
    return workflowLoaders(ctx).referralsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [MandatoryReport], { nullable: true, description: historyOf('Mandatory reports linked to this child, in the caller’s jurisdiction') })
  mandatoryReports(@Root() minor: MinorStub, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<MandatoryReport[]> {
    return workflowLoaders(ctx).reportsByMinor(first, after).load(minor.id);
  }
}
