import type { EntityManager } from 'typeorm';
import { ChildRecords, daysAgo, seedRecordsIfEmpty } from '../shared/seed';

const OUTCOMES = [['RETURNED_TO_SCHOOL', 6], ['VOCATIONAL_SCHOOL', 2], ['MEDICAL_DEFERRAL', 1], ['NOT_RETURNED', 1]] as const;
const METHODS = ['HOME_VISIT', 'PHONE_CALL', 'JOINT_VISIT', 'SCHOOL_MEETING'] as const;
const AID_FOR = ['POVERTY', 'ORPHAN', 'UNSUPPORTED', 'DISABILITY', 'SERIOUS_ILLNESS'];
const AID_AMOUNT: Record<string, number> = { TUITION_WAIVER: 1500, LIVING_SUBSIDY: 1000, NUTRITION_MEAL: 800, SCHOLARSHIP: 2000 };

const T = {
  enrollment: 'education.school_enrollment',
  report: 'education.dropout_report',
  action: 'education.persuasion_action',
  bullying: 'education.bullying_case',
  aid: 'education.education_aid',
};

/**
 * Education records consistent with the registry: every school-age child with a school is
 * enrolled (DROPOUT children as dropped out, with a dropout report — open for most, closed with
 * persuasion actions and an outcome for the rest), bullying cases for a few (serious misbehaviour
 * more often on the perpetrator side), aid for poor, orphaned, disabled or ill children.
 */
export const educationRecords: ChildRecords = {
  seed: 20261201,
  tables: [
    { name: T.enrollment, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['school', 'text'], ['grade', 'int2'], ['status', 'text'], ['enrolled_on', 'date']] },
    {
      name: T.report,
      columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['school', 'text'], ['reported_on', 'date'], ['days_absent', 'int4'], ['status', 'text'], ['outcome', 'text'], ['closed_on', 'date']],
    },
    { name: T.action, columns: [['id', 'uuid'], ['report_id', 'uuid'], ['minor_id', 'uuid'], ['acted_on', 'date'], ['method', 'text'], ['actor', 'text'], ['note', 'text']] },
    {
      name: T.bullying,
      columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['school', 'text'], ['occurred_on', 'date'], ['role', 'text'], ['severity', 'text'], ['status', 'text'], ['description', 'text']],
    },
    { name: T.aid, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['amount_yuan', 'int4'], ['granted_on', 'date'], ['school_year', 'text']] },
  ],
  generate(child, rng, anchor, emit) {
    if (!child.school || child.age < 6) return;
    const year = anchor.getUTCFullYear();
    const dropout = child.categories.has('DROPOUT');
    const grade = Math.min(12, Math.max(1, child.age - 5));
    const status = dropout ? 'DROPPED_OUT' : rng.chance(0.03) ? 'TRANSFERRED_OUT' : 'ENROLLED';
    emit(T.enrollment, [rng.uuid(), child.id, child.school, grade, status, `${year - grade}-09-01`]);

    if (dropout) {
      const id = rng.uuid();
      const reportedAgo = rng.int(5, 300);
      const closed = reportedAgo > 60 && rng.chance(0.4);
      const closedAgo = closed ? rng.int(1, reportedAgo - 30) : null;
      const outcome = closed ? rng.weighted(OUTCOMES) : null;
      emit(T.report, [id, child.id, child.school, daysAgo(anchor, reportedAgo), rng.int(10, 120), closed ? 'CLOSED' : 'OPEN', outcome, closedAgo === null ? null : daysAgo(anchor, closedAgo)]);
      // Actions between the report and its closing (or today), the last one on the closing day.
      const until = closedAgo ?? 0;
      for (let n = rng.int(1, 3); n > 0; n--) {
        const ago = n === 1 && closedAgo !== null ? closedAgo : rng.int(until, reportedAgo);
        emit(T.action, [rng.uuid(), id, child.id, daysAgo(anchor, ago), rng.pick(METHODS), `班主任-${child.school}`, '劝返: 与监护人面谈, 说明义务教育法规定']);
      }
    }
    const misbehaving = child.categories.has('SERIOUS_MISBEHAVIOUR');
    if ((misbehaving && rng.chance(0.4)) || rng.chance(0.03)) {
      const role = misbehaving ? 'PERPETRATOR' : rng.pick(['VICTIM', 'PERPETRATOR']);
      const ago = rng.int(3, 400);
      emit(T.bullying, [rng.uuid(), child.id, child.school, daysAgo(anchor, ago), role, rng.chance(0.2) ? 'SERIOUS' : 'GENERAL', ago > 60 ? 'CLOSED' : 'OPEN', '课间冲突, 已与双方家长沟通']);
    }
    if (AID_FOR.some((c) => child.categories.has(c)) && rng.chance(0.7)) {
      for (let n = rng.int(1, 2); n > 0; n--) {
        const kind = rng.pick(Object.keys(AID_AMOUNT));
        const ago = rng.int(10, 500);
        const granted = daysAgo(anchor, ago);
        const startYear = Number(granted.slice(5, 7)) >= 9 ? Number(granted.slice(0, 4)) : Number(granted.slice(0, 4)) - 1;
        emit(T.aid, [rng.uuid(), child.id, kind, AID_AMOUNT[kind], granted, `${startYear}-${startYear + 1}`]);
      }
    }
  },
};

export const seedEducationIfEmpty = (em: EntityManager, anchor: Date) => seedRecordsIfEmpty(em, anchor, educationRecords);
