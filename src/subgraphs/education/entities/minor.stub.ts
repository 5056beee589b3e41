import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * The registry's Minor, extended here with the child's education records. Only the key lives in
 * this subgraph; every other Minor field comes from the registry (under its own policy). A class
 * of this slice's own: type-graphql attaches field resolvers to the class, so sharing one stub
 * between slices would leak one slice's fields into another's schema.
 */
@Directive('@key(fields: "id")')
@ObjectType('Minor')
export class EducationMinor {
  @Field(() => ID)
  id: string;
}
