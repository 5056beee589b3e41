/** A birth date `years` years and `days` days ago (UTC): a child of `years` whose birthday is not near. */
export function birthYearsAgo(years: number, days = 10): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}
