import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { EmploymentAnswer } from '../workflow.enums';

/** 入职查询 record: who asked about whom (keyed hash only), what they were told, when. */
@Entity({ schema: 'workflow', name: 'employment_check' })
export class EmploymentCheck {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'text', name: 'employer_id' })
  employerId: string;

  @Column({ type: 'text', name: 'employer_department' })
  employerDepartment: string;

  @Column({ type: 'varchar', length: 15, name: 'employer_region' })
  employerRegion: string;

  @Column({ type: 'char', length: 64, name: 'candidate_hash' })
  candidateHash: string;

  @Column({ type: 'text', name: 'authorization_reference' })
  authorizationReference: string;

  @Column({ type: 'text' })
  answer: EmploymentAnswer;

  /** Set for the checks of one bulk re-screening. */
  @Column({ type: 'uuid', name: 'batch_id', nullable: true })
  batchId: string | null;

  @Column({ type: 'timestamptz', name: 'checked_at' })
  checkedAt: Date;
}

@ObjectType({ description: '入职查询 answer: CLEAR or RESTRICTED, never why' })
export class EmploymentCheckResult {
  /**
   * The recorded check's id (= `checkId`), not a GraphQL field: the audit takes the record id of a
   * mutation's change from the result's `id` (policy.middleware.ts), so without it every check was
   * audited with `id: null`, naming no employment_check row.
   */
  id: string;

  @Field(() => ID, { description: 'Reference of the recorded check' })
  checkId: string;

  @Field(() => EmploymentAnswer)
  answer: EmploymentAnswer;

  @Field(() => Date)
  checkedAt: Date;
}

@ObjectType({ description: 'One answer of a bulk re-screening, in the order the candidates were given' })
export class RescreenAnswer {
  @Field(() => Int)
  index: number;

  @Field(() => EmploymentAnswer)
  answer: EmploymentAnswer;
}

@ObjectType({ description: 'Annual re-screening of current staff: one operation, one answer per candidate' })
export class RescreenResult {
  /**
   * The batch's id (= `batchId`, on each of its employment_check rows), not a GraphQL field: the
   * audit names a mutation's change by the result's `id`, as for `EmploymentCheckResult`.
   */
  id: string;

  @Field(() => ID)
  batchId: string;

  @Field(() => Date)
  checkedAt: Date;

  @Field(() => [RescreenAnswer])
  answers: RescreenAnswer[];
}
