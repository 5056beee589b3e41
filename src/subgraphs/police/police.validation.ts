import { optionalLine, optionalText, requireChildhoodDate, requireLine, requireText } from '../../common/validation';
import { badInput } from '../../errors/hub.exception';
import type { RecordFields } from '../shared/record-writes';
import type { GuardianAdmonishment } from './entities/guardian-admonishment.entity';
import type { IdentityVerification } from './entities/identity-verification.entity';
import type { PoliceIncident } from './entities/police-incident.entity';
import { HouseholdStatus, VerificationResult } from './police.enums';
import type { GuardianAdmonishmentInput, IdentityVerificationInput, PoliceIncidentInput } from './resolvers/types/police.input';

export const validIncident = (i: PoliceIncidentInput, now: Date): RecordFields<PoliceIncident> => ({
  type: i.type,
  occurredOn: requireChildhoodDate('occurredOn', i.occurredOn, now),
  status: i.status,
  handlingUnit: requireLine('handlingUnit', i.handlingUnit, 100),
  narrative: requireText('narrative', i.narrative, 4000),
});

export const validAdmonishment = (i: GuardianAdmonishmentInput, now: Date): RecordFields<GuardianAdmonishment> => ({
  guardian: i.guardian,
  admonishedOn: requireChildhoodDate('admonishedOn', i.admonishedOn, now),
  issuingUnit: requireLine('issuingUnit', i.issuingUnit, 100),
  reason: requireText('reason', i.reason, 2000),
});

export function validVerification(i: IdentityVerificationInput, now: Date): RecordFields<IdentityVerification> {
  const householdPlace = optionalLine('householdPlace', i.householdPlace, 200);
  const unregistered = i.householdStatus === HouseholdStatus.UNREGISTERED;
  if (unregistered && householdPlace !== null) throw badInput('householdPlace', 'an unregistered child has no place of registration');
  if (!unregistered && householdPlace === null) throw badInput('householdPlace', 'must not be empty for a registered or moved-out child');
  // No population register holds a child without 户口: a check of one finds no record, and a check
  // that found none cannot say where a 户口 is. Schools and the women's federation read the status but
  // not the result (README, side channel 9), which hides nothing only while the two go together.
  if (unregistered && i.result !== VerificationResult.NO_RECORD) throw badInput('result', 'a check of an unregistered child finds no record (NO_RECORD)');
  if (!unregistered && i.result === VerificationResult.NO_RECORD) throw badInput('result', 'a check that finds no record (NO_RECORD) is of an unregistered child (UNREGISTERED)');
  return {
    verifiedOn: requireChildhoodDate('verifiedOn', i.verifiedOn, now),
    result: i.result,
    householdStatus: i.householdStatus,
    householdPlace,
    note: optionalText('note', i.note, 2000),
  };
}
