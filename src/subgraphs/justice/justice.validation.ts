import { optionalSentenceEnd, optionalText, requireChildhoodDate, requireDate, requireLine, requireNotBefore, requireSentenceEnd, requireText } from '../../common/validation';
import { badInput } from '../../errors/hub.exception';
import type { RecordFields } from '../shared/record-writes';
import type { CommunityCorrection } from './entities/community-correction.entity';
import type { IncarceratedParent } from './entities/incarcerated-parent.entity';
import type { LegalAidCase } from './entities/legal-aid-case.entity';
import type { CommunityCorrectionInput, IncarceratedParentInput, LegalAidCaseInput } from './resolvers/types/justice.input';

export function validIncarceratedParent(i: IncarceratedParentInput, now: Date): RecordFields<IncarceratedParent> {
  // Not bounded by the children's lifetime like the other dates: a parent may have been in custody
  // since before the child was born.
  const since = requireDate('since', i.since, now);
  const expectedRelease = optionalSentenceEnd('expectedRelease', i.expectedRelease, now);
  requireNotBefore('expectedRelease', expectedRelease, 'since', since);
  return { parent: i.parent, kind: i.kind, institution: requireLine('institution', i.institution, 100), since, expectedRelease, status: i.status };
}

export function validCorrection(i: CommunityCorrectionInput, now: Date): Pick<CommunityCorrection, 'startedOn' | 'endsOn' | 'status' | 'supervisingOffice' | 'notes'> {
  const startedOn = requireChildhoodDate('startedOn', i.startedOn, now);
  const endsOn = requireSentenceEnd('endsOn', i.endsOn, now);
  if (endsOn <= startedOn) throw badInput('endsOn', 'must be after startedOn');
  return { startedOn, endsOn, status: i.status, supervisingOffice: requireLine('supervisingOffice', i.supervisingOffice, 100), notes: optionalText('notes', i.notes, 2000) };
}

export const validLegalAid = (i: LegalAidCaseInput, now: Date): RecordFields<LegalAidCase> => ({
  openedOn: requireChildhoodDate('openedOn', i.openedOn, now),
  matter: i.matter,
  status: i.status,
  provider: requireLine('provider', i.provider, 100),
  details: requireText('details', i.details, 4000),
});
