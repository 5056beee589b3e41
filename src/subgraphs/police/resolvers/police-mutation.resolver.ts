import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { createRecord, updateRecord } from '../../shared/record-writes';
import { GuardianAdmonishment } from '../entities/guardian-admonishment.entity';
import { IdentityVerification } from '../entities/identity-verification.entity';
import { PoliceIncident } from '../entities/police-incident.entity';
import { validAdmonishment, validIncident, validVerification } from '../police.validation';
import { GuardianAdmonishmentInput, IdentityVerificationInput, PoliceIncidentInput } from './types/police.input';

/** Police writes, for POLICE officers; validated first, one transaction each, NOT_FOUND outside the jurisdiction. */
@Resolver()
export class PoliceMutationResolver {
  @Mutation(() => PoliceIncident, { nullable: true })
  createPoliceIncident(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => PoliceIncidentInput) input: PoliceIncidentInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, PoliceIncident, minorId, validIncident(input, ctx.now), { day: 'occurredOn' });
  }

  @Mutation(() => PoliceIncident, { nullable: true })
  updatePoliceIncident(@Arg('id', () => ID) id: string, @Arg('input', () => PoliceIncidentInput) input: PoliceIncidentInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, PoliceIncident, id, 'PoliceIncident', validIncident(input, ctx.now), { day: 'occurredOn' });
  }

  @Mutation(() => GuardianAdmonishment, { nullable: true })
  createGuardianAdmonishment(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => GuardianAdmonishmentInput) input: GuardianAdmonishmentInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, GuardianAdmonishment, minorId, validAdmonishment(input, ctx.now), { day: 'admonishedOn' });
  }

  @Mutation(() => GuardianAdmonishment, { nullable: true })
  updateGuardianAdmonishment(@Arg('id', () => ID) id: string, @Arg('input', () => GuardianAdmonishmentInput) input: GuardianAdmonishmentInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, GuardianAdmonishment, id, 'GuardianAdmonishment', validAdmonishment(input, ctx.now), { day: 'admonishedOn' });
  }

  @Mutation(() => IdentityVerification, { nullable: true })
  createIdentityVerification(@Arg('minorId', () => ID) minorId: string, @Arg('input', () => IdentityVerificationInput) input: IdentityVerificationInput, @Ctx() ctx: HubContext) {
    return createRecord(ctx, IdentityVerification, minorId, validVerification(input, ctx.now), { day: 'verifiedOn' });
  }

  @Mutation(() => IdentityVerification, { nullable: true })
  updateIdentityVerification(@Arg('id', () => ID) id: string, @Arg('input', () => IdentityVerificationInput) input: IdentityVerificationInput, @Ctx() ctx: HubContext) {
    return updateRecord(ctx, IdentityVerification, id, 'IdentityVerification', validVerification(input, ctx.now), { day: 'verifiedOn' });
  }
}
