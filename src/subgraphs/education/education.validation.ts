import { chinaDay } from '../../common/dates';
import { requireChildhoodDate, requireInt, requireLine, requireText } from '../../common/validation';
import { badInput } from '../../errors/hub.exception';
import type { RecordFields } from '../shared/record-writes';
import type { BullyingCase } from './entities/bullying-case.entity';
import type { DropoutReport } from './entities/dropout-report.entity';
import type { EducationAid } from './entities/education-aid.entity';
import type { SchoolEnrollment } from './entities/school-enrollment.entity';
import type { BullyingCaseInput, DropoutReportInput, EducationAidInput, PersuasionActionInput, SchoolEnrollmentInput } from './resolvers/types/education.input';

export const validEnrollment = (i: SchoolEnrollmentInput, now: Date): Pick<SchoolEnrollment, 'school' | 'grade' | 'status' | 'enrolledOn'> => ({
  school: requireLine('school', i.school, 100),
  grade: requireInt('grade', i.grade, 1, 12),
  status: i.status,
  enrolledOn: requireChildhoodDate('enrolledOn', i.enrolledOn, now),
});

export const validDropoutReport = (i: DropoutReportInput, now: Date): Pick<DropoutReport, 'school' | 'reportedOn' | 'daysAbsent'> => ({
  school: requireLine('school', i.school, 100),
  reportedOn: requireChildhoodDate('reportedOn', i.reportedOn, now),
  daysAbsent: requireInt('daysAbsent', i.daysAbsent, 0, 366),
});

export const validPersuasionAction = (i: PersuasionActionInput, now: Date) => ({
  actedOn: requireChildhoodDate('actedOn', i.actedOn, now),
  method: i.method,
  actor: requireLine('actor', i.actor, 100),
  note: requireText('note', i.note, 2000),
});

export const validBullyingCase = (i: BullyingCaseInput, now: Date): RecordFields<BullyingCase> => ({
  school: requireLine('school', i.school, 100),
  occurredOn: requireChildhoodDate('occurredOn', i.occurredOn, now),
  role: i.role,
  severity: i.severity,
  status: i.status,
  description: requireText('description', i.description, 2000),
});

export function validEducationAid(i: EducationAidInput, now: Date): Pick<EducationAid, 'kind' | 'amountYuan' | 'grantedOn' | 'schoolYear'> {
  // A school year of a registered child's schooling: from the year the eldest was born, to next
  // year's (aid may be granted ahead of the year it pays for).
  const year = Number(chinaDay(now).slice(0, 4));
  const first = year - 18;
  const last = year + 1;
  const m = /^(\d{4})-(\d{4})$/.exec((i.schoolYear ?? '').trim());
  if (!m || Number(m[2]) !== Number(m[1]) + 1 || Number(m[1]) < first || Number(m[1]) > last) {
    throw badInput('schoolYear', `must be two consecutive years from ${first}-${first + 1} to ${last}-${last + 1}, e.g. 2025-2026`);
  }
  return {
    kind: i.kind,
    amountYuan: requireInt('amountYuan', i.amountYuan, 1, 100_000),
    grantedOn: requireChildhoodDate('grantedOn', i.grantedOn, now),
    schoolYear: m[0],
  };
}
