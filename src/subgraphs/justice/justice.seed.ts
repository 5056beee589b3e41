import type { EntityManager } from 'typeorm';
import { ChildRecords, daysAgo, seedRecordsIfEmpty, sinceBirth } from '../shared/seed';

const PRISONS = ['浙江省第一监狱', '浙江省乔司监狱', '浙江省十里坪监狱'];
const REHAB = ['浙江省强制隔离戒毒所', '杭州市强制隔离戒毒所'];
const OFFICES = ['清波司法所', '湖滨司法所', '小营司法所', '紫阳司法所'];

const T = {
  parents: 'justice.incarcerated_parent',
  corrections: 'justice.community_correction',
  aid: 'justice.legal_aid_case',
};

/**
 * Justice records consistent with the registry: one custody record for every guardian the
 * registry lists as serving a sentence or in compulsory rehabilitation (some due for release in
 * the coming two months), community correction for a few older seriously misbehaving children,
 * legal aid for victims, guardianship matters of children of incarcerated parents, and child
 * support for divorced families.
 */
export const justiceRecords: ChildRecords = {
  seed: 20261203,
  tables: [
    { name: T.parents, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['parent', 'text'], ['kind', 'text'], ['institution', 'text'], ['since', 'date'], ['expected_release', 'date'], ['status', 'text']] },
    { name: T.corrections, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['started_on', 'date'], ['ends_on', 'date'], ['status', 'text'], ['supervising_office', 'text'], ['notes', 'text']] },
    { name: T.aid, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['opened_on', 'date'], ['matter', 'text'], ['status', 'text'], ['provider', 'text'], ['details', 'text']] },
  ],
  generate(child, rng, anchor, emit) {
    const has = (c: string) => child.categories.has(c);
    for (const guardian of child.guardians) {
      const [relationship, situation] = guardian.split(':');
      if ((situation !== 'SERVING_SENTENCE' && situation !== 'COMPULSORY_REHAB') || (relationship !== 'FATHER' && relationship !== 'MOTHER')) continue;
      const sentence = situation === 'SERVING_SENTENCE';
      const sinceAgo = rng.int(60, sentence ? 2000 : 700);
      const releaseAhead = rng.chance(0.15) ? rng.int(1, 60) : rng.int(61, sentence ? 2500 : 700);
      emit(T.parents, [rng.uuid(), child.id, relationship, situation, rng.pick(sentence ? PRISONS : REHAB), daysAgo(anchor, sinceAgo), daysAgo(anchor, -releaseAhead), 'IN_CUSTODY']);
    }
    if (has('SERIOUS_MISBEHAVIOUR') && child.age >= 14 && rng.chance(0.6)) {
      const startedAgo = rng.int(30, 500);
      const endsOn = startedAgo - rng.int(180, 720);
      emit(T.corrections, [rng.uuid(), child.id, daysAgo(anchor, startedAgo), daysAgo(anchor, endsOn), endsOn > 0 ? 'COMPLETED' : 'ACTIVE', rng.pick(OFFICES), null]);
    }
    const matter =
      (has('CRIME_VICTIM') || has('DOMESTIC_VIOLENCE')) && rng.chance(0.4)
        ? 'VICTIM_REPRESENTATION'
        : has('INCARCERATED_PARENT') && rng.chance(0.15)
          ? 'GUARDIANSHIP'
          : has('DIVORCED_FAMILY') && rng.chance(0.1)
            ? 'CHILD_SUPPORT'
            : null;
    if (matter) {
      const ago = sinceBirth(child, anchor, rng.int(5, 400));
      emit(T.aid, [rng.uuid(), child.id, daysAgo(anchor, ago), matter, ago > 120 ? 'CLOSED' : 'OPEN', '上城区法律援助中心', '指派律师代理, 已与监护人面谈']);
    }
  },
};

export const seedJusticeIfEmpty = (em: EntityManager, anchor: Date) => seedRecordsIfEmpty(em, anchor, justiceRecords);
