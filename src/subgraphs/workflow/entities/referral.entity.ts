import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Department } from '../../../auth/principal';
import { ReferralStatus, ReferralType } from '../workflow.enums';

/**
 * 转介 — a child's need handed from one department to another. While open (PENDING or ACCEPTED)
 * it is also a field grant: the receiving department may read the fields `referralGrants`
 * declares for its type, for this child, under purpose REFERRAL naming this id.
 */
@ObjectType({ description: '转介 — a referral of a child’s need to another department' })
@Entity({ schema: 'workflow', name: 'referral' })
export class Referral {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'minor_id' })
  minorId: string;

  @Field(() => ReferralType, { nullable: true })
  @Column({ type: 'text' })
  type: ReferralType;

  @Field(() => String, { nullable: true, description: 'The need, in the referrer’s words' })
  @Column({ type: 'text' })
  need: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'from_department' })
  fromDepartment: Department;

  @Field(() => String, { nullable: true, description: 'User id of the referring officer' })
  @Column({ type: 'text', name: 'from_user' })
  fromUser: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'to_department' })
  toDepartment: Department;

  @Field(() => String, { nullable: true, description: 'Region the referral is addressed to (the referrer’s; 同级共享)' })
  @Column({ type: 'varchar', length: 15, name: 'region_code' })
  regionCode: string;

  @Field(() => ReferralStatus, { nullable: true })
  @Column({ type: 'text' })
  status: ReferralStatus;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'Accept or decline by then' })
  @Column({ type: 'timestamptz', name: 'answer_due_at' })
  answerDueAt: Date;

  @Field(() => Date, { nullable: true, description: 'Once accepted: complete by then' })
  @Column({ type: 'timestamptz', name: 'complete_due_at', nullable: true })
  completeDueAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'answered_at', nullable: true })
  answeredAt: Date | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'answered_by', nullable: true })
  answeredBy: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was accepted or declined' })
  @Column({ type: 'text', name: 'answer_reason', nullable: true })
  answerReason: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt: Date | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'completed_by', nullable: true })
  completedBy: string | null;

  @Field(() => String, { nullable: true, description: 'What was done; flows back to the referrer' })
  @Column({ type: 'text', nullable: true })
  outcome: string | null;

  @Field(() => Date, { nullable: true, description: 'When the grant ended (declined or completed)' })
  @Column({ type: 'timestamptz', name: 'closed_at', nullable: true })
  closedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'escalated_at', nullable: true })
  escalatedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'CIVIL_AFFAIRS region it was escalated to (one level up)' })
  @Column({ type: 'varchar', length: 15, name: 'escalation_region', nullable: true })
  escalationRegion: string | null;
}
