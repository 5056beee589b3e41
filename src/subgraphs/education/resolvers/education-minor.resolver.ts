import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { HistoryAfter, HistoryFirst, historyOf } from '../../shared/history-page';
import { BullyingCase } from '../entities/bullying-case.entity';
import { DropoutReport } from '../entities/dropout-report.entity';
import { EducationAid } from '../entities/education-aid.entity';
import { EducationMinor } from '../entities/minor.stub';
import { PersuasionAction } from '../entities/persuasion-action.entity';
import { SchoolEnrollment } from '../entities/school-enrollment.entity';
import { educationLoaders } from '../education.loaders';

/** The education records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => EducationMinor)
export class EducationMinorResolver {
  @FieldResolver(() => [SchoolEnrollment], { nullable: true, description: historyOf('学籍') })
  schoolEnrollments(@Root() minor: EducationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<SchoolEnrollment[]> {
    return educationLoaders(ctx).enrollmentsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [DropoutReport], { nullable: true, description: historyOf('辍学报告') })
  dropoutReports(@Root() minor: EducationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<DropoutReport[]> {
    return educationLoaders(ctx).dropoutReportsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [BullyingCase], { nullable: true, description: historyOf('学生欺凌') })
  bullyingCases(@Root() minor: EducationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<BullyingCase[]> {
    return educationLoaders(ctx).bullyingCasesByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [EducationAid], { nullable: true, description: historyOf('学生资助') })
  educationAid(@Root() minor: EducationMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<EducationAid[]> {
    return educationLoaders(ctx).aidByMinor(first, after).load(minor.id);
  }
}

@Resolver(() => DropoutReport)
export class DropoutReportResolver {
  @FieldResolver(() => [PersuasionAction], { nullable: true, description: historyOf('劝返') })
  persuasionActions(@Root() report: DropoutReport, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<PersuasionAction[]> {
    return educationLoaders(ctx).actionsByReport(first, after).load(report.id);
  }
}
