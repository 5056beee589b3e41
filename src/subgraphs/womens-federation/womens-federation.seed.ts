import type { EntityManager } from 'typeorm';
import { ChildRecords, daysAgo, seedRecordsIfEmpty, sinceBirth } from '../shared/seed';

const HOMES = ['清波儿童之家', '湖滨儿童之家', '小营儿童之家', '紫阳儿童之家'];
const ACTIVITIES = ['课后托管', '亲情视频通话', '安全教育', '绘本阅读', '手工课'];
const TOPICS = ['亲子沟通', '留守儿童心理关爱', '科学育儿', '防范家庭暴力', '青春期教育'];

const T = {
  plans: 'womens_federation.care_plan',
  visits: 'womens_federation.care_visit',
  sessions: 'womens_federation.family_education_session',
  support: 'womens_federation.violence_support',
  attendance: 'womens_federation.children_home_attendance',
};

/**
 * Women's federation records consistent with the registry: care plans for most left-behind and
 * many migrant children, with visits — some recent, some long overdue, some never — so the
 * "not visited in 30 days" list has both; support and family-education guidance after domestic
 * violence; guidance for some divorced families; 儿童之家 attendance for left-behind and migrant
 * children of 3 to 14.
 */
export const womensFederationRecords: ChildRecords = {
  seed: 20261205,
  tables: [
    { name: T.plans, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['started_on', 'date'], ['status', 'text'], ['caregiver', 'text'], ['measures', 'text'], ['last_visit_on', 'date']] },
    { name: T.visits, columns: [['id', 'uuid'], ['plan_id', 'uuid'], ['minor_id', 'uuid'], ['visited_on', 'date'], ['visitor', 'text'], ['notes', 'text']] },
    { name: T.sessions, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['held_on', 'date'], ['topic', 'text'], ['attendee', 'text'], ['instructor', 'text'], ['notes', 'text']] },
    { name: T.support, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['started_on', 'date'], ['status', 'text'], ['notes', 'text']] },
    { name: T.attendance, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['home', 'text'], ['attended_on', 'date'], ['activity', 'text']] },
  ],
  generate(child, rng, anchor, emit) {
    const has = (c: string) => child.categories.has(c);
    const kind = has('LEFT_BEHIND') && rng.chance(0.85) ? 'LEFT_BEHIND' : has('MIGRANT') && rng.chance(0.6) ? 'MIGRANT' : null;
    if (kind) {
      const id = rng.uuid();
      const startedAgo = sinceBirth(child, anchor, rng.int(40, 700));
      const ended = rng.chance(0.1);
      const ago = Array.from({ length: rng.int(0, 4) }, () => rng.int(0, startedAgo)).sort((a, b) => a - b);
      for (const a of ago) emit(T.visits, [rng.uuid(), id, child.id, daysAgo(anchor, a), `妇联执委-${rng.int(1, 20)}号`, '关爱走访: 学习生活情况良好']);
      const caregiver = child.guardians.some((g) => g.startsWith('GRANDPARENT')) ? '祖父母' : '母亲';
      emit(T.plans, [id, child.id, kind, daysAgo(anchor, startedAgo), ended ? 'ENDED' : 'ACTIVE', caregiver, '每月走访一次, 每周亲情通话', ago.length ? daysAgo(anchor, ago[0]) : null]);
    }
    if (has('DOMESTIC_VIOLENCE') && rng.chance(0.7)) {
      for (let n = rng.int(1, 2); n > 0; n--) {
        const a = sinceBirth(child, anchor, rng.int(5, 400));
        emit(T.support, [rng.uuid(), child.id, rng.pick(['SHELTER', 'COUNSELLING', 'LEGAL_REFERRAL', 'PROTECTION_ORDER']), daysAgo(anchor, a), a > 120 ? 'CLOSED' : 'ACTIVE', '受害人安置与心理疏导']);
      }
    }
    if ((has('DOMESTIC_VIOLENCE') && rng.chance(0.5)) || (has('DIVORCED_FAMILY') && rng.chance(0.2)) || (has('LEFT_BEHIND') && rng.chance(0.1))) {
      emit(T.sessions, [rng.uuid(), child.id, daysAgo(anchor, sinceBirth(child, anchor, rng.int(3, 300))), rng.pick(TOPICS), rng.pick(['母亲', '父亲', '祖母']), '家庭教育指导师 王老师', null]);
    }
    if ((has('LEFT_BEHIND') || has('MIGRANT')) && child.age >= 3 && child.age <= 14 && rng.chance(0.6)) {
      const home = rng.pick(HOMES);
      for (let n = rng.int(1, 5); n > 0; n--) emit(T.attendance, [rng.uuid(), child.id, home, daysAgo(anchor, rng.int(1, 180)), rng.pick(ACTIVITIES)]);
    }
  },
};

export const seedWomensFederationIfEmpty = (em: EntityManager, anchor: Date) => seedRecordsIfEmpty(em, anchor, womensFederationRecords);
