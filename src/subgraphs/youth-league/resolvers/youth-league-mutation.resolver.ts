import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { WORKING_AGE } from '../../../common/validation';
import type { HubContext } from '../../../server/hub.context';
import { YOUNGEST_WITH_CATEGORY } from '../../registry/registry.constants';
import { DifficultyCategory } from '../../registry/registry.enums';
import { createRecord, lockRecord, parentChanged, refuseStating, requireBorn, requireOldEnough, subRecordDays, updateRecord, writeFields } from '../../shared/record-writes';
import { IdleSupport } from '../entities/idle-support.entity';
import { MisbehaviourFollowUp } from '../entities/misbehaviour-follow-up.entity';
import { PreventionCase } from '../entities/prevention-case.entity';
import { VolunteerVisit } from '../entities/volunteer-visit.entity';
import { IdleSupportKind, PreventionCaseStatus } from '../youth-league.enums';
import { validFollowUp, validIdleSupport, validPreventionCase, validVolunteerVisit } from '../youth-league.validation';
import { IdleSupportInput, MisbehaviourFollowUpInput, PreventionCaseInput, VolunteerVisitInput } from './types/youth-league.input';

/**
 * An idle minor (闲散) is of school age, as the registry's IDLE category (addCategory refuses it
 * younger); work is of no one under 16: a support placing a child of 7 in work was taken.
 */
function oldEnoughFor(em: EntityManager, ctx: HubContext, minorId: string, support: Pick<IdleSupport, 'kind' | 'startedOn'>): Promise<void> {
  return support.kind === IdleSupportKind.EMPLOYMENT
    ? requireOldEnough(em, ctx, minorId, WORKING_AGE, 'kind', support.startedOn, 'work (EMPLOYMENT)')
    : requireOldEnough(em, ctx, minorId, YOUNGEST_WITH_CATEGORY[DifficultyCategory.IDLE]!, 'minorId', support.startedOn, 'idle-minor support');
}

/** Youth League writes, for YOUTH_LEAGUE officers; validated first, one transaction each, NOT_FOUND outside the jurisdiction. */
@Resolver()
export class YouthLeagueMutationResolver {
  @Mutation(() => PreventionCase, { nullable: true })
  createPreventionCase(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => PreventionCaseInput) input: PreventionCaseInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, PreventionCase, minorId, { ...validPreventionCase(input, ctx.now), lastFollowUpOn: null }, { day: 'openedOn' });
  }

  @Mutation(() => PreventionCase, { nullable: true, description: 'Replaces the case’s fields; follow-ups stay' })
  updatePreventionCase(@Arg('id', () => ID) id: string, @Arg('input', () => PreventionCaseInput) input: PreventionCaseInput, @Ctx() ctx: HubContext) {
    const fields = validPreventionCase(input, ctx.now);
    return ctx.db.transaction(async (em) => {
      const found = await lockRecord(em, ctx, PreventionCase, id, 'PreventionCase');
      await requireBorn(em, ctx, found.minorId, 'openedOn', fields.openedOn);
      // recordMisbehaviourFollowUp refuses a follow-up before the case opened; a correction may not
      // move the opening after any follow-up already recorded either — the latest (lastFollowUpOn) is not the bound.
      const { first } = await subRecordDays(em, MisbehaviourFollowUp, 'followedUpOn', 'caseId', found.id);
      if (first && fields.openedOn > first) refuseStating(ctx, found.minorId, 'MisbehaviourFollowUp.followedUpOn', 'openedOn', `must not be after the case’s first follow-up (${first})`);
      // Nor after lastFollowUpOn when its follow-ups are gone (removed past the API): the table's
      // CHECK would refuse it as an internal error.
      if (found.lastFollowUpOn && fields.openedOn > found.lastFollowUpOn) refuseStating(ctx, found.minorId, 'PreventionCase.lastFollowUpOn', 'openedOn', 'must not be after the case’s latest follow-up');
      return writeFields(em, ctx, PreventionCase, found, fields);
    });
  }

  @Mutation(() => MisbehaviourFollowUp, { nullable: true, description: '跟踪帮教: records a follow-up on an open case' })
  async recordMisbehaviourFollowUp(@Arg('caseId', () => ID) caseId: string, @Arg('input', () => MisbehaviourFollowUpInput) input: MisbehaviourFollowUpInput, @Ctx() ctx: HubContext) {
    const fields = validFollowUp(input, ctx.now);
    let movedOn: PreventionCase | null = null;
    const recorded = await ctx.db.transaction(async (em) => {
      const found = await lockRecord(em, ctx, PreventionCase, caseId, 'PreventionCase');
      if (found.status === PreventionCaseStatus.CLOSED) refuseStating(ctx, found.minorId, 'PreventionCase.status', 'caseId', 'the case is closed');
      if (fields.followedUpOn < found.openedOn) refuseStating(ctx, found.minorId, 'PreventionCase.openedOn', 'followedUpOn', 'must not be before the case opened');
      const followUp = em.getRepository(MisbehaviourFollowUp).create({ ...fields, id: randomUUID(), caseId: found.id, minorId: found.minorId });
      await em.getRepository(MisbehaviourFollowUp).insert(followUp);
      // The case keeps its latest follow-up for overdue lists; a late-entered older one changes nothing.
      if (!found.lastFollowUpOn || fields.followedUpOn > found.lastFollowUpOn) {
        await em.getRepository(PreventionCase).update(found.id, { lastFollowUpOn: fields.followedUpOn });
        movedOn = found;
      }
      return followUp;
    });
    if (movedOn) parentChanged(ctx, 'recordMisbehaviourFollowUp', movedOn, ['lastFollowUpOn']);
    return recorded;
  }

  @Mutation(() => IdleSupport, { nullable: true })
  createIdleSupport(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => IdleSupportInput) input: IdleSupportInput, @Ctx() ctx: HubContext) {
    const fields = validIdleSupport(input, ctx.now);
    return createRecord(ctx, IdleSupport, minorId, fields, { day: 'startedOn', check: (em, child) => oldEnoughFor(em, ctx, child, fields) });
  }

  @Mutation(() => IdleSupport, { nullable: true })
  updateIdleSupport(@Arg('id', () => ID) id: string, @Arg('input', () => IdleSupportInput) input: IdleSupportInput, @Ctx() ctx: HubContext) {
    const fields = validIdleSupport(input, ctx.now);
    return updateRecord(ctx, IdleSupport, id, 'IdleSupport', fields, { day: 'startedOn', check: (em, found) => oldEnoughFor(em, ctx, found.minorId, fields) });
  }

  @Mutation(() => VolunteerVisit, { nullable: true })
  createVolunteerVisit(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => VolunteerVisitInput) input: VolunteerVisitInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, VolunteerVisit, minorId, validVolunteerVisit(input, ctx.now), { day: 'visitedOn' });
  }

  @Mutation(() => VolunteerVisit, { nullable: true })
  updateVolunteerVisit(@Arg('id', () => ID) id: string, @Arg('input', () => VolunteerVisitInput) input: VolunteerVisitInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, VolunteerVisit, id, 'VolunteerVisit', validVolunteerVisit(input, ctx.now), { day: 'visitedOn' });
  }
}
