import { Field, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DifficultyCategory } from '../registry.enums';

@ObjectType({ description: '困境类型认定' })
@Entity({ schema: 'registry', name: 'minor_category' })
export class MinorCategory {
  @PrimaryColumn({ type: 'uuid', name: 'minor_id' })
  minorId: string;

  @Field(() => DifficultyCategory, { nullable: true })
  @PrimaryColumn({ type: 'text' })
  category: DifficultyCategory;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'identified_at' })
  identifiedAt: string;
}
