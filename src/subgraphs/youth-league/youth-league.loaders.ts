import { HubContext, sliceLoaders } from '../../server/hub.context';
import { recordsByMinor, recordsByParent } from '../shared/record-loaders';
import { IdleSupport } from './entities/idle-support.entity';
import { MisbehaviourFollowUp } from './entities/misbehaviour-follow-up.entity';
import { PreventionCase } from './entities/prevention-case.entity';
import { VolunteerVisit } from './entities/volunteer-visit.entity';

/** One loader per relation, one statement per batch; newest first. */
function createYouthLeagueLoaders(ctx: HubContext) {
  return {
    casesByMinor: recordsByMinor(ctx, PreventionCase, [['openedOn', 'DESC']]),
    idleSupportByMinor: recordsByMinor(ctx, IdleSupport, [['startedOn', 'DESC']]),
    visitsByMinor: recordsByMinor(ctx, VolunteerVisit, [['visitedOn', 'DESC']]),
    /** Keyed by cases already loaded under the jurisdiction rule. */
    followUpsByCase: recordsByParent(ctx, MisbehaviourFollowUp, 'caseId', [['followedUpOn', 'DESC']]),
  };
}

export const youthLeagueLoaders = (ctx: HubContext) => sliceLoaders(ctx, 'youth_league', createYouthLeagueLoaders);
