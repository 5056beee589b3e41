import { isDepartment, PolicySubject, POLICY_SUBJECTS } from '../auth/principal';
import { forbidden } from '../errors/hub.exception';
import type { FieldGrants } from './grants';
import { SENSITIVE_CATEGORIES } from './masks';
import { Access, MaskKind, PolicyRow } from './policy.types';

/** Federation plumbing present in every subgraph; reachable only through the gateway. */
export const FEDERATION_FIELDS = new Set(['Query._service', 'Query._entities', '_Service.sdl']);

/**
 * Fields whose exact value tells a part of another field's: `[part, whole]`. Whoever reads the part
 * must read the whole exactly too, or the part fills in what the whole's mask hides — a guardian's
 * situation (SERVING_SENTENCE) or its note tells the INCARCERATED_PARENT category the
 * SENSITIVE_CATEGORY mask folds into NEEDS_SUPPORT; a due date a visit set, less the level's
 * interval, is the visit's time.
 */
export const PARTS_OF: readonly (readonly [part: string, whole: string])[] = [
  // The birth date is 8 of the 12 characters the ID_NUMBER mask stars. `age` is no part: read daily,
  // it tells the birth date too, which is why the mask stars the sequence and check character as
  // well — a birth date, however learned, leaves 1,000 numbers (500 with the gender). The date itself
  // is still not served beside the masked number, to those who do not watch the age for a year.
  ['Minor.birthDate', 'Minor.idNumber'],
  ['Guardian.situation', 'MinorCategory.category'],
  ['Guardian.situationNote', 'MinorCategory.category'],
  // An assessment's reasons name the difficulty ("DOMESTIC_VIOLENCE: …").
  ['RiskAssessment.reasons', 'MinorCategory.category'],
  // The due date a visit sets, and the overdue list: by when a child joins it, and its daysOverdue.
  ['Minor.nextVisitDue', 'Visit.visitedAt'],
  ['Query.overdueVisits', 'Visit.visitedAt'],
  ['OverdueVisit.nextVisitDue', 'Visit.visitedAt'],
  ['OverdueVisit.daysOverdue', 'Visit.visitedAt'],
  ['OverdueVisit.lastVisitAt', 'Visit.visitedAt'],
  // A visit stamps the child's record: recorded without a time of its own, `updatedAt` is its time.
  ['Minor.updatedAt', 'Visit.visitedAt'],
  // Rates of visits over counts of children an officer lists (minors { totalCount }): 0 or 100 %
  // tells each child's visit status.
  ['RegionRates.visitsOnTime', 'Minor.nextVisitDue'],
  ['RegionRates.intervention', 'Visit.visitedAt'],
  ['RegionRates.assistance', 'Visit.visitedAt'],
];

/**
 * Fields that hold the same value for many children: a guardian at home lives at the child's
 * address, a child living where it is registered (户籍地) has the one address twice, and the
 * police's verification of its 户口 records the registry's 户籍地. Whoever
 * reads one must read the other alike (exactly, masked, or not at all), or the one shows what the
 * other's mask hides.
 */
export const SAME_VALUE: readonly (readonly [string, string, string?])[] = [
  ['Guardian.address', 'Minor.currentAddress'],
  ['Minor.householdRegistration', 'Minor.currentAddress'],
  // The police's identity verification records the 户籍地 the registry holds. The third field is the
  // one way to the first: who is refused it reads neither the first's value nor its mask (justice).
  ['IdentityVerification.householdPlace', 'Minor.householdRegistration', 'Minor.identityVerifications'],
];

/**
 * Fields that, served in any form, tell part of another: `[field, whole]`. Whoever reads the first
 * at all must read the whole at least masked. The ID number's mask keeps its first 6 digits, the code
 * of the county where the number was issued — where the child's 户口 was, the district the 户籍地's
 * mask keeps.
 */
export const SHOWS_PART_OF: readonly (readonly [field: string, whole: string])[] = [['Minor.idNumber', 'Minor.householdRegistration']];

/**
 * The compiled policy table: one lookup per `Type.field` and subject. Built once at start-up
 * from every slice's rows; unknown fields and subjects are DENY.
 */
