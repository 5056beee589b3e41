/** Whole years between a YYYY-MM-DD birth date and `at`, counted on the calendar (UTC). */
export function ageOn(birthDate: string, at: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number);
  let age = at.getUTCFullYear() - y;
  const beforeBirthday = at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age;
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export function addMonths(date: Date, months: number): Date {
  const r = new Date(date.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
}

export const toIsoDate = (d: Date) => d.toISOString().slice(0, 10);
