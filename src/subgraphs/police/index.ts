import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { PoliceInit1795400110000 } from '../../../migrations/1795400110000-police-init';
import { minorReferenceResolvers } from '../shared/jurisdiction';
import { GuardianAdmonishment } from './entities/guardian-admonishment.entity';
import { IdentityVerification } from './entities/identity-verification.entity';
import { PoliceMinor } from './entities/minor.stub';
import { PoliceIncident } from './entities/police-incident.entity';
import { policePolicy } from './police.policy';
import { policeRecords, seedPoliceIfEmpty } from './police.seed';
import { PoliceMinorResolver } from './resolvers/police-minor.resolver';
import { PoliceMutationResolver } from './resolvers/police-mutation.resolver';
import { PoliceIncidentPageResolver, PoliceQueryResolver } from './resolvers/police-query.resolver';

/** 公安 — incidents (警情), guardian admonishments (训诫), identity verification and 户籍; extends Minor. */
export const policeSubgraph: SubgraphSlice = {
  name: 'police',
  owner: Department.POLICE,
  entities: [PoliceIncident, GuardianAdmonishment, IdentityVerification],
  migrations: [PoliceInit1795400110000],
  resolvers: [PoliceMinorResolver, PoliceQueryResolver, PoliceIncidentPageResolver, PoliceMutationResolver],
  orphanedTypes: [PoliceMinor],
  referenceResolvers: minorReferenceResolvers(),
  policy: policePolicy,
  scaleRecords: policeRecords,
  childRecordTypes: ['PoliceIncident', 'GuardianAdmonishment', 'IdentityVerification', 'ProtectionCaseStatus'],
  seedDemo: seedPoliceIfEmpty,
};
