import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Department } from '../../../auth/principal';
import { BarringOffence } from '../workflow.enums';

/**
 * 从业限制 — a person barred from work with minors. The ID number is kept only as a keyed hash
 * (HMAC with the audit key), so that the table answers "is this person listed" and nothing lists
 * who is. A bar is never deleted: `removeBarredPerson` revokes it, and the row keeps who revoked it
 * and why.
 */
@ObjectType({ description: '从业限制 — a person barred from work with minors (POLICE and JUSTICE only)' })
@Entity({ schema: 'workflow', name: 'barred_person' })
export class BarredPerson {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'char', length: 64, name: 'id_number_hash' })
  idNumberHash: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  name: string;

  @Field(() => BarringOffence, { nullable: true })
  @Column({ type: 'text' })
  offence: BarringOffence;

  @Field(() => String, { nullable: true, description: 'Judgement or decision the bar rests on' })
  @Column({ type: 'text', name: 'judgement_reference' })
  judgementReference: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; null: for life (终身)' })
  @Column({ type: 'date', name: 'restricted_until', nullable: true })
  restrictedUntil: string | null;

  @Field(() => String, { nullable: true, description: 'User id of the officer who listed it' })
  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @Field(() => String, { nullable: true, description: 'That officer’s department (null: listed before the hub recorded it)' })
  @Column({ type: 'text', name: 'created_by_department', nullable: true })
  createdByDepartment: Department | null;

  @Field(() => String, { nullable: true, description: 'That officer’s region (区划代码; null: listed before the hub recorded it)' })
  @Column({ type: 'varchar', length: 15, name: 'created_by_region', nullable: true })
  createdByRegion: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the bar was revoked (removeBarredPerson); null: in force' })
  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'User id of the officer who revoked it' })
  @Column({ type: 'text', name: 'revoked_by', nullable: true })
  revokedBy: string | null;

  @Field(() => String, { nullable: true, description: 'That officer’s department' })
  @Column({ type: 'text', name: 'revoked_by_department', nullable: true })
  revokedByDepartment: Department | null;

  @Field(() => String, { nullable: true, description: 'That officer’s region (区划代码)' })
  @Column({ type: 'varchar', length: 15, name: 'revoked_by_region', nullable: true })
  revokedByRegion: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was revoked (e.g. the judgement overturned, and by which decision)' })
  @Column({ type: 'text', name: 'revocation_reason', nullable: true })
  revocationReason: string | null;
}
