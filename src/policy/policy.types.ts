import { Department, PolicySubject } from '../auth/principal';

/** What a subject gets for one `Type.field`. Not listed = DENY. */
export enum Access {
  ALLOW = 'ALLOW',
  MASK = 'MASK',
  DENY = 'DENY',
}

/** How a masked value is shown; each kind keeps just enough to recognise, not to identify. */
export enum MaskKind {
  /** 110105************: the region code only — never the birth date, nor the sequence and check character after it. */
  ID_NUMBER = 'ID_NUMBER',
  /** 138****5678 — the first 3 and last 4 around a fixed run of stars when 4 digits or more lie between them; else the stars only. */
  PHONE = 'PHONE',
  /** 张**, 欧阳** — a Han name's surname only, the rest a fixed run of stars; any other name stars only. */
  NAME = 'NAME',
  /** A leading administrative prefix (province, city, district/county: 浙江省杭州市上城区) followed by a street or township only, the rest a fixed run of stars; anything else stars only. */
  ADDRESS = 'ADDRESS',
  /** A sensitive difficulty category (crime victim, domestic violence, incarcerated parent) shows as NEEDS_SUPPORT. */
  SENSITIVE_CATEGORY = 'SENSITIVE_CATEGORY',
}

export interface PolicyRow {
  type: string;
  field: string;
  access: Partial<Record<PolicySubject, Access>>;
  mask?: MaskKind;
  /** Why these departments get this — rendered into docs/permissions.md. */
  reason: string;
}

export const ALL_DEPARTMENTS: readonly Department[] = Object.values(Department);

/**
 * Builds a row from lists of subjects; what is not listed stays DENY. Keeps slice policy files
 * readable as a table.
 */
export function policyRow(
  type: string,
  field: string,
  grants: { allow?: readonly PolicySubject[]; mask?: readonly PolicySubject[]; as?: MaskKind },
  reason: string,
): PolicyRow {
  const access: Partial<Record<PolicySubject, Access>> = {};
  for (const s of grants.allow ?? []) access[s] = Access.ALLOW;
  for (const s of grants.mask ?? []) {
    if (access[s]) throw new Error(`policy ${type}.${field}: ${s} is both ALLOW and MASK`);
    access[s] = Access.MASK;
  }
  if (grants.mask?.length && !grants.as) throw new Error(`policy ${type}.${field}: MASK needs a mask kind`);
  return { type, field, access, mask: grants.as, reason };
}

/** Rows for structural types (connections, page info) that carry no personal data of their own. */
export function structuralRows(type: string, fields: string[], subjects: readonly PolicySubject[], reason: string): PolicyRow[] {
  return fields.map((field) => policyRow(type, field, { allow: subjects }, reason));
}
