import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { WomensFederationMinor } from './minor.stub';

@ObjectType({ description: '家庭教育指导 — a family-education guidance session with the child’s guardian' })
@Entity({ schema: 'womens_federation', name: 'family_education_session' })
export class FamilyEducationSession extends ChildRecord {
  @Field(() => WomensFederationMinor, { nullable: true })
  get minor(): WomensFederationMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'held_on' })
  heldOn: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  topic: string;

  @Field(() => String, { nullable: true, description: 'Who attended, e.g. 母亲, 祖母' })
  @Column({ type: 'text' })
  attendee: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  instructor: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  notes: string | null;
}
