import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { YouthLeagueInit1795400130000 } from '../../../migrations/1795400130000-youth-league-init';
import { minorReferenceResolvers } from '../shared/jurisdiction';
import { IdleSupport } from './entities/idle-support.entity';
import { YouthLeagueMinor } from './entities/minor.stub';
import { MisbehaviourFollowUp } from './entities/misbehaviour-follow-up.entity';
import { PreventionCase } from './entities/prevention-case.entity';
import { VolunteerVisit } from './entities/volunteer-visit.entity';
import { PreventionCaseResolver, YouthLeagueMinorResolver } from './resolvers/youth-league-minor.resolver';
import { YouthLeagueMutationResolver } from './resolvers/youth-league-mutation.resolver';
import { PreventionCasePageResolver, YouthLeagueQueryResolver } from './resolvers/youth-league-query.resolver';
import { youthLeaguePolicy } from './youth-league.policy';
import { youthLeagueRecords, seedYouthLeagueIfEmpty } from './youth-league.seed';

/** 共青团 — delinquency prevention, serious-misbehaviour follow-up, idle-minor support, volunteer visits; extends Minor. */
export const youthLeagueSubgraph: SubgraphSlice = {
  name: 'youth_league',
  owner: Department.YOUTH_LEAGUE,
  entities: [PreventionCase, MisbehaviourFollowUp, IdleSupport, VolunteerVisit],
  migrations: [YouthLeagueInit1795400130000],
  resolvers: [YouthLeagueMinorResolver, PreventionCaseResolver, YouthLeagueQueryResolver, PreventionCasePageResolver, YouthLeagueMutationResolver],
  orphanedTypes: [YouthLeagueMinor],
  referenceResolvers: minorReferenceResolvers(),
  policy: youthLeaguePolicy,
  scaleRecords: youthLeagueRecords,
  childRecordTypes: ['PreventionCase', 'MisbehaviourFollowUp', 'IdleSupport', 'VolunteerVisit'],
  seedDemo: seedYouthLeagueIfEmpty,
};
