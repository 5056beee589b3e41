import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { CustodyKind, CustodyStatus, ParentRole } from '../justice.enums';
import { JusticeMinor } from './minor.stub';

@ObjectType({ description: '服刑在戒 — a parent serving a sentence or in compulsory drug rehabilitation' })
@Entity({ schema: 'justice', name: 'incarcerated_parent' })
export class IncarceratedParent extends ChildRecord {
  @Field(() => JusticeMinor, { nullable: true })
  get minor(): JusticeMinor {
    return { id: this.minorId };
  }

  @Field(() => ParentRole, { nullable: true })
  @Column({ type: 'text' })
  parent: ParentRole;

  @Field(() => CustodyKind, { nullable: true })
  @Column({ type: 'text' })
  kind: CustodyKind;

  @Field(() => String, { nullable: true, description: 'Prison or rehabilitation centre' })
  @Column({ type: 'text' })
  institution: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date' })
  since: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD; null when not known' })
  @Column({ type: 'date', name: 'expected_release', nullable: true })
  expectedRelease: string | null;

  @Field(() => CustodyStatus, { nullable: true })
  @Column({ type: 'text' })
  status: CustodyStatus;
}
