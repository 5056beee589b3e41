import { Field, InputType, Int } from 'type-graphql';
import { BullyingCaseStatus, BullyingRole, BullyingSeverity, DropoutOutcome, DropoutStatus, EducationAidKind, EnrollmentStatus, PersuasionMethod } from '../../education.enums';

/** Dates are YYYY-MM-DD. Update mutations take the same input and replace every field. */
@InputType()
export class SchoolEnrollmentInput {
  @Field()
  school: string;

  @Field(() => Int)
  grade: number;

  @Field(() => EnrollmentStatus)
  status: EnrollmentStatus;

  @Field(() => String, { description: 'Not in the future; the child at least 5 then' })
  enrolledOn: string;
}

@InputType({ description: 'The facts of the report; it is closed by a persuasion action with an outcome' })
export class DropoutReportInput {
  @Field()
  school: string;

  @Field(() => String, { description: 'Not in the future; the child at least 6 then (school age)' })
  reportedOn: string;

  @Field(() => Int)
  daysAbsent: number;
}

@InputType()
export class PersuasionActionInput {
  @Field(() => String, { description: 'Not in the future, not before the report' })
  actedOn: string;

  @Field(() => PersuasionMethod)
  method: PersuasionMethod;

  @Field()
  actor: string;

  @Field()
  note: string;

  @Field(() => DropoutOutcome, { nullable: true, description: 'Given when this action ends the case: the report closes on `actedOn`' })
  outcome?: DropoutOutcome;
}

@InputType()
export class BullyingCaseInput {
  @Field()
  school: string;

  @Field(() => String, { description: 'Not in the future' })
  occurredOn: string;

  @Field(() => BullyingRole)
  role: BullyingRole;

  @Field(() => BullyingSeverity)
  severity: BullyingSeverity;

  @Field(() => BullyingCaseStatus)
  status: BullyingCaseStatus;

  @Field()
  description: string;
}

@InputType()
export class EducationAidInput {
  @Field(() => EducationAidKind)
  kind: EducationAidKind;

  @Field(() => Int, { description: 'Whole yuan, 1–100000' })
  amountYuan: number;

  @Field(() => String, { description: 'Not in the future' })
  grantedOn: string;

  @Field(() => String, { description: '学年 as YYYY-YYYY, consecutive years' })
  schoolYear: string;
}

@InputType({ description: 'Every argument needs read access to the field it filters on (else FORBIDDEN).' })
export class DropoutReportFilter {
  @Field(() => String, { nullable: true, description: 'Exact school name' })
  school?: string;

  @Field(() => [DropoutStatus], { nullable: true })
  statuses?: DropoutStatus[];
}