export class Policy {
  private readonly rows = new Map<string, PolicyRow>();

  constructor(rows: PolicyRow[]) {
    for (const row of rows) {
      const key = `${row.type}.${row.field}`;
      if (this.rows.has(key)) throw new Error(`Policy table lists ${key} twice`);
      const masked = POLICY_SUBJECTS.filter((s) => row.access[s] === Access.MASK);
      if (masked.length && !row.mask) throw new Error(`Policy row ${key} masks for ${masked.join(', ')} but names no mask kind`);
      this.rows.set(key, row);
    }
  }

  all(): PolicyRow[] {
    return [...this.rows.values()];
  }

  row(key: string): PolicyRow | undefined {
    return this.rows.get(key);
  }

  access(subject: PolicySubject, key: string): Access {
    return this.rows.get(key)?.access[subject] ?? Access.DENY;
  }

  /**
   * Whether the subject can reach `key` at all with the fields `opened` to it besides its row: not a
   * field whose one way in (SAME_VALUE's third) it is refused — the police's record of the 户籍地,
   * through `Minor.identityVerifications`.
   */
  reachable(subject: PolicySubject, key: string, opened: ReadonlySet<string>): boolean {
    return SAME_VALUE.every(([one, , through]) => one !== key || !through || opened.has(through) || this.access(subject, through) !== Access.DENY);
  }

  /**
   * A filter argument on a field is an oracle for its value, so filtering needs the right to read
   * the exact value. The one exception: a category filter under a SENSITIVE_CATEGORY mask may use
   * categories that the mask would show unchanged anyway.
   */
  assertFilterable(subject: PolicySubject, key: string, argument: string, values: readonly string[] = []): void {
    const access = this.access(subject, key);
    if (access === Access.ALLOW) return;
    const row = this.rows.get(key);
    if (
      access === Access.MASK &&
      row?.mask === MaskKind.SENSITIVE_CATEGORY &&
      values.every((v) => !SENSITIVE_CATEGORIES.has(v))
    ) {
      return;
    }
    throw forbidden(`Filtering by ${argument} needs read access to ${key}`, { field: key, argument });
  }

  /**
   * Subjects who could read a part of a field (PARTS_OF) without reading the whole exactly, or one
   * of two fields of the same value (SAME_VALUE) otherwise than the other, by the
   * table alone or under one grant (a grant opens its fields as ALLOW, to any department): start-up
   * refuses to serve them, beside the completeness check.
   */
  rebuildLeaks(grants: FieldGrants): string[] {
    const leaks: string[] = [];
    const check = (subject: PolicySubject, opened: ReadonlySet<string>, under: string) => {
      const access = (key: string) => (opened.has(key) ? Access.ALLOW : this.access(subject, key));
      for (const [part, whole] of PARTS_OF) {
        if (access(part) !== Access.DENY && access(whole) !== Access.ALLOW) {
          leaks.push(`${subject} reads ${part} but ${whole} is ${access(whole)}${under}: the two rebuild ${whole}`);
        }
      }
      for (const [field, whole] of SHOWS_PART_OF) {
        if (access(field) !== Access.DENY && access(whole) === Access.DENY) {
          leaks.push(`${subject} reads ${field} as ${access(field)} but ${whole} is DENY${under}: the first tells part of the second`);
        }
      }
      for (const [one, other, through] of SAME_VALUE) {
        if (through && access(through) === Access.DENY) continue;
        if (access(one) !== access(other)) leaks.push(`${subject} reads ${one} as ${access(one)} but ${other} as ${access(other)}${under}: they hold the same value`);
      }
    };
    for (const subject of POLICY_SUBJECTS) {
      check(subject, new Set(), '');
      if (!isDepartment(subject)) continue;
      for (const kind of grants.kinds()) check(subject, kind.fields, ` under grant ${kind.name}`);
    }
    return leaks;
  }

  /** Fields of a schema the table does not cover: start-up refuses to serve them. */
  uncovered(fieldKeys: Iterable<string>): string[] {
    return [...fieldKeys].filter((k) => !this.rows.has(k) && !FEDERATION_FIELDS.has(k));
  }
}
