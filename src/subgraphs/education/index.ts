import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { EducationInit1795400100000 } from '../../../migrations/1795400100000-education-init';
import { minorReferenceResolvers } from '../shared/jurisdiction';
import { BullyingCase } from './entities/bullying-case.entity';
import { DropoutReport } from './entities/dropout-report.entity';
import { EducationAid } from './entities/education-aid.entity';
import { EducationMinor } from './entities/minor.stub';
import { PersuasionAction } from './entities/persuasion-action.entity';
import { SchoolEnrollment } from './entities/school-enrollment.entity';
import { educationPolicy } from './education.policy';
import { educationRecords, seedEducationIfEmpty } from './education.seed';
import { DropoutReportResolver, EducationMinorResolver } from './resolvers/education-minor.resolver';
import { EducationMutationResolver } from './resolvers/education-mutation.resolver';
import { DropoutReportPageResolver, EducationQueryResolver } from './resolvers/education-query.resolver';

/** 教育 — enrollment, dropout reports (控辍保学), bullying cases, education aid; extends Minor. */
export const educationSubgraph: SubgraphSlice = {
  name: 'education',
  owner: Department.EDUCATION,
  entities: [SchoolEnrollment, DropoutReport, PersuasionAction, BullyingCase, EducationAid],
  migrations: [EducationInit1795400100000],
  resolvers: [EducationMinorResolver, DropoutReportResolver, EducationQueryResolver, DropoutReportPageResolver, EducationMutationResolver],
  orphanedTypes: [EducationMinor],
  referenceResolvers: minorReferenceResolvers(),
  policy: educationPolicy,
  scaleRecords: educationRecords,
  childRecordTypes: ['SchoolEnrollment', 'DropoutReport', 'PersuasionAction', 'BullyingCase', 'EducationAid'],
  seedDemo: seedEducationIfEmpty,
};
