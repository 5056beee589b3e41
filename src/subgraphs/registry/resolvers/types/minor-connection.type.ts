import { Field, ObjectType } from 'type-graphql';
import type { FilterRead } from '../../../shared/filter-tests';
import { Minor } from '../../entities/minor.entity';

/** What `totalCount` counts: the page's conditions without its cursor, and what they test. */
export interface MinorCount {
  where: string;
  params: unknown[];
  tested: readonly FilterRead[];
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;

  /** The child the end cursor names, for the audit (not a GraphQL field). */
  minorId: string | null;

  /** The children `hasNextPage` depends on: the page's and the one after it (not a GraphQL field). */
  decidedBy: string[];

  /** The filter's tests, read of those children (not a GraphQL field). */
  tested: readonly FilterRead[];
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

  /** How to count, when `totalCount` is asked (MinorConnectionResolver; not a GraphQL field). */
  counting: MinorCount;
}
