import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { HistoryAfter, HistoryFirst, historyOf } from '../../shared/history-page';
import { CommunityCorrection } from '../entities/community-correction.entity';
import { IncarceratedParent } from '../entities/incarcerated-parent.entity';
import { LegalAidCase } from '../entities/legal-aid-case.entity';
import { JusticeMinor } from '../entities/minor.stub';
import { justiceLoaders } from '../justice.loaders';

/** The justice records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => JusticeMinor)
export class JusticeMinorResolver {
  @FieldResolver(() => [IncarceratedParent], { nullable: true, description: historyOf('服刑在戒 parents') })
  incarceratedParents(@Root() minor: JusticeMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<IncarceratedParent[]> {
    return justiceLoaders(ctx).parentsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [CommunityCorrection], { nullable: true, description: historyOf('社区矫正 of the child') })
  communityCorrections(@Root() minor: JusticeMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<CommunityCorrection[]> {
    return justiceLoaders(ctx).correctionsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [LegalAidCase], { nullable: true, description: historyOf('法律援助') })
  legalAidCases(@Root() minor: JusticeMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<LegalAidCase[]> {
    return justiceLoaders(ctx).legalAidByMinor(first, after).load(minor.id);
  }
}
