import { Field, InputType } from 'type-graphql';
import { IdleSupportKind, IdleSupportStatus, PreventionCaseStatus, PreventionKind, SeriousMisbehaviour } from '../../youth-league.enums';

/** Dates are YYYY-MM-DD. Update mutations take the same input and replace every field. */
@InputType()
export class PreventionCaseInput {
  @Field(() => PreventionKind)
  kind: PreventionKind;

  @Field(() => SeriousMisbehaviour, { nullable: true, description: 'Required for SERIOUS_MISBEHAVIOUR, absent otherwise' })
  behaviour?: SeriousMisbehaviour;

  @Field(() => String, { description: 'Not in the future' })
  openedOn: string;

  @Field(() => PreventionCaseStatus)
  status: PreventionCaseStatus;

  @Field()
  caseWorker: string;

  @Field()
  measures: string;
}

@InputType()
export class MisbehaviourFollowUpInput {
  @Field(() => String, { description: 'Not in the future, not before the case opened' })
  followedUpOn: string;

  @Field()
  note: string;
}

@InputType()
export class IdleSupportInput {
  @Field(() => IdleSupportKind, { description: 'EMPLOYMENT only for a child 16 or older on `startedOn`' })
  kind: IdleSupportKind;

  @Field(() => String, { description: 'Not in the future; the child at least 6 then (school age)' })
  startedOn: string;

  @Field()
  provider: string;

  @Field(() => IdleSupportStatus)
  status: IdleSupportStatus;

  @Field(() => String, { nullable: true })
  note?: string;
}

@InputType()
export class VolunteerVisitInput {
  @Field(() => String, { description: 'Not in the future' })
  visitedOn: string;

  @Field()
  volunteer: string;

  @Field()
  notes: string;
}

@InputType({ description: 'Every argument needs read access to the field it filters on (else FORBIDDEN).' })
export class PreventionCaseFilter {
  @Field(() => [PreventionKind], { nullable: true })
  kinds?: PreventionKind[];

  @Field(() => [PreventionCaseStatus], { nullable: true })
  statuses?: PreventionCaseStatus[];
}
