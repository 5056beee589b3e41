import { Field, InputType } from 'type-graphql';
import { BarringOffence } from '../../workflow.enums';

@InputType({ description: 'A candidate of 入职查询, with the candidate’s written authorization' })
export class EmploymentCheckInput {
  @Field({ description: '公民身份号码' })
  idNumber: string;

  @Field()
  name: string;

  @Field({ description: 'Reference of the candidate’s signed authorization (授权书编号)' })
  authorizationReference: string;
}

@InputType({ description: 'A current staff member, for the annual re-screening' })
export class RescreenCandidateInput {
  @Field()
  idNumber: string;

  @Field()
  name: string;
}

@InputType({ description: '从业限制: a person barred from work with minors' })
export class BarredPersonInput {
  @Field({ description: '公民身份号码; stored only as a keyed hash' })
  idNumber: string;

  @Field()
  name: string;

  @Field(() => BarringOffence)
  offence: BarringOffence;

  @Field({ description: 'Judgement or decision the bar rests on' })
  judgementReference: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD, today or later, at most 30 years ahead; omitted: for life (终身)' })
  restrictedUntil?: string;
}
