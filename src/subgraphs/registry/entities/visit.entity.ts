import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@ObjectType({ description: '走访 — a visit by a child director or grid worker' })
@Entity({ schema: 'registry', name: 'visit' })
export class Visit {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'minor_id' })
  minorId: string;

  @Field(() => Date, { nullable: true })
  @Column({ type: 'timestamptz', name: 'visited_at' })
  visitedAt: Date;

  @Field(() => String, { nullable: true, description: 'User id of the visitor' })
  @Column({ type: 'text' })
  visitor: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  notes: string;
}
