import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { CarePlanKind, CarePlanStatus } from '../womens-federation.enums';
import { WomensFederationMinor } from './minor.stub';

@ObjectType({ description: '留守流动儿童关爱 — a care plan for a left-behind or migrant child' })
@Entity({ schema: 'womens_federation', name: 'care_plan' })
export class CarePlan extends ChildRecord {
  @Field(() => WomensFederationMinor, { nullable: true })
  get minor(): WomensFederationMinor {
    return { id: this.minorId };
  }

  @Field(() => CarePlanKind, { nullable: true })
  @Column({ type: 'text' })
  kind: CarePlanKind;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'started_on' })
  startedOn: string;

  @Field(() => CarePlanStatus, { nullable: true })
  @Column({ type: 'text' })
  status: CarePlanStatus;

  @Field(() => String, { nullable: true, description: 'Who looks after the child day to day (委托照护人)' })
  @Column({ type: 'text' })
  caregiver: string;

  @Field(() => String, { nullable: true, description: 'Care measures agreed' })
  @Column({ type: 'text' })
  measures: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD of the latest care visit' })
  @Column({ type: 'date', name: 'last_visit_on', nullable: true })
  lastVisitOn: string | null;
}
