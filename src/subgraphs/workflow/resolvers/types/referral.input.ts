import { Field, ID, InputType } from 'type-graphql';
import { ReferralType } from '../../workflow.enums';

@InputType({ description: '转介: hand a child’s need to another department' })
export class CreateReferralInput {
  @Field(() => ID, { description: 'A child in the referrer’s jurisdiction' })
  minorId: string;

  @Field(() => ReferralType)
  type: ReferralType;

  @Field(() => String, { description: 'The receiving department (CIVIL_AFFAIRS, EDUCATION, POLICE, JUSTICE, YOUTH_LEAGUE, WOMENS_FEDERATION)' })
  toDepartment: string;

  @Field({ description: 'The need, in words' })
  need: string;
}
