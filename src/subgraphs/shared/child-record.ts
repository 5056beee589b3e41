import { Field, ID, ObjectType } from 'type-graphql';
import { Column, PrimaryColumn } from 'typeorm';

/**
 * Columns every department record about a child has. `minorId` is what the policy middleware and
 * the audit trail read to know whose record a field belongs to; it is not a GraphQL field itself
 * (each record exposes `minor`, a reference the gateway resolves in the registry). Decorated so
 * that subclasses inherit `id`; never reachable itself, so never in a schema.
 */
@ObjectType()
export abstract class ChildRecord {
  @Field(() => ID)
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid', name: 'minor_id' })
  minorId: string;
}
