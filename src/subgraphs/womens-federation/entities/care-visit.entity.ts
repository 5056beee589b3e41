import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';

/** Carries its plan's `minorId` (kept consistent by a composite foreign key) so that reads are audited per child. */
@ObjectType({ description: 'A care visit (关爱走访) under a care plan' })
@Entity({ schema: 'womens_federation', name: 'care_visit' })
export class CareVisit extends ChildRecord {
  @Column({ type: 'uuid', name: 'plan_id' })
  planId: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'visited_on' })
  visitedOn: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  visitor: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  notes: string;
}
