import type { SubgraphSlice } from '../schema/subgraph.types';
import { registrySubgraph } from './registry';

/** Every subgraph of the hub, in composition order. A new department is one more line. */
export const SUBGRAPHS: readonly SubgraphSlice[] = [registrySubgraph];

export function findSubgraph(name: string): SubgraphSlice {
  const slice = SUBGRAPHS.find((s) => s.name === name);
  if (!slice) throw new Error(`Unknown subgraph "${name}"; known: ${SUBGRAPHS.map((s) => s.name).join(', ')}`);
  return slice;
}
