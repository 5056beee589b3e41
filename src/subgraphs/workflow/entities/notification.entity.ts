import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Department } from '../../../auth/principal';
import type { Access } from '../../../policy/policy.types';
import { NotificationKind } from '../workflow.enums';

/**
 * 信息通报 — one event told to one department with jurisdiction over `regionCode`. The payload
 * was computed for that department when the event happened: only fields its officers may read,
 * masked where the policy masks them.
 */
@ObjectType({ description: '信息通报 — an event told to a department, to acknowledge' })
@Entity({ schema: 'workflow', name: 'notification' })
export class Notification {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Field(() => NotificationKind, { nullable: true })
  @Column({ type: 'text' })
  kind: NotificationKind;

  @Field(() => String, { nullable: true, description: 'The recipient department' })
  @Column({ type: 'text' })
  department: Department;

  @Field(() => String, { nullable: true, description: 'Officers of the department whose jurisdiction covers this region receive it' })
  @Column({ type: 'varchar', length: 15, name: 'region_code' })
  regionCode: string;

  @Column({ type: 'uuid', name: 'minor_id', nullable: true })
  minorId: string | null;

  @Field(() => ID, { nullable: true, description: 'The report, referral or assessment the event is about' })
  @Column({ type: 'uuid', name: 'subject_id', nullable: true })
  subjectId: string | null;

  /** `Type.field` → value, already filtered and masked for the recipient. */
  @Column({ type: 'jsonb' })
  payload: Record<string, string>;

  /** `Type.field` → ALLOW or MASK: how each field of `payload` was built; null for one told before this was kept (servedPayload). */
  @Column({ type: 'jsonb', name: 'payload_access', nullable: true })
  payloadAccess: Record<string, Access> | null;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'acknowledged_at', nullable: true })
  acknowledgedAt: Date | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'acknowledged_by', nullable: true })
  acknowledgedBy: string | null;

  @Field(() => Date, { nullable: true, description: 'When an unacknowledged RED notification was escalated' })
  @Column({ type: 'timestamptz', name: 'escalated_at', nullable: true })
  escalatedAt: Date | null;

  /** Makes emitting idempotent: the same event is told once per department. */
  @Column({ type: 'text', name: 'dedupe_key', nullable: true })
  dedupeKey: string | null;
}

@ObjectType({ description: 'One field of a notification’s payload, as the recipient may read it' })
export class NotificationField {
  @Field({ description: '`Type.field` of the policy table' })
  field: string;

  @Field(() => String, { nullable: true })
  value: string | null;
}
