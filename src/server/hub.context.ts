import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AccessLog } from '../audit/access-log';
import type { Purpose } from '../audit/audit.types';
import { Principal, policySubject, PolicySubject } from '../auth/principal';
import type { HubConfig } from '../config/hub.config';
import type { Policy } from '../policy/policy';

/**
 * Built fresh for every request (never shared: loaders cache per request), and rebuilt on the
 * subgraph side of a gateway fetch from the gateway's signed assertion.
 */
export interface HubContext {
  config: HubConfig;
  requestId: string;
  principal: Principal;
  subject: PolicySubject;
  policy: Policy;
  /** On a subgraph server, bound by the gateway's deadline for the fetch (src/db/request-deadline.ts). */
  db: DataSource;
  /** Request time, so that one request sees one "now" (ages, due dates); shifted by `workflow.clockOffsetMs` in tests. */
  now: Date;
  /**
   * The declared purpose (`x-purpose`), where the gateway passed it on. Field grants (an open
   * referral) apply only under purpose REFERRAL naming the referral; without it they never apply.
   */
  purpose?: Purpose;
  /** Per-request DataLoader sets, one entry per slice, created on first use. */
  loaders: Map<string, unknown>;
  /** What this request read of children's records and what it wrote, for the audit trail. */
  access: AccessLog;
}

export function createHubContext(
  config: HubConfig,
  principal: Principal,
  policy: Policy,
  db: DataSource,
  requestId: string = randomUUID(),
  access = new AccessLog(),
  purpose?: Purpose,
): HubContext {
  const now = new Date(Date.now() + config.workflow.clockOffsetMs);
  return { config, requestId, principal, subject: policySubject(principal), policy, db, now, loaders: new Map(), access, purpose };
}

/** The slice's loader set for this request, created once per request. */
export function sliceLoaders<T>(ctx: HubContext, slice: string, create: (ctx: HubContext) => T): T {
  let loaders = ctx.loaders.get(slice) as T | undefined;
  if (!loaders) {
    loaders = create(ctx);
    ctx.loaders.set(slice, loaders);
  }
  return loaders;
}
