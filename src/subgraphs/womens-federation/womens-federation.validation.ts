import { optionalText, requireChildhoodDate, requireLine, requireText } from '../../common/validation';
import type { RecordFields } from '../shared/record-writes';
import type { CarePlan } from './entities/care-plan.entity';
import type { ChildrenHomeAttendance } from './entities/children-home-attendance.entity';
import type { DomesticViolenceSupport } from './entities/domestic-violence-support.entity';
import type { FamilyEducationSession } from './entities/family-education-session.entity';
import type {
  CarePlanInput,
  CareVisitInput,
  ChildrenHomeAttendanceInput,
  DomesticViolenceSupportInput,
  FamilyEducationSessionInput,
} from './resolvers/types/womens-federation.input';

/** The plan's own fields; `lastVisitOn` is kept by care visits, not by the input. */
export const validCarePlan = (i: CarePlanInput, now: Date): Pick<CarePlan, 'kind' | 'startedOn' | 'status' | 'caregiver' | 'measures'> => ({
  kind: i.kind,
  startedOn: requireChildhoodDate('startedOn', i.startedOn, now),
  status: i.status,
  caregiver: requireLine('caregiver', i.caregiver, 100),
  measures: requireText('measures', i.measures, 2000),
});

export const validCareVisit = (i: CareVisitInput, now: Date) => ({
  visitedOn: requireChildhoodDate('visitedOn', i.visitedOn, now),
  visitor: requireLine('visitor', i.visitor, 100),
  notes: requireText('notes', i.notes, 2000),
});

export const validSession = (i: FamilyEducationSessionInput, now: Date): RecordFields<FamilyEducationSession> => ({
  heldOn: requireChildhoodDate('heldOn', i.heldOn, now),
  topic: requireLine('topic', i.topic, 200),
  attendee: requireLine('attendee', i.attendee, 50),
  instructor: requireLine('instructor', i.instructor, 100),
  notes: optionalText('notes', i.notes, 2000),
});

export const validViolenceSupport = (i: DomesticViolenceSupportInput, now: Date): RecordFields<DomesticViolenceSupport> => ({
  kind: i.kind,
  startedOn: requireChildhoodDate('startedOn', i.startedOn, now),
  status: i.status,
  notes: requireText('notes', i.notes, 2000),
});

export const validAttendance = (i: ChildrenHomeAttendanceInput, now: Date): RecordFields<ChildrenHomeAttendance> => ({
  home: requireLine('home', i.home, 100),
  attendedOn: requireChildhoodDate('attendedOn', i.attendedOn, now),
  activity: requireLine('activity', i.activity, 200),
});
