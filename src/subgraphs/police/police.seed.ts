import type { EntityManager } from 'typeorm';
import { ChildRecords, daysAgo, seedRecordsIfEmpty, sinceBirth } from '../shared/seed';

const UNITS = ['清波派出所', '湖滨派出所', '小营派出所', '紫阳派出所'];
const NARRATIVE: Record<string, string> = {
  DOMESTIC_VIOLENCE: '接群众报警, 监护人酒后殴打儿童, 已出警制止并告诫',
  ABUSE: '学校报告儿童身上多处伤痕, 已立案调查',
  MISSING: '监护人报告儿童失联, 已布控查找',
  RUNAWAY: '儿童离家出走, 已在车站找回并送返',
  TRAFFICKING: '疑似拐卖线索, 已移交刑侦',
  SEXUAL_HARM: '强制报告线索, 一站式询问, 已立案',
};

const T = {
  incidents: 'police.incident',
  admonishments: 'police.guardian_admonishment',
  verifications: 'police.identity_verification',
};

/**
 * Police records consistent with the registry: incidents for domestic-violence, crime-victim and
 * runaway/unguarded children (about a third within the last 30 days, those still open),
 * admonishments of guardians after half the domestic-violence incidents, and identity
 * verifications for children whose identity or 户籍 is in question (some runaways unregistered).
 */
export const policeRecords: ChildRecords = {
  seed: 20261202,
  tables: [
    { name: T.incidents, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['type', 'text'], ['occurred_on', 'date'], ['status', 'text'], ['handling_unit', 'text'], ['narrative', 'text']] },
    { name: T.admonishments, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['guardian', 'text'], ['admonished_on', 'date'], ['issuing_unit', 'text'], ['reason', 'text']] },
    { name: T.verifications, columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['verified_on', 'date'], ['result', 'text'], ['household_status', 'text'], ['household_place', 'text'], ['note', 'text']] },
  ],
  generate(child, rng, anchor, emit) {
    const has = (c: string) => child.categories.has(c);
    const types: string[] = [];
    if (has('DOMESTIC_VIOLENCE')) types.push(rng.chance(0.7) ? 'DOMESTIC_VIOLENCE' : 'ABUSE');
    if (has('CRIME_VICTIM')) types.push(rng.pick(['SEXUAL_HARM', 'ABUSE', 'TRAFFICKING']));
    if (has('STREET_RUNAWAY')) types.push(rng.pick(['RUNAWAY', 'MISSING']));
    if (has('LACK_OF_GUARDIANSHIP') && rng.chance(0.3)) types.push('MISSING');
    if (!types.length && rng.chance(0.005)) types.push('RUNAWAY');
    for (const type of types) {
      const ago = sinceBirth(child, anchor, rng.chance(0.35) ? rng.int(0, 29) : rng.int(30, 500));
      const status = ago < 30 ? rng.pick(['REPORTED', 'INVESTIGATING']) : rng.chance(0.7) ? 'CLOSED' : 'INVESTIGATING';
      const unit = rng.pick(UNITS);
      emit(T.incidents, [rng.uuid(), child.id, type, daysAgo(anchor, ago), status, unit, NARRATIVE[type]]);
      if (type === 'DOMESTIC_VIOLENCE' && rng.chance(0.5)) {
        emit(T.admonishments, [rng.uuid(), child.id, rng.weighted([['FATHER', 7], ['MOTHER', 2], ['OTHER_GUARDIAN', 1]] as const), daysAgo(anchor, Math.max(0, ago - rng.int(0, 5))), unit, '对监护人予以训诫, 责令接受家庭教育指导']);
      }
    }
    const uncertain = has('UNSUPPORTED') || has('ORPHAN') || has('STREET_RUNAWAY') || has('LACK_OF_GUARDIANSHIP') || (has('MIGRANT') && rng.chance(0.5));
    if (uncertain) {
      const unregistered = has('STREET_RUNAWAY') && rng.chance(0.3);
      const status = unregistered ? 'UNREGISTERED' : has('MIGRANT') ? rng.pick(['REGISTERED', 'MOVED_OUT']) : 'REGISTERED';
      emit(T.verifications, [
        rng.uuid(),
        child.id,
        daysAgo(anchor, sinceBirth(child, anchor, rng.int(1, 400))),
        unregistered ? 'NO_RECORD' : rng.chance(0.95) ? 'MATCHED' : 'MISMATCHED',
        status,
        unregistered ? null : has('MIGRANT') ? rng.pick(['安徽省阜阳市临泉县', '河南省周口市郸城县', '江西省上饶市鄱阳县']) : '浙江省杭州市上城区',
        unregistered ? '无户籍, 已协调办理登记' : null,
      ]);
    }
  },
};

export const seedPoliceIfEmpty = (em: EntityManager, anchor: Date) => seedRecordsIfEmpty(em, anchor, policeRecords);
