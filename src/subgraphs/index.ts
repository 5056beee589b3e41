import { FieldGrants } from '../policy/grants';
import type { SubgraphSlice } from '../schema/subgraph.types';
import { auditSubgraph } from './audit';
import { educationSubgraph } from './education';
import { justiceSubgraph } from './justice';
import { policeSubgraph } from './police';
import { registrySubgraph } from './registry';
import { workflowSubgraph } from './workflow';
import { statisticsSubgraph } from './statistics';
import { womensFederationSubgraph } from './womens-federation';
import { youthLeagueSubgraph } from './youth-league';

/** Every subgraph of the hub, in composition order. A new department is one more line. */
export const SUBGRAPHS: readonly SubgraphSlice[] = [
  registrySubgraph,
  statisticsSubgraph,
  auditSubgraph,
  educationSubgraph,
  policeSubgraph,
  justiceSubgraph,
  youthLeagueSubgraph,
  womensFederationSubgraph,
  workflowSubgraph,
];

export function findSubgraph(name: string): SubgraphSlice {
  const slice = SUBGRAPHS.find((s) => s.name === name);
  if (!slice) throw new Error(`Unknown subgraph "${name}"; known: ${SUBGRAPHS.map((s) => s.name).join(', ')}`);
  return slice;
}

/**
 * HUB_SUBGRAPH_URLS naming only subgraphs there are: a misspelt name (`regsitry=…`) left the
 * subgraph it meant in process, or composed at localhost over plain http (`npm run compose`).
 */
export function requireKnownSubgraphs(urls: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(urls)) {
    if (!SUBGRAPHS.some((s) => s.name === name)) throw new Error(`HUB_SUBGRAPH_URLS names an unknown subgraph "${name}"`);
  }
}

/** Every type that is part of a child's record, across subgraphs (see SubgraphSlice.childRecordTypes). */
export const CHILD_RECORD_TYPES: ReadonlySet<string> = new Set(SUBGRAPHS.flatMap((s) => s.childRecordTypes ?? []));

/** Every mutation that needs no declared purpose, across subgraphs (see SubgraphSlice.purposeFreeMutations). */
export const PURPOSE_FREE_MUTATIONS: ReadonlySet<string> = new Set(SUBGRAPHS.flatMap((s) => Object.keys(s.purposeFreeMutations ?? {})));

/** The purpose-free mutations that change no child's record (see SubgraphSlice.purposeFreeChildChanges). */
export const CHILD_FREE_MUTATIONS: ReadonlySet<string> = new Set(
  SUBGRAPHS.flatMap((s) => Object.keys(s.purposeFreeMutations ?? {}).filter((name) => !s.purposeFreeChildChanges?.includes(name))),
);

/** Every kind of field grant, across subgraphs (see SubgraphSlice.grantSources). */
export const FIELD_GRANTS = new FieldGrants(SUBGRAPHS.flatMap((s) => s.grantSources ?? []));
