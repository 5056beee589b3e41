import { optionalText, requireChildhoodDate, requireLine, requireText } from '../../common/validation';
import { badInput } from '../../errors/hub.exception';
import type { RecordFields } from '../shared/record-writes';
import type { IdleSupport } from './entities/idle-support.entity';
import type { PreventionCase } from './entities/prevention-case.entity';
import type { VolunteerVisit } from './entities/volunteer-visit.entity';
import type { IdleSupportInput, MisbehaviourFollowUpInput, PreventionCaseInput, VolunteerVisitInput } from './resolvers/types/youth-league.input';
import { PreventionKind } from './youth-league.enums';

/** The case's own fields; `lastFollowUpOn` is kept by follow-ups, not by the input. */
export function validPreventionCase(i: PreventionCaseInput, now: Date): Pick<PreventionCase, 'kind' | 'behaviour' | 'openedOn' | 'status' | 'caseWorker' | 'measures'> {
  const serious = i.kind === PreventionKind.SERIOUS_MISBEHAVIOUR;
  if (serious && !i.behaviour) throw badInput('behaviour', 'must name the serious misbehaviour');
  if (!serious && i.behaviour) throw badInput('behaviour', 'only a SERIOUS_MISBEHAVIOUR case names a behaviour');
  return {
    kind: i.kind,
    behaviour: i.behaviour ?? null,
    openedOn: requireChildhoodDate('openedOn', i.openedOn, now),
    status: i.status,
    caseWorker: requireLine('caseWorker', i.caseWorker, 100),
    measures: requireText('measures', i.measures, 2000),
  };
}

export const validFollowUp = (i: MisbehaviourFollowUpInput, now: Date) => ({
  followedUpOn: requireChildhoodDate('followedUpOn', i.followedUpOn, now),
  note: requireText('note', i.note, 2000),
});

export const validIdleSupport = (i: IdleSupportInput, now: Date): Pick<IdleSupport, 'kind' | 'startedOn' | 'provider' | 'status' | 'note'> => ({
  kind: i.kind,
  startedOn: requireChildhoodDate('startedOn', i.startedOn, now),
  provider: requireLine('provider', i.provider, 100),
  status: i.status,
  note: optionalText('note', i.note, 2000),
});

export const validVolunteerVisit = (i: VolunteerVisitInput, now: Date): RecordFields<VolunteerVisit> => ({
  visitedOn: requireChildhoodDate('visitedOn', i.visitedOn, now),
  volunteer: requireLine('volunteer', i.volunteer, 100),
  notes: requireText('notes', i.notes, 2000),
});
