import { Field, InputType, Int } from 'type-graphql';
import { AdmonishedGuardian, HouseholdStatus, IncidentStatus, IncidentType, VerificationResult } from '../../police.enums';

/** Dates are YYYY-MM-DD. Update mutations take the same input and replace every field. */
@InputType()
export class PoliceIncidentInput {
  @Field(() => IncidentType)
  type: IncidentType;

  @Field(() => String, { description: 'Not in the future' })
  occurredOn: string;

  @Field(() => IncidentStatus)
  status: IncidentStatus;

  @Field()
  handlingUnit: string;

  @Field()
  narrative: string;
}

@InputType()
export class GuardianAdmonishmentInput {
  @Field(() => AdmonishedGuardian)
  guardian: AdmonishedGuardian;

  @Field(() => String, { description: 'Not in the future' })
  admonishedOn: string;

  @Field()
  issuingUnit: string;

  @Field()
  reason: string;
}

@InputType()
export class IdentityVerificationInput {
  @Field(() => String, { description: 'Not in the future' })
  verifiedOn: string;

  @Field(() => VerificationResult)
  result: VerificationResult;

  @Field(() => HouseholdStatus)
  householdStatus: HouseholdStatus;

  @Field(() => String, { nullable: true, description: 'Required unless UNREGISTERED, absent when UNREGISTERED' })
  householdPlace?: string;

  @Field(() => String, { nullable: true })
  note?: string;
}

@InputType({ description: 'Every argument needs read access to the field it filters on (else FORBIDDEN).' })
export class PoliceIncidentFilter {
  @Field(() => Int, { nullable: true, description: 'Occurred in the last N days (1–366), today included' })
  occurredWithinDays?: number;

  @Field(() => [IncidentType], { nullable: true })
  types?: IncidentType[];

  @Field(() => [IncidentStatus], { nullable: true })
  statuses?: IncidentStatus[];
}
