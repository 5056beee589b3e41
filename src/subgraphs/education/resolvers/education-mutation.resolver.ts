import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import type { HubContext } from '../../../server/hub.context';
import { YOUNGEST_WITH_CATEGORY } from '../../registry/registry.constants';
import { DifficultyCategory } from '../../registry/registry.enums';
import { createRecord, lockRecord, parentChanged, refuseStating, requireBorn, requireOldEnough, subRecordDays, updateRecord, writeFields } from '../../shared/record-writes';
import { BullyingCase } from '../entities/bullying-case.entity';
import { dropoutEvent, emitNotification } from '../../workflow/workflow.notify';
import { DropoutReport } from '../entities/dropout-report.entity';
import { EducationAid } from '../entities/education-aid.entity';
import { PersuasionAction } from '../entities/persuasion-action.entity';
import { SchoolEnrollment } from '../entities/school-enrollment.entity';
import { DropoutStatus } from '../education.enums';
import { validBullyingCase, validDropoutReport, validEducationAid, validEnrollment, validPersuasionAction } from '../education.validation';
import { BullyingCaseInput, DropoutReportInput, EducationAidInput, PersuasionActionInput, SchoolEnrollmentInput } from './types/education.input';

/**
 * A school (grades 1–12) takes a child of 6 at the September start, enrolled months before at 5:
 * no younger child is enrolled in one.
 */
const oldEnoughToEnrol = (em: EntityManager, ctx: HubContext, minorId: string, enrolledOn: string) => requireOldEnough(em, ctx, minorId, 5, 'minorId', enrolledOn, 'a school enrollment');

/** A dropout (辍学) is of a child of school age, as the registry's DROPOUT category (addCategory refuses it younger). */
const oldEnoughToDropOut = (em: EntityManager, ctx: HubContext, minorId: string, reportedOn: string) =>
  requireOldEnough(em, ctx, minorId, YOUNGEST_WITH_CATEGORY[DifficultyCategory.DROPOUT]!, 'minorId', reportedOn, 'a dropout');

/**
 * Education's writes, for EDUCATION officers (the policy table says who). Input is validated
 * before anything is written; each write is one transaction; a child or record outside the
 * caller's jurisdiction is NOT_FOUND.
 */
