import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { YouthLeagueMinor } from './minor.stub';

@ObjectType({ description: '志愿者走访 — a volunteer visit' })
@Entity({ schema: 'youth_league', name: 'volunteer_visit' })
export class VolunteerVisit extends ChildRecord {
  @Field(() => YouthLeagueMinor, { nullable: true })
  get minor(): YouthLeagueMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'visited_on' })
  visitedOn: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  volunteer: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  notes: string;
}
