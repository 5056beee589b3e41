import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { createRecord, lockRecord, parentChanged, refuseStating, requireBorn, subRecordDays, updateRecord, writeFields } from '../../shared/record-writes';
import { CarePlan } from '../entities/care-plan.entity';
import { CareVisit } from '../entities/care-visit.entity';
import { ChildrenHomeAttendance } from '../entities/children-home-attendance.entity';
import { DomesticViolenceSupport } from '../entities/domestic-violence-support.entity';
import { FamilyEducationSession } from '../entities/family-education-session.entity';
import { CarePlanStatus } from '../womens-federation.enums';
import { validAttendance, validCarePlan, validCareVisit, validSession, validViolenceSupport } from '../womens-federation.validation';
import {
  CarePlanInput,
  CareVisitInput,
  ChildrenHomeAttendanceInput,
  DomesticViolenceSupportInput,
  FamilyEducationSessionInput,
} from './types/womens-federation.input';

/** Women's federation writes, for WOMENS_FEDERATION officers; validated first, one transaction each, NOT_FOUND outside the jurisdiction. */
@Resolver()
export class WomensFederationMutationResolver {
  @Mutation(() => CarePlan, { nullable: true })
  createCarePlan(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => CarePlanInput) input: CarePlanInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, CarePlan, minorId, { ...validCarePlan(input, ctx.now), lastVisitOn: null }, { day: 'startedOn' });
  }

  @Mutation(() => CarePlan, { nullable: true, description: 'Replaces the plan’s fields; visits stay' })
  updateCarePlan(@Arg('id', () => ID) id: string, @Arg('input', () => CarePlanInput) input: CarePlanInput, @Ctx() ctx: HubContext) {
    const fields = validCarePlan(input, ctx.now);
    return ctx.db.transaction(async (em) => {
      const plan = await lockRecord(em, ctx, CarePlan, id, 'CarePlan');
      await requireBorn(em, ctx, plan.minorId, 'startedOn', fields.startedOn);
      // recordCareVisit refuses a visit before the plan started; a correction may not move the start
      // after any visit already recorded either — the latest visit (lastVisitOn) is not the bound.
      const { first } = await subRecordDays(em, CareVisit, 'visitedOn', 'planId', plan.id);
      if (first && fields.startedOn > first) refuseStating(ctx, plan.minorId, 'CareVisit.visitedOn', 'startedOn', `must not be after the plan’s first visit (${first})`);
      // Nor after lastVisitOn when its visits are gone (removed past the API): the table's CHECK
      // would refuse it as an internal error.
      if (plan.lastVisitOn && fields.startedOn > plan.lastVisitOn) refuseStating(ctx, plan.minorId, 'CarePlan.lastVisitOn', 'startedOn', 'must not be after the plan’s latest visit');
      return writeFields(em, ctx, CarePlan, plan, fields);
    });
  }

  @Mutation(() => CareVisit, { nullable: true, description: '关爱走访: records a visit under an active plan' })
  async recordCareVisit(@Arg('planId', () => ID) planId: string, @Arg('input', () => CareVisitInput) input: CareVisitInput, @Ctx() ctx: HubContext) {
    const fields = validCareVisit(input, ctx.now);
    let movedOn: CarePlan | null = null;
    const recorded = await ctx.db.transaction(async (em) => {
      const plan = await lockRecord(em, ctx, CarePlan, planId, 'CarePlan');
      if (plan.status !== CarePlanStatus.ACTIVE) refuseStating(ctx, plan.minorId, 'CarePlan.status', 'planId', 'the plan has ended');
      if (fields.visitedOn < plan.startedOn) refuseStating(ctx, plan.minorId, 'CarePlan.startedOn', 'visitedOn', 'must not be before the plan started');
      const visit = em.getRepository(CareVisit).create({ ...fields, id: randomUUID(), planId: plan.id, minorId: plan.minorId });
      await em.getRepository(CareVisit).insert(visit);
      // The plan keeps its latest visit for the "not visited in N days" list; an older, late-entered visit changes nothing.
      if (!plan.lastVisitOn || fields.visitedOn > plan.lastVisitOn) {
        await em.getRepository(CarePlan).update(plan.id, { lastVisitOn: fields.visitedOn });
        movedOn = plan;
      }
      return visit;
    });
    if (movedOn) parentChanged(ctx, 'recordCareVisit', movedOn, ['lastVisitOn']);
    return recorded;
  }

  @Mutation(() => FamilyEducationSession, { nullable: true })
  createFamilyEducationSession(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => FamilyEducationSessionInput) input: FamilyEducationSessionInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, FamilyEducationSession, minorId, validSession(input, ctx.now), { day: 'heldOn' });
  }

  @Mutation(() => FamilyEducationSession, { nullable: true })
  updateFamilyEducationSession(@Arg('id', () => ID) id: string, @Arg('input', () => FamilyEducationSessionInput) input: FamilyEducationSessionInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, FamilyEducationSession, id, 'FamilyEducationSession', validSession(input, ctx.now), { day: 'heldOn' });
  }

  @Mutation(() => DomesticViolenceSupport, { nullable: true })
  createDomesticViolenceSupport(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => DomesticViolenceSupportInput) input: DomesticViolenceSupportInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, DomesticViolenceSupport, minorId, validViolenceSupport(input, ctx.now), { day: 'startedOn' });
  }

  @Mutation(() => DomesticViolenceSupport, { nullable: true })
  updateDomesticViolenceSupport(@Arg('id', () => ID) id: string, @Arg('input', () => DomesticViolenceSupportInput) input: DomesticViolenceSupportInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, DomesticViolenceSupport, id, 'DomesticViolenceSupport', validViolenceSupport(input, ctx.now), { day: 'startedOn' });
  }

  @Mutation(() => ChildrenHomeAttendance, { nullable: true })
  createChildrenHomeAttendance(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => ChildrenHomeAttendanceInput) input: ChildrenHomeAttendanceInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, ChildrenHomeAttendance, minorId, validAttendance(input, ctx.now), { day: 'attendedOn' });
  }

  @Mutation(() => ChildrenHomeAttendance, { nullable: true })
  updateChildrenHomeAttendance(@Arg('id', () => ID) id: string, @Arg('input', () => ChildrenHomeAttendanceInput) input: ChildrenHomeAttendanceInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, ChildrenHomeAttendance, id, 'ChildrenHomeAttendance', validAttendance(input, ctx.now), { day: 'attendedOn' });
  }
}
