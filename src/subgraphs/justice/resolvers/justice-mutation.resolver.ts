import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { CRIMINAL_RESPONSIBILITY_AGE } from '../../../common/validation';
import type { HubContext } from '../../../server/hub.context';
import { createRecord, requireOldEnough, updateRecord } from '../../shared/record-writes';
import { CommunityCorrection } from '../entities/community-correction.entity';
import { IncarceratedParent } from '../entities/incarcerated-parent.entity';
import { LegalAidCase } from '../entities/legal-aid-case.entity';
import { validCorrection, validIncarceratedParent, validLegalAid } from '../justice.validation';
import { CommunityCorrectionInput, IncarceratedParentInput, LegalAidCaseInput } from './types/justice.input';

/** A community correction (社区矫正) follows a sentence, and no child under 12 is sentenced (刑法 art. 17). */
const oldEnoughToBeSentenced = (em: EntityManager, ctx: HubContext, minorId: string, startedOn: string) =>
  requireOldEnough(em, ctx, minorId, CRIMINAL_RESPONSIBILITY_AGE, 'minorId', startedOn, 'a community correction');

/** Justice writes, for JUSTICE officers; validated first, one transaction each, NOT_FOUND outside the jurisdiction. */
@Resolver()
export class JusticeMutationResolver {
  @Mutation(() => IncarceratedParent, { nullable: true })
  createIncarceratedParent(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => IncarceratedParentInput) input: IncarceratedParentInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, IncarceratedParent, minorId, validIncarceratedParent(input, ctx.now), { day: null });
  }

  @Mutation(() => IncarceratedParent, { nullable: true })
  updateIncarceratedParent(@Arg('id', () => ID) id: string, @Arg('input', () => IncarceratedParentInput) input: IncarceratedParentInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, IncarceratedParent, id, 'IncarceratedParent', validIncarceratedParent(input, ctx.now), { day: null });
  }

  @Mutation(() => CommunityCorrection, { nullable: true })
  createCommunityCorrection(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => CommunityCorrectionInput) input: CommunityCorrectionInput, @Ctx() ctx: HubContext) {
    const fields = validCorrection(input, ctx.now);
    return createRecord(ctx, CommunityCorrection, minorId, fields, { day: 'startedOn', check: (em, child) => oldEnoughToBeSentenced(em, ctx, child, fields.startedOn) });
  }

  @Mutation(() => CommunityCorrection, { nullable: true })
  updateCommunityCorrection(@Arg('id', () => ID) id: string, @Arg('input', () => CommunityCorrectionInput) input: CommunityCorrectionInput, @Ctx() ctx: HubContext) {
    const fields = validCorrection(input, ctx.now);
    return updateRecord(ctx, CommunityCorrection, id, 'CommunityCorrection', fields, { day: 'startedOn', check: (em, found) => oldEnoughToBeSentenced(em, ctx, found.minorId, fields.startedOn) });
  }

  @Mutation(() => LegalAidCase, { nullable: true })
  createLegalAidCase(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => LegalAidCaseInput) input: LegalAidCaseInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, LegalAidCase, minorId, validLegalAid(input, ctx.now), { day: 'openedOn' });
  }

  @Mutation(() => LegalAidCase, { nullable: true })
  updateLegalAidCase(@Arg('id', () => ID) id: string, @Arg('input', () => LegalAidCaseInput) input: LegalAidCaseInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, LegalAidCase, id, 'LegalAidCase', validLegalAid(input, ctx.now), { day: 'openedOn' });
  }
}
