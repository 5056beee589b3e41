import { Field, InputType, Int } from 'type-graphql';
import { CarePlanKind, CarePlanStatus, ViolenceSupportKind, ViolenceSupportStatus } from '../../womens-federation.enums';

/** Dates are YYYY-MM-DD. Update mutations take the same input and replace every field. */
@InputType()
export class CarePlanInput {
  @Field(() => CarePlanKind)
  kind: CarePlanKind;

  @Field(() => String, { description: 'Not in the future' })
  startedOn: string;

  @Field(() => CarePlanStatus)
  status: CarePlanStatus;

  @Field()
  caregiver: string;

  @Field()
  measures: string;
}

@InputType()
export class CareVisitInput {
  @Field(() => String, { description: 'Not in the future, not before the plan started' })
  visitedOn: string;

  @Field()
  visitor: string;

  @Field()
  notes: string;
}

@InputType()
export class FamilyEducationSessionInput {
  @Field(() => String, { description: 'Not in the future' })
  heldOn: string;

  @Field()
  topic: string;

  @Field()
  attendee: string;

  @Field()
  instructor: string;

  @Field(() => String, { nullable: true })
  notes?: string;
}

@InputType()
export class DomesticViolenceSupportInput {
  @Field(() => ViolenceSupportKind)
  kind: ViolenceSupportKind;

  @Field(() => String, { description: 'Not in the future' })
  startedOn: string;

  @Field(() => ViolenceSupportStatus)
  status: ViolenceSupportStatus;

  @Field()
  notes: string;
}

@InputType()
export class ChildrenHomeAttendanceInput {
  @Field()
  home: string;

  @Field(() => String, { description: 'Not in the future' })
  attendedOn: string;

  @Field()
  activity: string;
}

@InputType({ description: 'Every argument needs read access to the field it filters on (else FORBIDDEN).' })
export class CarePlanFilter {
  @Field(() => [CarePlanKind], { nullable: true })
  kinds?: CarePlanKind[];

  @Field(() => [CarePlanStatus], { nullable: true })
  statuses?: CarePlanStatus[];

  @Field(() => Int, { nullable: true, description: 'No care visit in the last N days (1–366), today included; never-visited plans count' })
  notVisitedWithinDays?: number;
}
