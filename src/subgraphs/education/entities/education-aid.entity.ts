import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { EducationAidKind } from '../education.enums';
import { EducationMinor } from './minor.stub';

@ObjectType({ description: '学生资助 — education aid granted' })
@Entity({ schema: 'education', name: 'education_aid' })
export class EducationAid extends ChildRecord {
  @Field(() => EducationMinor, { nullable: true })
  get minor(): EducationMinor {
    return { id: this.minorId };
  }

  @Field(() => EducationAidKind, { nullable: true })
  @Column({ type: 'text' })
  kind: EducationAidKind;

  @Field(() => Int, { nullable: true, description: 'Whole yuan' })
  @Column({ type: 'integer', name: 'amount_yuan' })
  amountYuan: number;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'granted_on' })
  grantedOn: string;

  @Field(() => String, { nullable: true, description: '学年, e.g. 2025-2026' })
  @Column({ type: 'text', name: 'school_year' })
  schoolYear: string;
}
