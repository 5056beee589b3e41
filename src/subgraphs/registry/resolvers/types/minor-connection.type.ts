import { Field, Int, ObjectType } from 'type-graphql';
import { Minor } from '../../entities/minor.entity';

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;

  /** The child the end cursor names, for the audit (not a GraphQL field). */
  minorId: string | null;
}

@ObjectType()
export class MinorEdge {
  @Field()
  cursor: string;

  @Field(() => Minor)
  node: Minor;

  /** The child the edge is, for the audit (not a GraphQL field): its cursor names it too. */
  minorId: string;
}

@ObjectType({ description: 'Relay-style page of minors, ordered by id' })
export class MinorConnection {
  @Field(() => [MinorEdge])
  edges: MinorEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int, { description: 'Minors matching the filter in the caller’s jurisdiction' })
  totalCount: number;
}
