import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { GraphQLSchema, parse } from 'graphql';
import { buildFederatedSchema } from '../schema/build-federated-schema';
import type { SubgraphSlice } from '../schema/subgraph.types';
import { applyPolicy } from '../policy/policy.middleware';
import type { Policy } from '../policy/policy';
import { CHILD_RECORD_TYPES } from '../subgraphs';

export interface BuiltSubgraph {
  slice: SubgraphSlice;
  /** Executable schema with the policy applied: what a subgraph serves. */
  schema: GraphQLSchema;
  sdl: string;
}

export async function buildSubgraph(slice: SubgraphSlice, policy: Policy, withPolicy = true): Promise<BuiltSubgraph> {
  const raw = await buildFederatedSchema(slice);
  const schema = withPolicy ? applyPolicy(raw, policy, slice.name, CHILD_RECORD_TYPES) : raw;
  return { slice, schema, sdl: printSubgraphSchema(raw) };
}

/** Composes the subgraphs' SDL into a supergraph (also what `npm run compose` writes). */
export function composeSupergraph(subgraphs: BuiltSubgraph[], urls: Record<string, string> = {}): string {
  const result = composeServices(
    subgraphs.map((s) => ({
      name: s.slice.name,
      typeDefs: parse(s.sdl),
      url: urls[s.slice.name] ?? `in-process://${s.slice.name}`,
    })),
  );
  if (result.errors?.length) throw new Error(`Composition failed:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.supergraphSdl!;
}
