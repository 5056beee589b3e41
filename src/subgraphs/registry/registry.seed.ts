import type { EntityManager } from 'typeorm';
import { addDays, ageOn, chinaDay } from '../../common/dates';
import { buildIdNumber } from '../../common/id-number';
import { Rng } from '../../common/rng';
import { insertRows } from '../shared/seed';
import { DEMO_ROOT_REGION, YOUNGEST_WITH_CATEGORY } from './registry.constants';
import { nextVisitDue } from './resolvers/minor-mutation.resolver';
import { DifficultyCategory as C, GuardianRelationship, GuardianSituation as S, RiskLevel } from './registry.enums';

export const DEMO_MINOR_COUNT = 2400;

const STREETS = ['清波街道', '湖滨街道', '小营街道', '紫阳街道', '望江街道', '南星街道', '凯旋街道', '采荷街道', '闸弄口街道', '四季青街道'];
const COMMUNITIES = ['东社区', '西社区', '南社区', '北社区', '中社区', '新社区', '花园社区', '河畔社区', '桥头社区', '山前社区'];
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '罗', '高'];
const GIVEN = ['子', '浩', '宇', '欣', '怡', '轩', '梓', '涵', '晨', '阳', '雨', '佳', '俊', '诗', '博', '文', '思', '睿', '可', '铭'];
const SCHOOLS = ['清波小学', '湖滨小学', '胜利小学', '紫阳小学', '杭州第十中学', '开元中学', '建兰中学'];

/** Category mixes that occur together, with their weights, so the data looks like a real ledger. */
const PROFILES: readonly (readonly [C[], number])[] = [
  [[], 30],
  [[C.LEFT_BEHIND], 14],
  [[C.MIGRANT], 8],
  [[C.POVERTY], 8],
  [[C.LEFT_BEHIND, C.POVERTY], 5],
  [[C.DIVORCED_FAMILY], 5],
  [[C.DISABILITY], 3],
  [[C.SERIOUS_ILLNESS, C.POVERTY], 3],
  [[C.INCARCERATED_PARENT, C.UNSUPPORTED], 3],
  [[C.INCARCERATED_PARENT], 3],
  [[C.DOMESTIC_VIOLENCE], 3],
  [[C.CRIME_VICTIM], 2],
  [[C.DROPOUT, C.IDLE], 3],
  [[C.DROPOUT], 2],
  [[C.SERIOUS_MISBEHAVIOUR], 2],
  [[C.ORPHAN], 1],
  [[C.LACK_OF_GUARDIANSHIP, C.STREET_RUNAWAY], 1],
  [[C.EARLY_MARRIAGE, C.DROPOUT], 1],
];
/** The youngest age the demo gives 早婚早育. */
const EARLY_MARRIAGE_AGE = 14;

/**
 * A category of the profile as the child's age allows it, or none: a child too young for school
 * neither drops out of it nor idles out of it (the poverty or disability behind them stand instead),
 * and no child under EARLY_MARRIAGE_AGE is married early. Decided after the draws, and for categories
 * that decide no guardian, no level and no other slice's record of such a child, so that every other
 * row of the demo stays as it was.
 */
function fitForAge(category: C, school: string | null, age: number): C | null {
  if (category === C.EARLY_MARRIAGE && age < EARLY_MARRIAGE_AGE) return null;
  // `school` is drawn by an age in 365.25-day years; the registry's rule counts on the calendar.
  if (school !== null && age >= (YOUNGEST_WITH_CATEGORY[category] ?? 0)) return category;
  return category === C.DROPOUT ? C.POVERTY : category === C.IDLE ? C.DISABILITY : category;
}

/**
 * A category's day identified as drawn, or the day the child reached the youngest age that can have
 * it (YOUNGEST_WITH_CATEGORY, which addCategory keeps), when later: a dropout drawn 700 days back was
 * identified at 4.
 */
