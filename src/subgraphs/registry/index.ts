import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { RegistryInit1795400000000 } from '../../../migrations/1795400000000-registry-init';
import { RegistryMinorJurisdiction1795400050000 } from '../../../migrations/1795400050000-registry-minor-jurisdiction';
import { MinorJurisdictionPlainView1795400610000 } from '../../../migrations/1795400610000-minor-jurisdiction-plain-view';
import { RegistryRegionCodeByLevel1795400800000 } from '../../../migrations/1795400800000-registry-region-code-by-level';
import { RegistryMinorsAgeOut1795401500000 } from '../../../migrations/1795401500000-registry-minors-age-out';
import { RiskAssessmentRecordedAt1795403300000 } from '../../../migrations/1795403300000-risk-assessment-recorded-at';
import { Guardian } from './entities/guardian.entity';
import { MinorCategory } from './entities/minor-category.entity';
import { Minor } from './entities/minor.entity';
import { Region } from './entities/region.entity';
import { RiskAssessment } from './entities/risk-assessment.entity';
import { Visit } from './entities/visit.entity';
import { resolveMinorReference } from './minor.reference';
import { registryPolicy } from './registry.policy';
import { seedRegistryIfEmpty } from './registry.seed';
import { MinorConnectionResolver, PageInfoResolver } from './resolvers/minor-connection.resolver';
import { MinorMutationResolver } from './resolvers/minor-mutation.resolver';
import { MinorResolver } from './resolvers/minor.resolver';
import { RegionResolver } from './resolvers/region.resolver';

/** 民政 — the minor registry (基本信息档案) the other departments' records attach to. */
export const registrySubgraph: SubgraphSlice = {
  name: 'registry',
  owner: Department.CIVIL_AFFAIRS,
  entities: [Region, Minor, Guardian, MinorCategory, RiskAssessment, Visit],
  migrations: [RegistryInit1795400000000, RegistryMinorJurisdiction1795400050000, MinorJurisdictionPlainView1795400610000, RegistryRegionCodeByLevel1795400800000, RegistryMinorsAgeOut1795401500000, RiskAssessmentRecordedAt1795403300000],
  resolvers: [MinorResolver, MinorConnectionResolver, PageInfoResolver, MinorMutationResolver, RegionResolver],
  referenceResolvers: { Minor: { __resolveReference: resolveMinorReference } },
  policy: registryPolicy,
  // A page's edges and page info too: a cursor is the child's id, readable by anyone who decodes it.
  childRecordTypes: ['Minor', 'Guardian', 'MinorCategory', 'RiskAssessment', 'Visit', 'MinorEdge', 'PageInfo'],
  seedDemo: seedRegistryIfEmpty,
};
