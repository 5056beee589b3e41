import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';

/** Carries its case's `minorId` (kept consistent by a composite foreign key) so that reads are audited per child. */
@ObjectType({ description: 'One follow-up (跟踪帮教) on a prevention case' })
@Entity({ schema: 'youth_league', name: 'follow_up' })
export class MisbehaviourFollowUp extends ChildRecord {
  @Column({ type: 'uuid', name: 'case_id' })
  caseId: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'followed_up_on' })
  followedUpOn: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  note: string;
}
