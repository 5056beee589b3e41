import { Field, ID, ObjectType } from 'type-graphql';
import { ReportStatus } from '../../workflow.enums';

/** All a reporter reads back: that the report exists and where it stands. */
@ObjectType({ description: 'What a reporter may know of a report they filed: its status' })
export class ReportReceipt {
  @Field(() => ID)
  id: string;

  @Field(() => ReportStatus)
  status: ReportStatus;

  @Field(() => Date)
  receivedAt: Date;
}
