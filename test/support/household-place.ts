import type { TestHub } from './test-hub';

/** A household place as civil affairs writes it and the police verify it. */
export const HOUSEHOLD_PLACE = '浙江省杭州市上城区小营街道大学路社区12幢3单元401室';

/**
 * A child of grid 330102001… with no identity verification yet (the first by id, or the last),
 * whose household registration and address civil affairs sets to HOUSEHOLD_PLACE and whose identity
 * the police verify with that household place. Returns the child's id.
 */
export async function childWithVerifiedPlace(t: TestHub, civil: string, police: string, which: 'first' | 'last' = 'first'): Promise<string> {
  const [child] = await t.sql(
    `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '330102001%' AND registry.is_minor(m.birth_date, now() + interval '30 days')
        AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id ${which === 'first' ? 'ASC' : 'DESC'} LIMIT 1`,
  );
  const updated = await t.gql(civil, `mutation($id: ID!, $in: UpdateMinorInput!) { updateMinor(id: $id, input: $in) { id } }`, {
    id: child.id,
    in: { householdRegistration: HOUSEHOLD_PLACE, currentAddress: HOUSEHOLD_PLACE },
  });
  if (updated.errors) throw new Error(JSON.stringify(updated.errors));
  const verified = await t.gql(police, `mutation($m: ID!, $in: IdentityVerificationInput!) { createIdentityVerification(minorId: $m, input: $in) { id } }`, {
    m: child.id,
    in: { verifiedOn: '2026-01-05', result: 'MATCHED', householdStatus: 'REGISTERED', householdPlace: HOUSEHOLD_PLACE },
  });
  if (verified.errors) throw new Error(JSON.stringify(verified.errors));
  return child.id;
}
