import { Field, InputType, Int } from 'type-graphql';
import { DifficultyCategory, RiskLevel } from '../../registry.enums';

@InputType({ description: 'Every argument needs read access to the field it filters on (else FORBIDDEN).' })
export class MinorFilter {
  @Field(() => String, { nullable: true, description: 'A region code inside the caller’s jurisdiction' })
  regionCode?: string;

  @Field(() => [RiskLevel], { nullable: true })
  riskLevels?: RiskLevel[];

  @Field(() => [DifficultyCategory], { nullable: true, description: 'Minors with any of these categories' })
  categories?: DifficultyCategory[];

  @Field(() => Int, { nullable: true })
  ageMin?: number;

  @Field(() => Int, { nullable: true })
  ageMax?: number;

  @Field(() => Date, { nullable: true, description: 'Next visit due before this time (overdue lists)' })
  nextVisitDueBefore?: Date;
}
