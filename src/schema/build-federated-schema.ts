import { buildSubgraphSchema } from '@apollo/subgraph';
import { IResolvers, printSchemaWithDirectives } from '@graphql-tools/utils';
import { GraphQLSchema } from 'graphql';
import gql from 'graphql-tag';
import { buildSchema, createResolversMap } from 'type-graphql';
import { DateTimeISO } from './date-time.scalar';
import type { SubgraphSlice } from './subgraph.types';

function mergeResolvers(base: IResolvers, extra: IResolvers = {}): IResolvers {
  const out: Record<string, unknown> = { ...base };
  for (const [type, fields] of Object.entries(extra)) {
    out[type] = { ...(out[type] as object | undefined), ...(fields as object) };
  }
  return out as IResolvers;
}

/** type-graphql → printed SDL with directives → Apollo subgraph schema with reference resolvers. */
export async function buildFederatedSchema(slice: SubgraphSlice): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: slice.resolvers,
    orphanedTypes: slice.orphanedTypes,
    // Federation schemas may legitimately lack a Query of their own; composition checks the rest.
    skipCheck: true,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
  });
  return buildSubgraphSchema({
    typeDefs: gql`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides"])
      ${printSchemaWithDirectives(schema)}
    `,
    resolvers: mergeResolvers(createResolversMap(schema) as IResolvers, slice.referenceResolvers) as never,
  });
}