function identifiedOn(category: C, birthDate: string, drawn: string): string {
  const youngest = YOUNGEST_WITH_CATEGORY[category];
  if (youngest === undefined) return drawn;
  // 29 February's birthday, in a year without one, is 1 March (as ageOn counts).
  const birthday = `${Number(birthDate.slice(0, 4)) + youngest}${birthDate.slice(4) === '-02-29' ? '-03-01' : birthDate.slice(4)}`;
  return birthday > drawn ? birthday : drawn;
}
const SEVERE = new Set([C.DOMESTIC_VIOLENCE, C.CRIME_VICTIM, C.ORPHAN, C.LACK_OF_GUARDIANSHIP, C.STREET_RUNAWAY, C.UNSUPPORTED]);

/** Column lists (name, Postgres type) of the registry tables, in the order rows are generated. */
export const REGISTRY_COLUMNS = {
  region: [['code', 'varchar'], ['parent_code', 'varchar'], ['level', 'text'], ['name', 'text']],
  minor: [
    ['id', 'uuid'], ['name', 'text'], ['gender', 'text'], ['birth_date', 'date'], ['id_number', 'bpchar'],
    ['household_registration', 'text'], ['current_address', 'text'], ['grid_code', 'varchar'], ['school', 'text'],
    ['risk_level', 'text'], ['next_visit_due', 'timestamptz'], ['created_at', 'timestamptz'], ['updated_at', 'timestamptz'],
  ],
  guardian: [['id', 'uuid'], ['minor_id', 'uuid'], ['relationship', 'text'], ['name', 'text'], ['phone', 'text'], ['address', 'text'], ['situation', 'text'], ['situation_note', 'text']],
  minor_category: [['minor_id', 'uuid'], ['category', 'text'], ['identified_at', 'date']],
  risk_assessment: [['id', 'uuid'], ['minor_id', 'uuid'], ['level', 'text'], ['reasons', 'text'], ['assessor', 'text'], ['assessed_at', 'timestamptz'], ['next_visit_due', 'timestamptz']],
  visit: [['id', 'uuid'], ['minor_id', 'uuid'], ['visited_at', 'timestamptz'], ['visitor', 'text'], ['notes', 'text']],
} as const;
export type RegistryTable = keyof typeof REGISTRY_COLUMNS;
export type Row = unknown[];

export interface Grid {
  code: string;
  district: string;
  address: string;
}

/** District → streets → communities → grids, codes extending their parent's (a subtree is a prefix). */
export function regionTree(
  districts: readonly { code: string; name: string }[],
  streets: number,
  communities: number,
  gridsPer: number,
): { regions: Row[]; grids: Grid[] } {
  const regions: Row[] = [];
  const grids: Grid[] = [];
  for (const district of districts) {
    regions.push([district.code, null, 'DISTRICT', district.name]);
    for (let si = 0; si < streets; si++) {
      const street = STREETS[si % STREETS.length] + (si >= STREETS.length ? `${Math.floor(si / STREETS.length) + 1}` : '');
      const streetCode = `${district.code}${String(si + 1).padStart(3, '0')}`;
      regions.push([streetCode, district.code, 'STREET', street]);
      for (let ci = 0; ci < communities; ci++) {
        const communityCode = `${streetCode}${String(ci + 1).padStart(3, '0')}`;
        const communityName = street.replace('街道', '') + COMMUNITIES[ci % COMMUNITIES.length];
        regions.push([communityCode, streetCode, 'COMMUNITY', communityName]);
        for (let g = 1; g <= gridsPer; g++) {
          const gridCode = `${communityCode}${String(g).padStart(3, '0')}`;
          regions.push([gridCode, communityCode, 'GRID', `${communityName}第${g}网格`]);
          grids.push({ code: gridCode, district: district.code, address: `${district.name}${street}${communityName}` });
        }
      }
    }
  }
  return { regions, grids };
}

