import { isUuid } from '../../common/uuid';
import type { HubContext } from '../../server/hub.context';
import { mayBeHandedChildren } from '../shared/jurisdiction';
import type { Minor } from './entities/minor.entity';
import { registryLoaders } from './registry.loaders';

/**
 * `_entities` resolution for Minor: batched through the same jurisdiction-bound loader as
 * `minor(id)`, so another subgraph's reference to a child outside the caller's subtree resolves
 * to null exactly like an unknown id. A reference whose id is not a UUID's text is no child and is
 * not loaded (DataLoader throws at once for a null key); nor is any for a caller who may be handed
 * no child (`mayBeHandedChildren`).
 */
export async function resolveMinorReference(reference: { id: unknown }, ctx: HubContext): Promise<Minor | null> {
  return isUuid(reference.id) && mayBeHandedChildren(ctx) ? registryLoaders(ctx).minorById.load(reference.id) : null;
}
