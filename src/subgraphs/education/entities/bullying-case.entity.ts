import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { BullyingCaseStatus, BullyingRole, BullyingSeverity } from '../education.enums';
import { EducationMinor } from './minor.stub';

@ObjectType({ description: '学生欺凌 — a bullying case the child is part of' })
@Entity({ schema: 'education', name: 'bullying_case' })
export class BullyingCase extends ChildRecord {
  @Field(() => EducationMinor, { nullable: true })
  get minor(): EducationMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  school: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'occurred_on' })
  occurredOn: string;

  @Field(() => BullyingRole, { nullable: true })
  @Column({ type: 'text' })
  role: BullyingRole;

  @Field(() => BullyingSeverity, { nullable: true })
  @Column({ type: 'text' })
  severity: BullyingSeverity;

  @Field(() => BullyingCaseStatus, { nullable: true })
  @Column({ type: 'text' })
  status: BullyingCaseStatus;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  description: string;
}
