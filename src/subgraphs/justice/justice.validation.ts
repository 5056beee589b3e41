import { optionalDate, optionalText, requireDate, requireNotBefore, requireText } from '../../common/validation';
import { badInput } from '../../errors/hub.exception';
import type { RecordFields } from '../shared/record-writes';
import type { CommunityCorrection } from './entities/community-correction.entity';
import type { IncarceratedParent } from './entities/incarcerated-parent.entity';
import type { LegalAidCase } from './entities/legal-aid-case.entity';
import type { CommunityCorrectionInput, IncarceratedParentInput, LegalAidCaseInput } from './resolvers/types/justice.input';

export function validIncarceratedParent(i: IncarceratedParentInput, now: Date): RecordFields<IncarceratedParent> {
  const since = requireDate('since', i.since, now);
  const expectedRelease = optionalDate('expectedRelease', i.expectedRelease);
  requireNotBefore('expectedRelease', expectedRelease, 'since', since);
  return { parent: i.parent, kind: i.kind, institution: requireText('institution', i.institution, 100), since, expectedRelease, status: i.status };
}

export function validCorrection(i: CommunityCorrectionInput, now: Date): RecordFields<CommunityCorrection> {
  const startedOn = requireDate('startedOn', i.startedOn, now);
  const endsOn = requireDate('endsOn', i.endsOn);
  if (endsOn <= startedOn) throw badInput('endsOn', 'must be after startedOn');
  return { startedOn, endsOn, status: i.status, supervisingOffice: requireText('supervisingOffice', i.supervisingOffice, 100), notes: optionalText('notes', i.notes, 2000) };
}

export const validLegalAid = (i: LegalAidCaseInput, now: Date): RecordFields<LegalAidCase> => ({
  openedOn: requireDate('openedOn', i.openedOn, now),
  matter: i.matter,
  status: i.status,
  provider: requireText('provider', i.provider, 100),
  details: requireText('details', i.details, 4000),
});
