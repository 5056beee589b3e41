import type { DataSource } from 'typeorm';
import { AccessLog } from '../audit/access-log';
import type { Purpose } from '../audit/audit.types';
import { newRequestId } from '../audit/request-id';
import { Principal, policySubject, PolicySubject } from '../auth/principal';
import type { HubConfig } from '../config/hub.config';
import type { SettledGrant } from '../policy/grants';
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
  /**
   * The request's instant, taken once its body is in (hubClock) and shared by every subgraph
   * context of the request, so that one request sees one "now" (ages, due dates): a request whose
   * fetches straddled the midnight in China on which a child turned 18 answered them aged 17 and,
   * in a later fetch, as no child.
   */
  now: Date;
  /**
   * The declared purpose (`x-purpose`), where the gateway passed it on. Field grants (an open
   * referral) apply only under purpose REFERRAL naming the referral; without it they never apply.
   */
  purpose?: Purpose;
  /**
   * The field grant the purpose names, settled once per request (FieldGrants.settle): handed on by
   * the gateway, or settled by this context on first use.
   */
  grant?: Promise<SettledGrant | null>;
  /** Per-request DataLoader sets, one entry per slice, created on first use. */
  loaders: Map<string, unknown>;
  /** What this request read of children's records and what it wrote, for the audit trail. */
  access: AccessLog;
}

/** The hub's clock: the host's, shifted by `workflow.clockOffsetMs` (HUB_CLOCK_OFFSET_MS, tests and rehearsals). */
export function hubClock(config: HubConfig): Date {
  return new Date(Date.now() + config.workflow.clockOffsetMs);
}

export function createHubContext(
  config: HubConfig,
  principal: Principal,
  policy: Policy,
  db: DataSource,
  now: Date,
  requestId: string = newRequestId(),
  access = new AccessLog(),
  purpose?: Purpose,
  grant?: SettledGrant,
): HubContext {
  return { config, requestId, principal, subject: policySubject(principal), policy, db, now, loaders: new Map(), access, purpose, ...(grant ? { grant: Promise.resolve(grant) } : {}) };
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
