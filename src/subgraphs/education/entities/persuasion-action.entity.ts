import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { PersuasionMethod } from '../education.enums';

/** Carries its report's `minorId` (kept consistent by a composite foreign key) so that reads are audited per child. */
@ObjectType({ description: '劝返 — one persuasion-to-return action on a dropout report' })
@Entity({ schema: 'education', name: 'persuasion_action' })
export class PersuasionAction extends ChildRecord {
  @Column({ type: 'uuid', name: 'report_id' })
  reportId: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'acted_on' })
  actedOn: string;

  @Field(() => PersuasionMethod, { nullable: true })
  @Column({ type: 'text' })
  method: PersuasionMethod;

  @Field(() => String, { nullable: true, description: 'Who acted (teacher, township officer)' })
  @Column({ type: 'text' })
  actor: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  note: string;
}
