import type { DataSource } from 'typeorm';
import { Rng } from '../../common/rng';
import { daysAgo, insertRows, seedChildren, tablesEmpty } from '../shared/seed';

const HOMES = ['清波儿童之家', '湖滨儿童之家', '小营儿童之家', '紫阳儿童之家'];
const ACTIVITIES = ['课后托管', '亲情视频通话', '安全教育', '绘本阅读', '手工课'];
const TOPICS = ['亲子沟通', '留守儿童心理关爱', '科学育儿', '防范家庭暴力', '青春期教育'];

/**
 * Women's federation records consistent with the registry: care plans for most left-behind and
 * many migrant children, with visits — some recent, some long overdue, some never — so the
 * "not visited in 30 days" list has both; support and family-education guidance after domestic
 * violence; guidance for some divorced families; 儿童之家 attendance for left-behind and migrant
 * children of 3 to 14.
 */
export async function seedWomensFederation(ds: DataSource, anchor: Date): Promise<void> {
  const rng = new Rng(20261205);
  const plans: unknown[][] = [];
  const visits: unknown[][] = [];
  const sessions: unknown[][] = [];
  const support: unknown[][] = [];
  const attendance: unknown[][] = [];
  for (const child of await seedChildren(ds, anchor)) {
    const has = (c: string) => child.categories.has(c);
    const kind = has('LEFT_BEHIND') && rng.chance(0.85) ? 'LEFT_BEHIND' : has('MIGRANT') && rng.chance(0.6) ? 'MIGRANT' : null;
    if (kind) {
      const id = rng.uuid();
      const startedAgo = rng.int(40, 700);
      const ended = rng.chance(0.1);
      const ago = Array.from({ length: rng.int(0, 4) }, () => rng.int(0, startedAgo)).sort((a, b) => a - b);
      for (const a of ago) visits.push([rng.uuid(), id, child.id, daysAgo(anchor, a), `妇联执委-${rng.int(1, 20)}号`, '关爱走访: 学习生活情况良好']);
      const caregiver = child.guardians.some((g) => g.startsWith('GRANDPARENT')) ? '祖父母' : '母亲';
      plans.push([id, child.id, kind, daysAgo(anchor, startedAgo), ended ? 'ENDED' : 'ACTIVE', caregiver, '每月走访一次, 每周亲情通话', ago.length ? daysAgo(anchor, ago[0]) : null]);
    }
    if (has('DOMESTIC_VIOLENCE') && rng.chance(0.7)) {
      for (let n = rng.int(1, 2); n > 0; n--) {
        const a = rng.int(5, 400);
        support.push([rng.uuid(), child.id, rng.pick(['SHELTER', 'COUNSELLING', 'LEGAL_REFERRAL', 'PROTECTION_ORDER']), daysAgo(anchor, a), a > 120 ? 'CLOSED' : 'ACTIVE', '受害人安置与心理疏导']);
      }
    }
    if ((has('DOMESTIC_VIOLENCE') && rng.chance(0.5)) || (has('DIVORCED_FAMILY') && rng.chance(0.2)) || (has('LEFT_BEHIND') && rng.chance(0.1))) {
      sessions.push([rng.uuid(), child.id, daysAgo(anchor, rng.int(3, 300)), rng.pick(TOPICS), rng.pick(['母亲', '父亲', '祖母']), '家庭教育指导师 王老师', null]);
    }
    if ((has('LEFT_BEHIND') || has('MIGRANT')) && child.age >= 3 && child.age <= 14 && rng.chance(0.6)) {
      const home = rng.pick(HOMES);
      for (let n = rng.int(1, 5); n > 0; n--) attendance.push([rng.uuid(), child.id, home, daysAgo(anchor, rng.int(1, 180)), rng.pick(ACTIVITIES)]);
    }
  }
  await insertRows(
    ds,
    'womens_federation.care_plan',
    [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['started_on', 'date'], ['status', 'text'], ['caregiver', 'text'], ['measures', 'text'], ['last_visit_on', 'date']],
    plans,
  );
  await insertRows(ds, 'womens_federation.care_visit', [['id', 'uuid'], ['plan_id', 'uuid'], ['minor_id', 'uuid'], ['visited_on', 'date'], ['visitor', 'text'], ['notes', 'text']], visits);
  await insertRows(
    ds,
    'womens_federation.family_education_session',
    [['id', 'uuid'], ['minor_id', 'uuid'], ['held_on', 'date'], ['topic', 'text'], ['attendee', 'text'], ['instructor', 'text'], ['notes', 'text']],
    sessions,
  );
  await insertRows(ds, 'womens_federation.violence_support', [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['started_on', 'date'], ['status', 'text'], ['notes', 'text']], support);
  await insertRows(ds, 'womens_federation.children_home_attendance', [['id', 'uuid'], ['minor_id', 'uuid'], ['home', 'text'], ['attended_on', 'date'], ['activity', 'text']], attendance);
}

export async function seedWomensFederationIfEmpty(ds: DataSource, anchor: Date): Promise<void> {
  const tables = ['care_plan', 'care_visit', 'family_education_session', 'violence_support', 'children_home_attendance'].map((t) => `womens_federation.${t}`);
  if (await tablesEmpty(ds, tables)) await seedWomensFederation(ds, anchor);
}
