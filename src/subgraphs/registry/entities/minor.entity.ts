import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Gender, RiskLevel } from '../registry.enums';

/**
 * 未成年人基本信息档案. Every field but the key is nullable in the schema because the policy
 * may DENY it: a denied field answers null with a FORBIDDEN error on its path.
 */
@Directive('@key(fields: "id")')
@ObjectType({ description: '未成年人 — a minor in the registry' })
@Entity({ schema: 'registry', name: 'minor' })
export class Minor {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  name: string;

  @Field(() => Gender, { nullable: true })
  @Column({ type: 'text' })
  gender: Gender;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'birth_date' })
  birthDate: string;

  @Field(() => String, { nullable: true, description: '公民身份号码' })
  @Column({ type: 'char', length: 18, name: 'id_number' })
  idNumber: string;

  @Field(() => String, { nullable: true, description: '户籍地' })
  @Column({ type: 'text', name: 'household_registration' })
  householdRegistration: string;

  @Field(() => String, { nullable: true, description: '现住址' })
  @Column({ type: 'text', name: 'current_address' })
  currentAddress: string;

  @Column({ type: 'varchar', length: 15, name: 'grid_code' })
  gridCode: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  school: string | null;

  /** Level of the latest assessment, kept on the row so lists filter and sort on an index. */
  @Field(() => RiskLevel, { nullable: true })
  @Column({ type: 'text', name: 'risk_level', nullable: true })
  riskLevel: RiskLevel | null;

  @Field(() => Date, { nullable: true, description: 'When the next visit is due (分级保护)' })
  @Column({ type: 'timestamptz', name: 'next_visit_due', nullable: true })
  nextVisitDue: Date | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
