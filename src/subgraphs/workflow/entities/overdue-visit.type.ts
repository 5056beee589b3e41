import { Field, Int, ObjectType } from 'type-graphql';
import { RiskLevel } from '../../registry/registry.enums';
import { MinorStub } from './minor.stub';

/** 分级保护: a child whose visit is overdue for its level, and who is responsible. */
@ObjectType({ description: '分级保护 — a child whose visit is overdue (RED now, ORANGE weekly, YELLOW monthly, BLUE quarterly)' })
export class OverdueVisit {
  minorId: string;

  @Field(() => MinorStub, { nullable: true })
  minor: MinorStub;

  @Field(() => RiskLevel, { nullable: true })
  riskLevel: RiskLevel;

  @Field(() => String, { nullable: true, description: 'The grid the child lives in' })
  gridCode: string;

  @Field(() => Date, { nullable: true })
  nextVisitDue: Date;

  @Field(() => Date, { nullable: true })
  lastVisitAt: Date | null;

  @Field(() => Int, { nullable: true })
  daysOverdue: number;

  @Field(() => String, { nullable: true, description: 'Who last visited, else who assessed: the worker to follow up' })
  responsibleWorker: string | null;
}