@Resolver()
export class EducationMutationResolver {
  @Mutation(() => SchoolEnrollment, { nullable: true })
  createSchoolEnrollment(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => SchoolEnrollmentInput) input: SchoolEnrollmentInput, @Ctx() ctx: HubContext) {
    const fields = validEnrollment(input, ctx.now);
    return createRecord(ctx, SchoolEnrollment, minorId, fields, { day: 'enrolledOn', check: (em, child) => oldEnoughToEnrol(em, ctx, child, fields.enrolledOn) });
  }

  @Mutation(() => SchoolEnrollment, { nullable: true })
  updateSchoolEnrollment(@Arg('id', () => ID) id: string, @Arg('input', () => SchoolEnrollmentInput) input: SchoolEnrollmentInput, @Ctx() ctx: HubContext) {
    const fields = validEnrollment(input, ctx.now);
    return updateRecord(ctx, SchoolEnrollment, id, 'SchoolEnrollment', fields, { day: 'enrolledOn', check: (em, found) => oldEnoughToEnrol(em, ctx, found.minorId, fields.enrolledOn) });
  }

  @Mutation(() => DropoutReport, { nullable: true, description: 'Opens a 控辍保学 case' })
  createDropoutReport(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => DropoutReportInput) input: DropoutReportInput, @Ctx() ctx: HubContext) {
    const fields = { ...validDropoutReport(input, ctx.now), status: DropoutStatus.OPEN, outcome: null, closedOn: null };
    // 信息通报: a dropout is told to the departments with jurisdiction, in the same transaction.
    return createRecord(ctx, DropoutReport, minorId, fields, {
      day: 'reportedOn',
      check: (em, child) => oldEnoughToDropOut(em, ctx, child, fields.reportedOn),
      then: (em, report, gridCode) =>
        emitNotification(
          em,
          ctx,
          dropoutEvent({
            reportId: report.id,
            minorId: report.minorId,
            gridCode,
            fields: { 'DropoutReport.school': report.school, 'DropoutReport.reportedOn': report.reportedOn, 'DropoutReport.daysAbsent': report.daysAbsent },
          }),
        ),
    });
  }

  @Mutation(() => DropoutReport, { nullable: true, description: 'Corrects the facts of a report; a closed report must not predate its closing' })
  updateDropoutReport(@Arg('id', () => ID) id: string, @Arg('input', () => DropoutReportInput) input: DropoutReportInput, @Ctx() ctx: HubContext) {
    const fields = validDropoutReport(input, ctx.now);
    return ctx.db.transaction(async (em) => {
      const report = await lockRecord(em, ctx, DropoutReport, id, 'DropoutReport');
      await requireBorn(em, ctx, report.minorId, 'reportedOn', fields.reportedOn);
      await oldEnoughToDropOut(em, ctx, report.minorId, fields.reportedOn);
      if (report.closedOn && fields.reportedOn > report.closedOn) refuseStating(ctx, report.minorId, 'DropoutReport.closedOn', 'reportedOn', 'must not be after the report was closed');
      // recordPersuasionAction refuses an action before the report; a correction may not move the
      // report after an action already recorded either.
      const { first } = await subRecordDays(em, PersuasionAction, 'actedOn', 'reportId', report.id);
      if (first && fields.reportedOn > first) refuseStating(ctx, report.minorId, 'PersuasionAction.actedOn', 'reportedOn', `must not be after its first persuasion action (${first})`);
      return writeFields(em, ctx, DropoutReport, report, fields);
    });
  }

  @Mutation(() => PersuasionAction, { nullable: true, description: '劝返: records an action; with an outcome it also closes the report' })
  async recordPersuasionAction(@Arg('reportId', () => ID) reportId: string, @Arg('input', () => PersuasionActionInput) input: PersuasionActionInput, @Ctx() ctx: HubContext) {
    const fields = validPersuasionAction(input, ctx.now);
    let closed: DropoutReport | null = null;
    const recorded = await ctx.db.transaction(async (em) => {
      const report = await lockRecord(em, ctx, DropoutReport, reportId, 'DropoutReport');
      if (report.status === DropoutStatus.CLOSED) refuseStating(ctx, report.minorId, 'DropoutReport.status', 'reportId', 'the report is closed');
      if (fields.actedOn < report.reportedOn) refuseStating(ctx, report.minorId, 'DropoutReport.reportedOn', 'actedOn', 'must not be before the report');
      // The closing action is the last one: the report's closedOn must not predate an action on it.
      if (input.outcome) {
        const { last } = await subRecordDays(em, PersuasionAction, 'actedOn', 'reportId', report.id);
        if (last && fields.actedOn < last) refuseStating(ctx, report.minorId, 'PersuasionAction.actedOn', 'actedOn', `an action with an outcome closes the report and must not be before its latest action (${last})`);
      }
      const action = em.getRepository(PersuasionAction).create({ ...fields, id: randomUUID(), reportId: report.id, minorId: report.minorId });
      await em.getRepository(PersuasionAction).insert(action);
      if (input.outcome) {
        await em.getRepository(DropoutReport).update(report.id, { status: DropoutStatus.CLOSED, outcome: input.outcome, closedOn: fields.actedOn });
        closed = report;
      }
      return action;
    });
    if (closed) parentChanged(ctx, 'recordPersuasionAction', closed, ['closedOn', 'outcome', 'status']);
    return recorded;
  }

  @Mutation(() => BullyingCase, { nullable: true })
  createBullyingCase(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => BullyingCaseInput) input: BullyingCaseInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, BullyingCase, minorId, validBullyingCase(input, ctx.now), { day: 'occurredOn' });
  }

  @Mutation(() => BullyingCase, { nullable: true })
  updateBullyingCase(@Arg('id', () => ID) id: string, @Arg('input', () => BullyingCaseInput) input: BullyingCaseInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, BullyingCase, id, 'BullyingCase', validBullyingCase(input, ctx.now), { day: 'occurredOn' });
  }

  @Mutation(() => EducationAid, { nullable: true })
  createEducationAid(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => EducationAidInput) input: EducationAidInput, @Ctx() ctx: HubContext) {
    const fields = validEducationAid(input, ctx.now);
    return createRecord(ctx, EducationAid, minorId, fields, { day: 'grantedOn', check: (em, child) => schoolYearAfterBirth(em, ctx, child, fields.schoolYear) });
  }

  @Mutation(() => EducationAid, { nullable: true })
  updateEducationAid(@Arg('id', () => ID) id: string, @Arg('input', () => EducationAidInput) input: EducationAidInput, @Ctx() ctx: HubContext) {
    const fields = validEducationAid(input, ctx.now);
    return updateRecord(ctx, EducationAid, id, 'EducationAid', fields, { day: 'grantedOn', check: (em, found) => schoolYearAfterBirth(em, ctx, found.minorId, fields.schoolYear) });
  }
}

/** The school year an aid pays for (September to August) did not end before the child was born: a date of the record, as its own day is. */
const schoolYearAfterBirth = (em: EntityManager, ctx: HubContext, minorId: string, schoolYear: string): Promise<void> =>
  requireBorn(em, ctx, minorId, 'schoolYear', `${schoolYear.slice(5)}-08-31`);
