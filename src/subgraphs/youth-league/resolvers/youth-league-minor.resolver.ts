import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { HistoryAfter, HistoryFirst, historyOf } from '../../shared/history-page';
import { IdleSupport } from '../entities/idle-support.entity';
import { YouthLeagueMinor } from '../entities/minor.stub';
import { MisbehaviourFollowUp } from '../entities/misbehaviour-follow-up.entity';
import { PreventionCase } from '../entities/prevention-case.entity';
import { VolunteerVisit } from '../entities/volunteer-visit.entity';
import { youthLeagueLoaders } from '../youth-league.loaders';

/** The Youth League records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => YouthLeagueMinor)
export class YouthLeagueMinorResolver {
  @FieldResolver(() => [PreventionCase], { nullable: true, description: historyOf('预防犯罪 cases') })
  preventionCases(@Root() minor: YouthLeagueMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<PreventionCase[]> {
    return youthLeagueLoaders(ctx).casesByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [IdleSupport], { nullable: true, description: historyOf('闲散 support') })
  idleSupports(@Root() minor: YouthLeagueMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<IdleSupport[]> {
    return youthLeagueLoaders(ctx).idleSupportByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [VolunteerVisit], { nullable: true, description: historyOf('Volunteer visits') })
  volunteerVisits(@Root() minor: YouthLeagueMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<VolunteerVisit[]> {
    return youthLeagueLoaders(ctx).visitsByMinor(first, after).load(minor.id);
  }
}

@Resolver(() => PreventionCase)
export class PreventionCaseResolver {
  @FieldResolver(() => [MisbehaviourFollowUp], { nullable: true, description: historyOf('Follow-ups') })
  followUps(@Root() preventionCase: PreventionCase, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<MisbehaviourFollowUp[]> {
    return youthLeagueLoaders(ctx).followUpsByCase(first, after).load(preventionCase.id);
  }
}
