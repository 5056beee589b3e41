import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { ChildRecord } from '../../shared/child-record';
import { CorrectionStatus } from '../justice.enums';
import { JusticeMinor } from './minor.stub';

@ObjectType({ description: '社区矫正 — community correction of the minor (a sealed criminal matter)' })
@Entity({ schema: 'justice', name: 'community_correction' })
export class CommunityCorrection extends ChildRecord {
  @Field(() => JusticeMinor, { nullable: true })
  get minor(): JusticeMinor {
    return { id: this.minorId };
  }

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'started_on' })
  startedOn: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  @Column({ type: 'date', name: 'ends_on' })
  endsOn: string;

  @Field(() => CorrectionStatus, { nullable: true })
  @Column({ type: 'text' })
  status: CorrectionStatus;

  @Field(() => String, { nullable: true, description: '司法所 supervising the correction' })
  @Column({ type: 'text', name: 'supervising_office' })
  supervisingOffice: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  notes: string | null;
}
