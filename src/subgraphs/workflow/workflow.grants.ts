import { PurposeCode } from '../../audit/audit.types';
import type { GrantSource, SettledGrant } from '../../policy/grants';
import type { HubContext } from '../../server/hub.context';
import { workflowLoaders } from './workflow.loaders';
import { referralGrantedFields, referralGrants } from './workflow.policy';

/**
 * Open referrals as field grants (see src/policy/grants.ts). A grant never widens jurisdiction:
 * the receiving department reaches the child through its own region subtree (a referral is
 * addressed to the referrer's region, which covers the child), so a grant changes which fields it
 * reads, not which children; and it opens only what the referring department reads exactly itself.
 */
export const referralGrantSource: GrantSource = {
  purpose: PurposeCode.REFERRAL,
  fields: new Set(Object.values(referralGrants).flat()),
  kinds: referralGrants,
  async openGrant(ctx: HubContext, reference: string): Promise<SettledGrant | null> {
    const referral = await workflowLoaders(ctx).openReferralById.load(reference);
    return referral && { minorId: referral.minorId, fields: new Set(referralGrantedFields(ctx.policy, referral)) };
  },
};
