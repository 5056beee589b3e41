import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { AdmonishedGuardian } from '../police.enums';
import { PoliceMinor } from './minor.stub';

@ObjectType({ description: '训诫 — a guardian admonished for failing the duty of guardianship' })
@Entity({ schema: 'police', name: 'guardian_admonishment' })
export class GuardianAdmonishment extends ChildRecord {
  @Field(() => PoliceMinor, { nullable: true })
  get minor(): PoliceMinor {
    return { id: this.minorId };
  }

  @Field(() => AdmonishedGuardian, { nullable: true })
  @Column({ type: 'text' })
  guardian: AdmonishedGuardian;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'admonished_on' })
  admonishedOn: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'issuing_unit' })
  issuingUnit: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  reason: string;
}
