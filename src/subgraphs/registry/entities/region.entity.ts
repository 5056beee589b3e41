import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { RegionLevel } from '../registry.enums';

/**
 * A jurisdiction node. Codes are hierarchical (统计用区划代码 plus a grid suffix): a child's code
 * starts with its parent's, so a subtree is a code prefix.
 */
@ObjectType({ description: '辖区节点 — district, street, community or grid' })
@Entity({ schema: 'registry', name: 'region' })
export class Region {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 15 })
  code: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 15, name: 'parent_code', nullable: true })
  parentCode: string | null;

  @Field(() => RegionLevel, { nullable: true })
  @Column({ type: 'text' })
  level: RegionLevel;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  name: string;
}
