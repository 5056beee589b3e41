import { Field, ID, InputType } from 'type-graphql';
import { Gender, GuardianRelationship, GuardianSituation, RiskLevel } from '../../registry.enums';

@InputType()
export class CreateMinorInput {
  @Field()
  name: string;

  @Field(() => String, { description: '18 characters, ISO 7064 MOD 11-2 check digit' })
  idNumber: string;

  @Field(() => Gender, { nullable: true, description: 'Defaults to the gender encoded in the ID number; must agree with it' })
  gender?: Gender;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; must agree with the ID number' })
  birthDate?: string;

  @Field()
  householdRegistration: string;

  @Field()
  currentAddress: string;

  @Field(() => ID, { description: 'The grid (网格) the child lives in, inside the caller’s jurisdiction' })
  gridCode: string;

  @Field(() => String, { nullable: true })
  school?: string;
}

// A child always has a name, addresses and a grid, so null leaves them as they are; a school is the
// one value a child may cease to have (left school, not yet enrolled), so null or empty clears it.
@InputType()
export class UpdateMinorInput {
  @Field(() => String, { nullable: true, description: 'Left as it is when null or left out' })
  name?: string;

  @Field(() => String, { nullable: true, description: 'Left as it is when null or left out' })
  currentAddress?: string;

  @Field(() => String, { nullable: true, description: 'Left as it is when null or left out' })
  householdRegistration?: string;

  @Field(() => ID, { nullable: true, description: 'The grid the child moves to; left as it is when null or left out' })
  gridCode?: string;

  @Field(() => String, { nullable: true, description: 'Left as it is when left out; null or empty clears it (no school)' })
  school?: string;
}

@InputType()
export class GuardianInput {
  @Field(() => GuardianRelationship)
  relationship: GuardianRelationship;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  phone?: string;

  @Field(() => String, { nullable: true })
  address?: string;

  // Non-null with a default: left out it is NORMAL; an explicit null is refused by validation.
  @Field(() => GuardianSituation, { defaultValue: GuardianSituation.NORMAL })
  situation: GuardianSituation;

  @Field(() => String, { nullable: true })
  situationNote?: string;
}

@InputType()
export class AssessmentInput {
  @Field(() => RiskLevel)
  level: RiskLevel;

  @Field()
  reasons: string;

  @Field(() => Date, { nullable: true, description: 'Defaults to now (just after the child’s latest assessment, should that be later); not in the future; to the millisecond at most' })
  assessedAt?: Date;
}

@InputType()
export class VisitInput {
  @Field(() => Date, { nullable: true, description: 'Defaults to now (just after the child’s latest visit, should that be later); not in the future; to the millisecond at most' })
  visitedAt?: Date;

  @Field()
  notes: string;
}
