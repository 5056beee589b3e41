import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { IdleSupport } from '../entities/idle-support.entity';
import { YouthLeagueMinor } from '../entities/minor.stub';
import { MisbehaviourFollowUp } from '../entities/misbehaviour-follow-up.entity';
import { PreventionCase } from '../entities/prevention-case.entity';
import { VolunteerVisit } from '../entities/volunteer-visit.entity';
import { youthLeagueLoaders } from '../youth-league.loaders';

/** The Youth League records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => YouthLeagueMinor)
export class YouthLeagueMinorResolver {
  @FieldResolver(() => [PreventionCase], { nullable: true, description: '预防犯罪 cases, newest first' })
  preventionCases(@Root() minor: YouthLeagueMinor, @Ctx() ctx: HubContext): Promise<PreventionCase[]> {
    return youthLeagueLoaders(ctx).casesByMinor.load(minor.id);
  }

  @FieldResolver(() => [IdleSupport], { nullable: true, description: '闲散 support, newest first' })
  idleSupports(@Root() minor: YouthLeagueMinor, @Ctx() ctx: HubContext): Promise<IdleSupport[]> {
    return youthLeagueLoaders(ctx).idleSupportByMinor.load(minor.id);
  }

  @FieldResolver(() => [VolunteerVisit], { nullable: true, description: 'Volunteer visits, newest first' })
  volunteerVisits(@Root() minor: YouthLeagueMinor, @Ctx() ctx: HubContext): Promise<VolunteerVisit[]> {
    return youthLeagueLoaders(ctx).visitsByMinor.load(minor.id);
  }
}

@Resolver(() => PreventionCase)
export class PreventionCaseResolver {
  @FieldResolver(() => [MisbehaviourFollowUp], { nullable: true, description: 'Follow-ups, newest first' })
  followUps(@Root() preventionCase: PreventionCase, @Ctx() ctx: HubContext): Promise<MisbehaviourFollowUp[]> {
    return youthLeagueLoaders(ctx).followUpsByCase.load(preventionCase.id);
  }
}
