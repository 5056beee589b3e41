import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { HistoryAfter, HistoryFirst, historyOf } from '../../shared/history-page';
import { GuardianAdmonishment } from '../entities/guardian-admonishment.entity';
import { IdentityVerification } from '../entities/identity-verification.entity';
import { PoliceMinor } from '../entities/minor.stub';
import { PoliceIncident } from '../entities/police-incident.entity';
import { ProtectionCaseStatus } from '../entities/protection-case-status.type';
import { policeLoaders } from '../police.loaders';

/** The police records on a child; empty for a child outside the jurisdiction, as for one without records. */
@Resolver(() => PoliceMinor)
export class PoliceMinorResolver {
  @FieldResolver(() => [PoliceIncident], { nullable: true, description: historyOf('警情') })
  policeIncidents(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<PoliceIncident[]> {
    return policeLoaders(ctx).incidentsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => ProtectionCaseStatus, { nullable: true, description: 'Whether police have an open case protecting the child, and the contact unit' })
  policeProtectionCase(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext): Promise<ProtectionCaseStatus> {
    return policeLoaders(ctx).protectionCaseByMinor.load(minor.id);
  }

  @FieldResolver(() => [GuardianAdmonishment], { nullable: true, description: historyOf('训诫 of the child’s guardians') })
  guardianAdmonishments(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<GuardianAdmonishment[]> {
    return policeLoaders(ctx).admonishmentsByMinor(first, after).load(minor.id);
  }

  @FieldResolver(() => [IdentityVerification], { nullable: true, description: historyOf('身份比对 and 户籍 facts') })
  identityVerifications(@Root() minor: PoliceMinor, @Ctx() ctx: HubContext, @HistoryFirst() first: number, @HistoryAfter() after: string | null): Promise<IdentityVerification[]> {
    return policeLoaders(ctx).verificationsByMinor(first, after).load(minor.id);
  }
}
