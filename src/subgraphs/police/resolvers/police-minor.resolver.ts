import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { GuardianAdmonishment } from '../entities/guardian-admonishment.entity';
import { IdentityVerification } from '../entities/identity-verification.entity';
import { PoliceMinor } from '../entities/minor.stub';
import { PoliceIncident } from '../entities/police-incident.entity';
import { ProtectionCaseStatus } from '../entities/protection-case-status.type';
import { policeLoaders } from '../police.loaders';

/** The police records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => PoliceMinor)
export class PoliceMinorResolver {
  @FieldResolver(() => [PoliceIncident], { nullable: true, description: '警情, newest first' })
  policeIncidents(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext): Promise<PoliceIncident[]> {
    return policeLoaders(ctx).incidentsByMinor.load(minor.id);
  }

  @FieldResolver(() => ProtectionCaseStatus, { nullable: true, description: 'Whether police have an open case protecting the child, and the contact unit' })
  policeProtectionCase(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext): Promise<ProtectionCaseStatus> {
    return policeLoaders(ctx).protectionCaseByMinor.load(minor.id);
  }

  @FieldResolver(() => [GuardianAdmonishment], { nullable: true, description: '训诫 of the child’s guardians, newest first' })
  guardianAdmonishments(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext): Promise<GuardianAdmonishment[]> {
    return policeLoaders(ctx).admonishmentsByMinor.load(minor.id);
  }

  @FieldResolver(() => [IdentityVerification], { nullable: true, description: '身份比对 and 户籍 facts, newest first' })
  identityVerifications(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext): Promise<IdentityVerification[]> {
    return policeLoaders(ctx).verificationsByMinor.load(minor.id);
  }
}
