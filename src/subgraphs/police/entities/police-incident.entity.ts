import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { IncidentStatus, IncidentType } from '../police.enums';
import { PoliceMinor } from './minor.stub';

@ObjectType({ description: '警情 — an incident concerning the child' })
@Entity({ schema: 'police', name: 'incident' })
export class PoliceIncident extends ChildRecord {
  @Field(() => PoliceMinor, { nullable: true })
  get minor(): PoliceMinor {
    return { id: this.minorId };
  }

  @Field(() => IncidentType, { nullable: true })
  @Column({ type: 'text' })
  type: IncidentType;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'occurred_on' })
  occurredOn: string;

  @Field(() => IncidentStatus, { nullable: true })
  @Column({ type: 'text' })
  status: IncidentStatus;

  @Field(() => String, { nullable: true, description: 'Handling unit (派出所), the contact for other departments' })
  @Column({ type: 'text', name: 'handling_unit' })
  handlingUnit: string;

  @Field(() => String, { nullable: true, description: 'What happened (简要案情)' })
  @Column({ type: 'text' })
  narrative: string;
}
