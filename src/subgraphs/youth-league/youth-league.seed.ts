import type { EntityManager } from 'typeorm';
import { ChildRecords, daysAgo, seedRecordsIfEmpty, sinceBirth } from '../shared/seed';

const BEHAVIOURS = ['GANG_FIGHTING', 'CARRYING_WEAPON', 'REPEATED_THEFT', 'DRUG_USE', 'GAMBLING'] as const;
const WORKERS = ['团委社工 陈老师', '团委社工 林老师', '青少年事务社工 赵老师'];

const T = {
  cases: 'youth_league.prevention_case',
  followUps: 'youth_league.follow_up',
  support: 'youth_league.idle_support',
  visits: 'youth_league.volunteer_visit',
};

/**
 * Youth League records consistent with the registry: a serious-misbehaviour case with follow-ups
 * for most SERIOUS_MISBEHAVIOUR children, prevention cases and return-to-school / training /
 * work support for idle and runaway children (work only from 16), volunteer visits to
 * left-behind, orphaned and unsupported children.
 */
export const youthLeagueRecords: ChildRecords = {
  seed: 20261204,
  tables: [
    { name: T.cases, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['behaviour', 'text'], ['opened_on', 'date'], ['status', 'text'], ['case_worker', 'text'], ['measures', 'text'], ['last_follow_up_on', 'date']] },
    { name: T.followUps, columns: [['id', 'uuid'], ['case_id', 'uuid'], ['minor_id', 'uuid'], ['followed_up_on', 'date'], ['note', 'text']] },
    { name: T.support, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['kind', 'text'], ['started_on', 'date'], ['provider', 'text'], ['status', 'text'], ['note', 'text']] },
    { name: T.visits, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['visited_on', 'date'], ['volunteer', 'text'], ['notes', 'text']] },
  ],
  generate(child, rng, anchor, emit) {
    const has = (c: string) => child.categories.has(c);
    const serious = has('SERIOUS_MISBEHAVIOUR') && rng.chance(0.8);
    if (serious || ((has('IDLE') || has('STREET_RUNAWAY')) && child.age >= 10 && rng.chance(0.4))) {
      const id = rng.uuid();
      const drawn = rng.int(20, 400);
      // Decided by the days drawn, as before they were cut at the birth: the draws after it stay the same.
      const closed = drawn > 200 && rng.chance(0.3);
      const openedAgo = sinceBirth(child, anchor, drawn);
      const ups = Array.from({ length: rng.int(0, 3) }, () => rng.int(0, openedAgo)).sort((a, b) => b - a);
      for (const ago of ups) emit(T.followUps, [rng.uuid(), id, child.id, daysAgo(anchor, ago), '跟踪帮教: 在校/在家表现, 与监护人沟通']);
      emit(T.cases, [
        id,
        child.id,
        serious ? 'SERIOUS_MISBEHAVIOUR' : 'GENERAL_PREVENTION',
        serious ? rng.pick(BEHAVIOURS) : null,
        daysAgo(anchor, openedAgo),
        closed ? 'CLOSED' : 'OPEN',
        rng.pick(WORKERS),
        '每月谈心一次, 联系学校与监护人共同帮教',
        ups.length ? daysAgo(anchor, ups[ups.length - 1]) : null,
      ]);
    }
    if (has('IDLE') && child.age >= 12 && rng.chance(0.9)) {
      const kind = child.age >= 16 ? rng.pick(['VOCATIONAL_TRAINING', 'EMPLOYMENT', 'RETURN_TO_SCHOOL']) : rng.pick(['RETURN_TO_SCHOOL', 'VOCATIONAL_TRAINING']);
      const ago = rng.int(10, 300);
      const provider = { RETURN_TO_SCHOOL: child.school ?? '杭州第十中学', VOCATIONAL_TRAINING: '上城区职业高级中学', EMPLOYMENT: '青年就业见习基地' }[kind]!;
      emit(T.support, [rng.uuid(), child.id, kind, daysAgo(anchor, ago), provider, ago > 180 ? rng.pick(['COMPLETED', 'ABANDONED']) : 'IN_PROGRESS', null]);
    }
    if ((has('LEFT_BEHIND') || has('ORPHAN') || has('UNSUPPORTED')) && rng.chance(0.4)) {
      for (let n = rng.int(1, 3); n > 0; n--) emit(T.visits, [rng.uuid(), child.id, daysAgo(anchor, rng.int(1, 200)), `青年志愿者-${rng.int(1, 40)}号`, '陪伴学习, 送学习用品']);
    }
  },
};

export const seedYouthLeagueIfEmpty = (em: EntityManager, anchor: Date) => seedRecordsIfEmpty(em, anchor, youthLeagueRecords);
