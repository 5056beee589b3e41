import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { HouseholdStatus, VerificationResult } from '../police.enums';
import { PoliceMinor } from './minor.stub';

@ObjectType({ description: '身份比对 — identity verification against the population register, with the household-registration (户籍) facts found' })
@Entity({ schema: 'police', name: 'identity_verification' })
export class IdentityVerification extends ChildRecord {
  @Field(() => PoliceMinor, { nullable: true })
  get minor(): PoliceMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'verified_on' })
  verifiedOn: string;

  @Field(() => VerificationResult, { nullable: true })
  @Column({ type: 'text' })
  result: VerificationResult;

  @Field(() => HouseholdStatus, { nullable: true })
  @Column({ type: 'text', name: 'household_status' })
  householdStatus: HouseholdStatus;

  @Field(() => String, { nullable: true, description: '户籍地 as registered; null when unregistered' })
  @Column({ type: 'text', name: 'household_place', nullable: true })
  householdPlace: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  note: string | null;
}
