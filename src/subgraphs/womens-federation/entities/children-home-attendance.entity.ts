import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { WomensFederationMinor } from './minor.stub';

@ObjectType({ description: '儿童之家 — the child took part in an activity of a community children’s home' })
@Entity({ schema: 'womens_federation', name: 'children_home_attendance' })
export class ChildrenHomeAttendance extends ChildRecord {
  @Field(() => WomensFederationMinor, { nullable: true })
  get minor(): WomensFederationMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true, description: 'Which 儿童之家' })
  @Column({ type: 'text' })
  home: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'attended_on' })
  attendedOn: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  activity: string;
}
