import { optionalText, requireDate, requireText } from '../../common/validation';
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
    openedOn: requireDate('openedOn', i.openedOn, now),
    status: i.status,
    caseWorker: requireText('caseWorker', i.caseWorker, 100),
    measures: requireText('measures', i.measures, 2000),
  };
}

export const validFollowUp = (i: MisbehaviourFollowUpInput, now: Date) => ({
  followedUpOn: requireDate('followedUpOn', i.followedUpOn, now),
  note: requireText('note', i.note, 2000),
});

export const validIdleSupport = (i: IdleSupportInput, now: Date): RecordFields<IdleSupport> => ({
  kind: i.kind,
  startedOn: requireDate('startedOn', i.startedOn, now),
  provider: requireText('provider', i.provider, 100),
  status: i.status,
  note: optionalText('note', i.note, 2000),
});

export const validVolunteerVisit = (i: VolunteerVisitInput, now: Date): RecordFields<VolunteerVisit> => ({
  visitedOn: requireDate('visitedOn', i.visitedOn, now),
  volunteer: requireText('volunteer', i.volunteer, 100),
  notes: requireText('notes', i.notes, 2000),
});
