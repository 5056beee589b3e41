import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { DropoutOutcome, DropoutStatus } from '../education.enums';
import { EducationMinor } from './minor.stub';

@ObjectType({ description: '辍学报告 / 控辍保学 — a dropout report and its outcome' })
@Entity({ schema: 'education', name: 'dropout_report' })
export class DropoutReport extends ChildRecord {
  @Field(() => EducationMinor, { nullable: true })
  get minor(): EducationMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  school: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'reported_on' })
  reportedOn: string;

  @Field(() => Int, { nullable: true, description: 'Days absent when reported' })
  @Column({ type: 'integer', name: 'days_absent' })
  daysAbsent: number;

  @Field(() => DropoutStatus, { nullable: true })
  @Column({ type: 'text' })
  status: DropoutStatus;

  @Field(() => DropoutOutcome, { nullable: true })
  @Column({ type: 'text', nullable: true })
  outcome: DropoutOutcome | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'closed_on', nullable: true })
  closedOn: string | null;
}
