import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { PreventionCaseStatus, PreventionKind, SeriousMisbehaviour } from '../youth-league.enums';
import { YouthLeagueMinor } from './minor.stub';

@ObjectType({ description: '预防犯罪 — a delinquency-prevention case, or the follow-up of serious misbehaviour' })
@Entity({ schema: 'youth_league', name: 'prevention_case' })
export class PreventionCase extends ChildRecord {
  @Field(() => YouthLeagueMinor, { nullable: true })
  get minor(): YouthLeagueMinor {
    return { id: this.minorId };
  }

  @Field(() => PreventionKind, { nullable: true })
  @Column({ type: 'text' })
  kind: PreventionKind;

  @Field(() => SeriousMisbehaviour, { nullable: true, description: 'Set exactly for SERIOUS_MISBEHAVIOUR cases' })
  @Column({ type: 'text', nullable: true })
  behaviour: SeriousMisbehaviour | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'opened_on' })
  openedOn: string;

  @Field(() => PreventionCaseStatus, { nullable: true })
  @Column({ type: 'text' })
  status: PreventionCaseStatus;

  @Field(() => String, { nullable: true, description: 'Case worker (社工) to contact' })
  @Column({ type: 'text', name: 'case_worker' })
  caseWorker: string;

  @Field(() => String, { nullable: true, description: 'Measures agreed (帮教措施)' })
  @Column({ type: 'text' })
  measures: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD of the latest follow-up' })
  @Column({ type: 'date', name: 'last_follow_up_on', nullable: true })
  lastFollowUpOn: string | null;
}
