import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { AuditInit1795400200000 } from '../../../migrations/1795400200000-audit-init';
import { AuditEventWithoutHashIndex1795400700000 } from '../../../migrations/1795400700000-audit-event-without-hash-index';
import { AuditEventMinorIdsUuid1795401000000 } from '../../../migrations/1795401000000-audit-event-minor-ids-uuid';
import { AuditEventBodiesInline1795401100000 } from '../../../migrations/1795401100000-audit-event-bodies-inline';
import { AuditEventRequestIndex1795402500000 } from '../../../migrations/1795402500000-audit-event-request-index';
import { AuditEventAppendLock1795403500000 } from '../../../migrations/1795403500000-audit-event-append-lock';
import { auditPolicy } from './audit.policy';
import { AuditEventResolver, AuditResolver } from './resolvers/audit.resolver';

/**
 * The data officer's view of the audit trail. The trail itself is written by the gateway
 * (src/audit); this subgraph is its only reader.
 */
export const auditSubgraph: SubgraphSlice = {
  name: 'audit',
  owner: Department.CIVIL_AFFAIRS,
  entities: [],
  migrations: [AuditInit1795400200000, AuditEventWithoutHashIndex1795400700000, AuditEventMinorIdsUuid1795401000000, AuditEventBodiesInline1795401100000, AuditEventRequestIndex1795402500000, AuditEventAppendLock1795403500000],
  resolvers: [AuditResolver, AuditEventResolver],
  policy: auditPolicy,
};
