import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { CommunityCorrection } from '../entities/community-correction.entity';
import { IncarceratedParent } from '../entities/incarcerated-parent.entity';
import { LegalAidCase } from '../entities/legal-aid-case.entity';
import { JusticeMinor } from '../entities/minor.stub';
import { justiceLoaders } from '../justice.loaders';

/** The justice records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => JusticeMinor)
export class JusticeMinorResolver {
  @FieldResolver(() => [IncarceratedParent], { nullable: true, description: '服刑在戒 parents, newest first' })
  incarceratedParents(@Root() minor: JusticeMinor, @Ctx() ctx: HubContext): Promise<IncarceratedParent[]> {
    return justiceLoaders(ctx).parentsByMinor.load(minor.id);
  }

  @FieldResolver(() => [CommunityCorrection], { nullable: true, description: '社区矫正 of the child, newest first' })
  communityCorrections(@Root() minor: JusticeMinor, @Ctx() ctx: HubContext): Promise<CommunityCorrection[]> {
    return justiceLoaders(ctx).correctionsByMinor.load(minor.id);
  }

  @FieldResolver(() => [LegalAidCase], { nullable: true, description: '法律援助, newest first' })
  legalAidCases(@Root() minor: JusticeMinor, @Ctx() ctx: HubContext): Promise<LegalAidCase[]> {
    return justiceLoaders(ctx).legalAidByMinor.load(minor.id);
  }
}
