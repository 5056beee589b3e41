import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The registry's Minor, extended here with women's federation records (a class of this slice's own: see education's stub). */
@Directive('@key(fields: "id")')
@ObjectType('Minor')
export class WomensFederationMinor {
  @Field(() => ID)
  id: string;
}
