import { Field, InputType, Int } from 'type-graphql';
import { CorrectionStatus, CustodyKind, CustodyStatus, LegalAidMatter, LegalAidStatus, ParentRole } from '../../justice.enums';

/** Dates are YYYY-MM-DD. Update mutations take the same input and replace every field. */
@InputType()
export class IncarceratedParentInput {
  @Field(() => ParentRole)
  parent: ParentRole;

  @Field(() => CustodyKind)
  kind: CustodyKind;

  @Field()
  institution: string;

  @Field(() => String, { description: 'Not in the future' })
  since: string;

  @Field(() => String, { nullable: true, description: 'Not before `since`' })
  expectedRelease?: string;

  @Field(() => CustodyStatus)
  status: CustodyStatus;
}

@InputType()
export class CommunityCorrectionInput {
  @Field(() => String, { description: 'Not in the future; the child at least 12 then (criminal responsibility)' })
  startedOn: string;

  @Field(() => String, { description: 'After `startedOn`' })
  endsOn: string;

  @Field(() => CorrectionStatus)
  status: CorrectionStatus;

  @Field()
  supervisingOffice: string;

  @Field(() => String, { nullable: true })
  notes?: string;
}

@InputType()
export class LegalAidCaseInput {
  @Field(() => String, { description: 'Not in the future' })
  openedOn: string;

  @Field(() => LegalAidMatter)
  matter: LegalAidMatter;

  @Field(() => LegalAidStatus)
  status: LegalAidStatus;

  @Field()
  provider: string;

  @Field()
  details: string;
}

@InputType({ description: 'Every argument needs read access to the field it filters on (else FORBIDDEN).' })
export class IncarceratedParentFilter {
  @Field(() => Int, { nullable: true, description: 'Expected release from today to N days ahead (1–366): plan the child’s reunion' })
  releaseWithinDays?: number;

  @Field(() => [CustodyStatus], { nullable: true })
  statuses?: CustodyStatus[];
}
