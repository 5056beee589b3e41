import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { createRecord, updateRecord } from '../../shared/record-writes';
import { CommunityCorrection } from '../entities/community-correction.entity';
import { IncarceratedParent } from '../entities/incarcerated-parent.entity';
import { LegalAidCase } from '../entities/legal-aid-case.entity';
import { validCorrection, validIncarceratedParent, validLegalAid } from '../justice.validation';
import { CommunityCorrectionInput, IncarceratedParentInput, LegalAidCaseInput } from './types/justice.input';

/** Justice writes, for JUSTICE officers; validated first, one transaction each, NOT_FOUND outside the jurisdiction. */
@Resolver()
export class JusticeMutationResolver {
  @Mutation(() => IncarceratedParent, { nullable: true })
  createIncarceratedParent(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => IncarceratedParentInput) input: IncarceratedParentInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, IncarceratedParent, minorId, validIncarceratedParent(input, ctx.now));
  }

  @Mutation(() => IncarceratedParent, { nullable: true })
  updateIncarceratedParent(@Arg('id', () => ID) id: string, @Arg('input', () => IncarceratedParentInput) input: IncarceratedParentInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, IncarceratedParent, id, 'IncarceratedParent', validIncarceratedParent(input, ctx.now));
  }

  @Mutation(() => CommunityCorrection, { nullable: true })
  createCommunityCorrection(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => CommunityCorrectionInput) input: CommunityCorrectionInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, CommunityCorrection, minorId, validCorrection(input, ctx.now));
  }

  @Mutation(() => CommunityCorrection, { nullable: true })
  updateCommunityCorrection(@Arg('id', () => ID) id: string, @Arg('input', () => CommunityCorrectionInput) input: CommunityCorrectionInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, CommunityCorrection, id, 'CommunityCorrection', validCorrection(input, ctx.now));
  }

  @Mutation(() => LegalAidCase, { nullable: true })
  createLegalAidCase(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => LegalAidCaseInput) input: LegalAidCaseInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, LegalAidCase, minorId, validLegalAid(input, ctx.now));
  }

  @Mutation(() => LegalAidCase, { nullable: true })
  updateLegalAidCase(@Arg('id', () => ID) id: string, @Arg('input', () => LegalAidCaseInput) input: LegalAidCaseInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, LegalAidCase, id, 'LegalAidCase', validLegalAid(input, ctx.now));
  }
}
