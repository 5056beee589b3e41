import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { GraphQLSchema, parse } from 'graphql';
import { buildFederatedSchema } from '../schema/build-federated-schema';
import type { SubgraphSlice } from '../schema/subgraph.types';
import type { PolicySubject } from '../auth/principal';
import { FULL_POLICY, PolicyMode, PolicySchemas } from '../policy/policy.middleware';
import type { Policy } from '../policy/policy';
import { CHILD_RECORD_TYPES, FIELD_GRANTS } from '../subgraphs';
import { checkPurposeFreeMutations } from '../audit/purpose';

export interface BuiltSubgraph {
  slice: SubgraphSlice;
  /** The schema without the policy: what operations are validated against (same types and fields). */
  raw: GraphQLSchema;
  /** Executable schema with the policy applied for the caller's subject: what a subgraph serves. */
  schemaFor(subject: PolicySubject): GraphQLSchema;
  sdl: string;
}

export async function buildSubgraph(slice: SubgraphSlice, policy: Policy, mode: PolicyMode = FULL_POLICY): Promise<BuiltSubgraph> {
  const raw = await buildFederatedSchema(slice);
  checkPurposeFreeMutations(slice.name, raw, Object.keys(slice.purposeFreeMutations ?? {}), CHILD_RECORD_TYPES);
  for (const name of slice.purposeFreeChildChanges ?? []) {
    if (!slice.purposeFreeMutations?.[name]) throw new Error(`Subgraph "${slice.name}" lists "${name}" among purpose-free child changes, but not among its purpose-free mutations`);
  }
  const schemas = new PolicySchemas(raw, policy, slice.name, CHILD_RECORD_TYPES, FIELD_GRANTS, mode);
  return { slice, raw, schemaFor: (subject) => schemas.for(subject), sdl: printSubgraphSchema(raw) };
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
