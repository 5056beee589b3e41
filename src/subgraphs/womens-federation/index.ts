import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { WomensFederationInit1795400140000 } from '../../../migrations/1795400140000-womens-federation-init';
import { minorReferenceResolvers } from '../shared/jurisdiction';
import { CarePlan } from './entities/care-plan.entity';
import { CareVisit } from './entities/care-visit.entity';
import { ChildrenHomeAttendance } from './entities/children-home-attendance.entity';
import { DomesticViolenceSupport } from './entities/domestic-violence-support.entity';
import { FamilyEducationSession } from './entities/family-education-session.entity';
import { WomensFederationMinor } from './entities/minor.stub';
import { CarePlanResolver, WomensFederationMinorResolver } from './resolvers/womens-federation-minor.resolver';
import { WomensFederationMutationResolver } from './resolvers/womens-federation-mutation.resolver';
import { CarePlanPageResolver, WomensFederationQueryResolver } from './resolvers/womens-federation-query.resolver';
import { womensFederationPolicy } from './womens-federation.policy';
import { womensFederationRecords, seedWomensFederationIfEmpty } from './womens-federation.seed';

/** 妇联 — left-behind / migrant care (留守流动), family-education guidance, support after domestic violence, 儿童之家; extends Minor. */
export const womensFederationSubgraph: SubgraphSlice = {
  name: 'womens_federation',
  owner: Department.WOMENS_FEDERATION,
  entities: [CarePlan, CareVisit, FamilyEducationSession, DomesticViolenceSupport, ChildrenHomeAttendance],
  migrations: [WomensFederationInit1795400140000],
  resolvers: [WomensFederationMinorResolver, CarePlanResolver, WomensFederationQueryResolver, CarePlanPageResolver, WomensFederationMutationResolver],
  orphanedTypes: [WomensFederationMinor],
  referenceResolvers: minorReferenceResolvers(),
  policy: womensFederationPolicy,
  scaleRecords: womensFederationRecords,
  childRecordTypes: ['CarePlan', 'CareVisit', 'FamilyEducationSession', 'DomesticViolenceSupport', 'ChildrenHomeAttendance'],
  seedDemo: seedWomensFederationIfEmpty,
};
