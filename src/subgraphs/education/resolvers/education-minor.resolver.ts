import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
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
  @FieldResolver(() => [SchoolEnrollment], { nullable: true, description: '学籍, newest first' })
  schoolEnrollments(@Root() minor: EducationMinor, @Ctx() ctx: HubContext): Promise<SchoolEnrollment[]> {
    return educationLoaders(ctx).enrollmentsByMinor.load(minor.id);
  }

  @FieldResolver(() => [DropoutReport], { nullable: true, description: '辍学报告, newest first' })
  dropoutReports(@Root() minor: EducationMinor, @Ctx() ctx: HubContext): Promise<DropoutReport[]> {
    return educationLoaders(ctx).dropoutReportsByMinor.load(minor.id);
  }

  @FieldResolver(() => [BullyingCase], { nullable: true, description: '学生欺凌, newest first' })
  bullyingCases(@Root() minor: EducationMinor, @Ctx() ctx: HubContext): Promise<BullyingCase[]> {
    return educationLoaders(ctx).bullyingCasesByMinor.load(minor.id);
  }

  @FieldResolver(() => [EducationAid], { nullable: true, description: '学生资助, newest first' })
  educationAid(@Root() minor: EducationMinor, @Ctx() ctx: HubContext): Promise<EducationAid[]> {
    return educationLoaders(ctx).aidByMinor.load(minor.id);
  }
}

@Resolver(() => DropoutReport)
export class DropoutReportResolver {
  @FieldResolver(() => [PersuasionAction], { nullable: true, description: '劝返, newest first' })
  persuasionActions(@Root() report: DropoutReport, @Ctx() ctx: HubContext): Promise<PersuasionAction[]> {
    return educationLoaders(ctx).actionsByReport.load(report.id);
  }
}
