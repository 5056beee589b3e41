import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { GuardianRelationship, GuardianSituation } from '../registry.enums';

@ObjectType({ description: '监护人' })
@Entity({ schema: 'registry', name: 'guardian' })
export class Guardian {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'minor_id' })
  minorId: string;

  @Field(() => GuardianRelationship, { nullable: true })
  @Column({ type: 'text' })
  relationship: GuardianRelationship;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  name: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  phone: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  address: string | null;

  @Field(() => GuardianSituation, { nullable: true, description: '监护人状况 (服刑, 戒毒, 重病 …)' })
  @Column({ type: 'text' })
  situation: GuardianSituation;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', name: 'situation_note', nullable: true })
  situationNote: string | null;
}
