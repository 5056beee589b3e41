import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { JusticeInit1795400120000 } from '../../../migrations/1795400120000-justice-init';
import { minorReferenceResolvers } from '../shared/jurisdiction';
import { CommunityCorrection } from './entities/community-correction.entity';
import { IncarceratedParent } from './entities/incarcerated-parent.entity';
import { LegalAidCase } from './entities/legal-aid-case.entity';
import { JusticeMinor } from './entities/minor.stub';
import { justicePolicy } from './justice.policy';
import { justiceRecords, seedJusticeIfEmpty } from './justice.seed';
import { JusticeMinorResolver } from './resolvers/justice-minor.resolver';
import { JusticeMutationResolver } from './resolvers/justice-mutation.resolver';
import { IncarceratedParentPageResolver, JusticeQueryResolver } from './resolvers/justice-query.resolver';

/** 司法 — incarcerated parents (服刑在戒), community correction (社区矫正), legal aid (法律援助); extends Minor. */
export const justiceSubgraph: SubgraphSlice = {
  name: 'justice',
  owner: Department.JUSTICE,
  entities: [IncarceratedParent, CommunityCorrection, LegalAidCase],
  migrations: [JusticeInit1795400120000],
  resolvers: [JusticeMinorResolver, JusticeQueryResolver, IncarceratedParentPageResolver, JusticeMutationResolver],
  orphanedTypes: [JusticeMinor],
  referenceResolvers: minorReferenceResolvers(),
  policy: justicePolicy,
  scaleRecords: justiceRecords,
  childRecordTypes: ['IncarceratedParent', 'CommunityCorrection', 'LegalAidCase'],
  seedDemo: seedJusticeIfEmpty,
};
