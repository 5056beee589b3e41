import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { RiskLevel } from '../registry.enums';

@ObjectType({ description: '风险评估 (分级)' })
@Entity({ schema: 'registry', name: 'risk_assessment' })
export class RiskAssessment {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'minor_id' })
  minorId: string;

  @Field(() => RiskLevel, { nullable: true })
  @Column({ type: 'text' })
  level: RiskLevel;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  reasons: string;

  @Field(() => String, { nullable: true, description: 'User id of the assessor' })
  @Column({ type: 'text' })
  assessor: string;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'assessed_at' })
  assessedAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'next_visit_due' })
  nextVisitDue: Date;

  /** When it was recorded (its date may be back-dated); null for one recorded before migration 1795403300000 or seeded. */
  @Column({ type: 'timestamptz', name: 'recorded_at', nullable: true })
  recordedAt: Date | null;
}
