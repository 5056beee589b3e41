import type { HubContext } from '../../server/hub.context';
import type { Minor } from './entities/minor.entity';
import { registryLoaders } from './registry.loaders';

/**
 * `_entities` resolution for Minor: batched through the same jurisdiction-bound loader as
 * `minor(id)`, so another subgraph's reference to a child outside the caller's subtree resolves
 * to null exactly like an unknown id.
 */
export function resolveMinorReference(reference: Pick<Minor, 'id'>, ctx: HubContext): Promise<Minor | null> {
  return registryLoaders(ctx).minorById.load(reference.id);
}
