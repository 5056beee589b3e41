import { MaskKind } from './policy.types';

/** 罪错/受害 categories whose exact value is narrower than the fact that a child needs support. */
export const SENSITIVE_CATEGORIES = new Set(['CRIME_VICTIM', 'DOMESTIC_VIOLENCE', 'INCARCERATED_PARENT']);
export const NEEDS_SUPPORT = 'NEEDS_SUPPORT';

const star = (n: number) => '*'.repeat(Math.max(n, 0));

function maskAddress(address: string): string {
  // Keep the administrative prefix through the district/county, which the caller's jurisdiction
  // already implies; star the street, house and room.
  const m = /^(.*?(?:区|县|市辖区))/.exec(address);
  const keep = m ? m[1] : address.slice(0, Math.min(6, address.length));
  return keep + star(Math.min(address.length - keep.length, 8) || 4);
}

export function applyMask(kind: MaskKind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => applyMask(kind, v));
  const s = String(value);
  switch (kind) {
    case MaskKind.ID_NUMBER:
      return s.length > 10 ? s.slice(0, 6) + star(s.length - 10) + s.slice(-4) : star(s.length);
    case MaskKind.PHONE:
      return s.length > 7 ? s.slice(0, 3) + star(s.length - 7) + s.slice(-4) : star(s.length);
    case MaskKind.NAME:
      return s.length > 0 ? Array.from(s)[0] + star(Array.from(s).length - 1 || 1) : s;
    case MaskKind.ADDRESS:
      return maskAddress(s);
    case MaskKind.SENSITIVE_CATEGORY:
      return SENSITIVE_CATEGORIES.has(s) ? NEEDS_SUPPORT : s;
  }
}
