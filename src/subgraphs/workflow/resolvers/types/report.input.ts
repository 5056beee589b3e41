import { Field, ID, InputType } from 'type-graphql';
import { HarmType, ReportUrgency } from '../../workflow.enums';

@InputType({ description: '强制报告: what a reporter files. The child is optional: an id, an ID number or a description.' })
export class FileReportInput {
  @Field(() => HarmType)
  harmType: HarmType;

  @Field({ description: 'What was observed' })
  observation: string;

  @Field(() => Date, { nullable: true, description: 'When; defaults to now, not in the future nor before the earliest birth of a child today; to the millisecond at most' })
  observedAt?: Date;

  @Field({ description: 'Where, in words' })
  location: string;

  @Field(() => ID, { description: 'Region code of the place (grid, community, street or district)' })
  regionCode: string;

  @Field(() => ReportUrgency)
  urgency: ReportUrgency;

  @Field(() => String, { nullable: true, description: 'The reporting unit (school, hospital, hotel …)' })
  reporterUnit?: string;

  @Field(() => ID, { nullable: true, description: 'Registry id of the child, if known; with `childIdNumber`, both must name the same child to link it' })
  childId?: string;

  @Field(() => String, { nullable: true, description: '公民身份号码 of the child, if known' })
  childIdNumber?: string;

  @Field(() => String, { nullable: true, description: 'Description of the child otherwise' })
  childDescription?: string;
}
