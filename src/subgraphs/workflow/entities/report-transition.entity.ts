import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Department } from '../../../auth/principal';
import { ReportStatus } from '../workflow.enums';

/** One step of a report's state machine: who, when, why. Append-only. */
@ObjectType({ description: 'A step of a mandatory report: by whom, when, with what note' })
@Entity({ schema: 'workflow', name: 'report_transition' })
export class ReportTransition {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'report_id' })
  reportId: string;

  /** Copied from the report so that reads of the step are audited against the child. */
  @Column({ type: 'uuid', name: 'minor_id', nullable: true })
  minorId: string | null;

  @Field(() => ReportStatus, { nullable: true })
  @Column({ type: 'text', name: 'from_status' })
  fromStatus: ReportStatus;

  @Field(() => ReportStatus, { nullable: true })
  @Column({ type: 'text', name: 'to_status' })
  toStatus: ReportStatus;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'officer_id' })
  officerId: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  department: Department;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  note: string;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz' })
  at: Date;
}
