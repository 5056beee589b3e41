import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { ViolenceSupportKind, ViolenceSupportStatus } from '../womens-federation.enums';
import { WomensFederationMinor } from './minor.stub';

@ObjectType({ description: 'Support to the child’s family after domestic violence (反家暴)' })
@Entity({ schema: 'womens_federation', name: 'violence_support' })
export class DomesticViolenceSupport extends ChildRecord {
  @Field(() => WomensFederationMinor, { nullable: true })
  get minor(): WomensFederationMinor {
    return { id: this.minorId };
  }

  @Field(() => ViolenceSupportKind, { nullable: true })
  @Column({ type: 'text' })
  kind: ViolenceSupportKind;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'started_on' })
  startedOn: string;

  @Field(() => ViolenceSupportStatus, { nullable: true })
  @Column({ type: 'text' })
  status: ViolenceSupportStatus;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text' })
  notes: string;
}
