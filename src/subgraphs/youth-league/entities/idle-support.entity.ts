import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { IdleSupportKind, IdleSupportStatus } from '../youth-league.enums';
import { YouthLeagueMinor } from './minor.stub';

@ObjectType({ description: '闲散未成年人 — education or employment support for an idle minor' })
@Entity({ schema: 'youth_league', name: 'idle_support' })
export class IdleSupport extends ChildRecord {
  @Field(() => YouthLeagueMinor, { nullable: true })
  get minor(): YouthLeagueMinor {
    return { id: this.minorId };
  }

  @Field(() => IdleSupportKind, { nullable: true })
  @Column({ type: 'text' })
  kind: IdleSupportKind;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'started_on' })
  startedOn: string;

  @Field(() => String, { nullable: true, description: 'School, training centre or employer' })
  @Column({ type: 'text' })
  provider: string;

  @Field(() => IdleSupportStatus, { nullable: true })
  @Column({ type: 'text' })
  status: IdleSupportStatus;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  note: string | null;
}
