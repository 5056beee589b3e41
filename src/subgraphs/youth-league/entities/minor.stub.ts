import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The registry's Minor, extended here with Youth League records (a class of this slice's own: see education's stub). */
@Directive('@key(fields: "id")')
@ObjectType('Minor')
export class YouthLeagueMinor {
  @Field(() => ID)
  id: string;
}
