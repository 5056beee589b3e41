import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { LegalAidMatter, LegalAidStatus } from '../justice.enums';
import { JusticeMinor } from './minor.stub';

@ObjectType({ description: '法律援助 — a legal-aid case for the child' })
@Entity({ schema: 'justice', name: 'legal_aid_case' })
export class LegalAidCase extends ChildRecord {
  @Field(() => JusticeMinor, { nullable: true })
  get minor(): JusticeMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'opened_on' })
  openedOn: string;

  @Field(() => LegalAidMatter, { nullable: true })
  @Column({ type: 'text' })
  matter: LegalAidMatter;

  @Field(() => LegalAidStatus, { nullable: true })
  @Column({ type: 'text' })
  status: LegalAidStatus;

  @Field(() => String, { nullable: true, description: 'Legal-aid centre or assigned lawyer' })
  @Column({ type: 'text' })
  provider: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  details: string;
}
