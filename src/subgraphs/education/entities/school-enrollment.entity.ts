import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { EnrollmentStatus } from '../education.enums';
import { EducationMinor } from './minor.stub';

@ObjectType({ description: '学籍 — school enrollment' })
@Entity({ schema: 'education', name: 'school_enrollment' })
export class SchoolEnrollment extends ChildRecord {
  @Field(() => EducationMinor, { nullable: true })
  get minor(): EducationMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  school: string;

  @Field(() => Int, { nullable: true, description: '年级 1–12 (primary 1–6, junior 7–9, senior 10–12)' })
  @Column({ type: 'smallint' })
  grade: number;

  @Field(() => EnrollmentStatus, { nullable: true })
  @Column({ type: 'text' })
  status: EnrollmentStatus;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'enrolled_on' })
  enrolledOn: string;
}