const phone = (rng: Rng) => `1${rng.pick(['38', '39', '58', '59', '86', '88'])}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
const personName = (rng: Rng, surname = rng.pick(SURNAMES)) => surname + rng.pick(GIVEN) + (rng.chance(0.6) ? rng.pick(GIVEN) : '');

/**
 * One child with guardians, categories, assessments and visits, as rows of REGISTRY_COLUMNS.
 * Guardians follow the categories, because the reason for difficulty usually sits with them.
 * `usedIds` keeps ID numbers unique.
 */
export function generateFamily(rng: Rng, grid: Grid, anchor: Date, usedIds: Set<string>, emit: (table: RegistryTable, row: Row) => void): RiskLevel | null {
  const id = rng.uuid();
  const ageDays = rng.int(200, 17 * 365 - 30);
  const birth = addDays(anchor, -ageDays);
  const birthDate = chinaDay(birth);
  const male = rng.chance(0.52);
  let idNumber: string;
  do {
    idNumber = buildIdNumber(grid.district, birthDate, rng.int(0, 499) * 2 + (male ? 1 : 0));
  } while (usedIds.has(idNumber));
  usedIds.add(idNumber);
  const surname = rng.pick(SURNAMES);
  const address = `${grid.address}${rng.int(1, 200)}号${rng.int(1, 30)}0${rng.int(1, 4)}室`;
  const age = Math.floor((anchor.getTime() - birth.getTime()) / (365.25 * 86_400_000));
  const school = age >= 6 ? rng.pick(SCHOOLS) : null;
  const profile = rng.weighted(PROFILES);

  const situations: [GuardianRelationship, S][] = [];
  if (profile.includes(C.ORPHAN)) situations.push([GuardianRelationship.APPOINTED, S.NORMAL]);
  else if (profile.includes(C.INCARCERATED_PARENT)) {
    situations.push([GuardianRelationship.FATHER, rng.chance(0.6) ? S.SERVING_SENTENCE : S.COMPULSORY_REHAB], [GuardianRelationship.GRANDPARENT, S.NORMAL]);
  } else if (profile.includes(C.LEFT_BEHIND)) {
    situations.push([GuardianRelationship.FATHER, S.WORKING_AWAY], [GuardianRelationship.GRANDPARENT, S.NORMAL]);
  } else if (profile.includes(C.DIVORCED_FAMILY)) situations.push([GuardianRelationship.MOTHER, S.DIVORCED]);
  else if (profile.includes(C.SERIOUS_ILLNESS)) situations.push([GuardianRelationship.MOTHER, S.SERIOUSLY_ILL_OR_DISABLED]);
  else if (profile.includes(C.LACK_OF_GUARDIANSHIP)) situations.push([GuardianRelationship.OTHER_RELATIVE, S.MISSING]);
  else {
    situations.push([GuardianRelationship.FATHER, S.NORMAL]);
    if (rng.chance(0.7)) situations.push([GuardianRelationship.MOTHER, S.NORMAL]);
  }
  const guardians: Row[] = situations.map(([relationship, situation]) => [
    rng.uuid(),
    id,
    relationship,
    relationship === GuardianRelationship.FATHER || relationship === GuardianRelationship.GRANDPARENT ? personName(rng, surname) : personName(rng),
    phone(rng),
    situation === S.SERVING_SENTENCE || situation === S.MISSING ? null : address,
    situation,
    situation === S.NORMAL ? null : `${situation} — recorded at screening`,
  ]);
  // Never before birth, which addCategory refuses: a baby's difficulty was identified in its lifetime.
  const categories: Row[] = profile
    .map((category): Row => {
      const fitted = fitForAge(category, school, ageOn(birthDate, anchor));
      const drawn = chinaDay(addDays(anchor, -rng.int(30, Math.min(700, ageDays))));
      return [id, fitted, fitted === null ? drawn : identifiedOn(fitted, birthDate, drawn)];
    })
    .filter((row) => row[1] !== null);

  let riskLevel: RiskLevel | null = null;
  let lastAssessedAt: Date | null = null;
  const assessments: Row[] = [];
  const visits: Row[] = [];
  if (profile.length) {
    const severe = profile.some((c) => SEVERE.has(c));
    const rounds = rng.int(1, 3);
    for (let r = rounds; r >= 1; r--) {
      const level = rng.weighted<RiskLevel>(
        severe
          ? [[RiskLevel.RED, 30], [RiskLevel.ORANGE, 40], [RiskLevel.YELLOW, 25], [RiskLevel.BLUE, 5]]
          : [[RiskLevel.RED, 2], [RiskLevel.ORANGE, 13], [RiskLevel.YELLOW, 35], [RiskLevel.BLUE, 50]],
      );
      const assessedAt = addDays(anchor, -(r - 1) * 120 - rng.int(1, 100));
      const assessmentId = rng.uuid();
      // An earlier round of a young child would fall before birth, which recordAssessment refuses:
      // left out (its draws still made, so that the children after it are the same). The latest
      // round, at most 100 days back, always falls after birth (200 days back at least).
      if (assessedAt < birth) continue;
      riskLevel = level;
      lastAssessedAt = assessedAt;
      assessments.push([assessmentId, id, level, `${categories.map((c) => c[1]).join(', ')}: screening round ${assessments.length + 1}`, `grid-worker-${grid.code.slice(-6)}`, assessedAt, nextVisitDue(level, assessedAt)]);
    }
    for (let v = rng.int(0, 3); v > 0; v--) {
      visits.push([rng.uuid(), id, addDays(anchor, -rng.int(1, 200)), `child-director-${grid.code.slice(-6)}`, '入户走访: 生活、学习情况正常记录']);
    }
  }
  // As recordAssessment and recordVisit keep it (followUp): the level's interval from the last visit
  // after the latest assessment, else from the assessment.
  const lastVisitAt = visits.reduce<Date | null>((last, v) => (!last || (v[2] as Date) > last ? (v[2] as Date) : last), null);
  const due = riskLevel && lastAssessedAt ? nextVisitDue(riskLevel, lastVisitAt && lastVisitAt > lastAssessedAt ? lastVisitAt : lastAssessedAt) : null;
  // Parents before children: the minor row first, so that a streaming loader keeps FK order.
  emit('minor', [id, personName(rng, surname), male ? 'MALE' : 'FEMALE', birthDate, idNumber, `${grid.address.slice(0, 9)}`, address, grid.code, school, riskLevel, due, anchor, anchor]);
  for (const row of guardians) emit('guardian', row);
  for (const row of categories) emit('minor_category', row);
  for (const row of assessments) emit('risk_assessment', row);
  for (const row of visits) emit('visit', row);
  return riskLevel;
}

const insert = (em: EntityManager, table: RegistryTable, rows: Row[]) => insertRows(em, `registry.${table}`, REGISTRY_COLUMNS[table], rows);

/**
 * The demo district (330102 上城区): 4 streets × 3 communities × 3 grids and 2,400 minors with
 * guardians, categories, assessments over every risk level and visits. Same seed, same rows;
 * dates are relative to `anchor` so that everyone is a minor and due dates look current.
 */
export async function seedRegistry(em: EntityManager, anchor: Date): Promise<void> {
  const rng = new Rng(20261122);
  const { regions, grids } = regionTree([{ code: DEMO_ROOT_REGION, name: '浙江省杭州市上城区' }], 4, 3, 3);
  await insert(em, 'region', regions);
  const rows: Record<RegistryTable, Row[]> = { region: [], minor: [], guardian: [], minor_category: [], risk_assessment: [], visit: [] };
  const usedIds = new Set<string>();
  const levels = new Set<RiskLevel>();
  for (let i = 0; i < DEMO_MINOR_COUNT; i++) {
    const level = generateFamily(rng, rng.pick(grids), anchor, usedIds, (table, row) => rows[table].push(row));
    if (level) levels.add(level);
  }
  if (levels.size < 4) throw new Error('demo seed must cover every risk level');
  for (const table of ['minor', 'guardian', 'minor_category', 'risk_assessment', 'visit'] as const) await insert(em, table, rows[table]);
}

/** The seed runs only on an empty registry. */
export async function seedRegistryIfEmpty(em: EntityManager, anchor: Date): Promise<void> {
  const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM registry.region`);
  if (n === 0) await seedRegistry(em, anchor);
}
