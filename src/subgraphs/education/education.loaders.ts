import { HubContext, sliceLoaders } from '../../server/hub.context';
import { recordsByMinor, recordsByParent } from '../shared/record-loaders';
import { BullyingCase } from './entities/bullying-case.entity';
import { DropoutReport } from './entities/dropout-report.entity';
import { EducationAid } from './entities/education-aid.entity';
import { PersuasionAction } from './entities/persuasion-action.entity';
import { SchoolEnrollment } from './entities/school-enrollment.entity';

/** One loader per relation, one statement per batch; newest first. */
function createEducationLoaders(ctx: HubContext) {
  return {
    enrollmentsByMinor: recordsByMinor(ctx, SchoolEnrollment, [['enrolledOn', 'DESC']]),
    dropoutReportsByMinor: recordsByMinor(ctx, DropoutReport, [['reportedOn', 'DESC']]),
    bullyingCasesByMinor: recordsByMinor(ctx, BullyingCase, [['occurredOn', 'DESC']]),
    aidByMinor: recordsByMinor(ctx, EducationAid, [['grantedOn', 'DESC']]),
    /** Keyed by reports already loaded under the jurisdiction rule. */
    actionsByReport: recordsByParent(ctx, PersuasionAction, 'reportId', [['actedOn', 'DESC']]),
  };
}

export const educationLoaders = (ctx: HubContext) => sliceLoaders(ctx, 'education', createEducationLoaders);
