import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Principal, policySubject, PolicySubject } from '../auth/principal';
import type { Policy } from '../policy/policy';

/**
 * Built fresh for every request (never shared: loaders cache per request), and rebuilt on the
 * subgraph side of a gateway fetch from the gateway's signed assertion.
 */
export interface HubContext {
  requestId: string;
  principal: Principal;
  subject: PolicySubject;
  policy: Policy;
  db: DataSource;
  /** Request time, so that one request sees one "now" (ages, due dates). */
  now: Date;
  /** Per-request DataLoader sets, one entry per slice, created on first use. */
  loaders: Map<string, unknown>;
}

export function createHubContext(principal: Principal, policy: Policy, db: DataSource, requestId: string = randomUUID()): HubContext {
  return { requestId, principal, subject: policySubject(principal), policy, db, now: new Date(), loaders: new Map() };
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
