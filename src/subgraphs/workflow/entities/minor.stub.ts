import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * The registry's Minor, extended here with the child's referrals and reports. Only the key lives
 * in this subgraph; the gateway fetches every other field from the registry (with its jurisdiction).
 */
@Directive('@key(fields: "id")')
@ObjectType('Minor')
export class MinorStub {
  @Field(() => ID)
  id: string;
}
