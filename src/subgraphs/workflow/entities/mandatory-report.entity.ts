import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Department } from '../../../auth/principal';
import { HarmType, ReportStatus, ReportUrgency } from '../workflow.enums';

/**
 * 强制报告 — a mandatory report, routed at once to POLICE and CIVIL_AFFAIRS with jurisdiction over
 * the place (`regionCode`). Fields are nullable in the schema because the policy may DENY them.
 */
@ObjectType({ description: '强制报告 — a mandatory report of a child who suffers or may suffer harm' })
@Entity({ schema: 'workflow', name: 'mandatory_report' })
export class MandatoryReport {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Field(() => String, { nullable: true, description: 'User id of the reporter' })
  @Column({ type: 'text', name: 'reporter_id' })
  reporterId: string;

  @Field(() => String, { nullable: true, description: 'The department whose token filed it: a user id is unique only within its department' })
  @Column({ type: 'text', name: 'reporter_department' })
  reporterDepartment: Department;

  @Field(() => String, { nullable: true, description: 'The reporting unit (school, hospital, hotel …)' })
  @Column({ type: 'text', name: 'reporter_unit', nullable: true })
  reporterUnit: string | null;

  @Field(() => HarmType, { nullable: true })
  @Column({ type: 'text', name: 'harm_type' })
  harmType: HarmType;

  @Field(() => String, { nullable: true, description: 'What was observed' })
  @Column({ type: 'text' })
  observation: string;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'observed_at' })
  observedAt: Date;

  @Field(() => String, { nullable: true, description: 'Where, in words' })
  @Column({ type: 'text' })
  location: string;

  @Field(() => String, { nullable: true, description: 'Region of the place; decides who has jurisdiction' })
  @Column({ type: 'varchar', length: 15, name: 'region_code' })
  regionCode: string;

  /** The registered child the report is about, when known; the audit keys reads on it. */
  @Column({ type: 'uuid', name: 'minor_id', nullable: true })
  minorId: string | null;

  @Field(() => String, { nullable: true, description: 'ID number given by the reporter, when the child is not (yet) in the registry' })
  @Column({ type: 'char', length: 18, name: 'child_id_number', nullable: true })
  childIdNumber: string | null;

  @Field(() => String, { nullable: true, description: 'Description of the child, when neither id nor ID number is known' })
  @Column({ type: 'text', name: 'child_description', nullable: true })
  childDescription: string | null;

  @Field(() => ReportUrgency, { nullable: true })
  @Column({ type: 'text' })
  urgency: ReportUrgency;

  @Field(() => ReportStatus, { nullable: true })
  @Column({ type: 'text' })
  status: ReportStatus;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'received_at' })
  receivedAt: Date;

  @Field(() => Date, { nullable: true, description: 'Verification must have started by then' })
  @Column({ type: 'timestamptz', name: 'verify_due_at' })
  verifyDueAt: Date;

  @Field(() => Date, { nullable: true, description: 'The report must be handled (or found unfounded) by then' })
  @Column({ type: 'timestamptz', name: 'handle_due_at' })
  handleDueAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

  /** When the escalation job took up its lapse of verification (workflow.jobs.ts): a step is never dated before it. */
  @Column({ type: 'timestamptz', name: 'verify_escalated_at', nullable: true })
  verifyEscalatedAt: Date | null;

  /** When the escalation job took up its lapse of handling. */
  @Column({ type: 'timestamptz', name: 'handle_escalated_at', nullable: true })
  handleEscalatedAt: Date | null;
}
