/**
 * The hub serves China: a calendar date — a birth date, "today", "not in the future", a child's
 * age — is a day in China, UTC+8 all year (China keeps no daylight saving time). Every date the hub
 * derives from an instant goes through `chinaDay`, so its answers, its validation and the dates it
 * hands to SQL as parameters agree. SQL that must compute the day itself (the statistics views,
 * refreshed without parameters) uses `statistics.china_day(timestamptz)`, the same fixed offset
 * (migrations/1795401300000-statistics-china-day.ts).
 */
const CHINA_OFFSET_MS = 8 * 3_600_000;

/**
 * How far apart the clocks of one deployment's processes may be: distributed mode refuses a gateway
 * assertion from a clock further off (its 15 s lifetime), and what one instance leases on its clock
 * and another judges on its own allows for it.
 */
export const CLOCK_AGREEMENT_MS = 15_000;

/** The calendar day in China at `at`, YYYY-MM-DD. */
export const chinaDay = (at: Date): string => new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);

const ymd = (day: string) => day.split('-').map(Number) as [number, number, number];

/** Whole years between a YYYY-MM-DD birth date and `at`, counted on the calendar in China. */
export function ageOn(birthDate: string, at: Date): number {
  const [y, m, d] = ymd(birthDate);
  const [ty, tm, td] = ymd(chinaDay(at));
  return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
}

/**
 * The China day `years` years before `at`'s, YYYY-MM-DD: a child is at least `years` old at `at`
 * (as `ageOn` counts) exactly when born on or before it. From 29 February to a year without one it
 * is 28 February, not 1 March: a child born on 1 March is not yet a year older on the 29th.
 */
export function yearsBefore(at: Date, years: number): string {
  const [ty, tm, td] = ymd(chinaDay(at));
  const y = ty - years;
  const lastOfMonth = new Date(Date.UTC(y, tm, 0)).getUTCDate();
  return new Date(Date.UTC(y, tm - 1, Math.min(td, lastOfMonth))).toISOString().slice(0, 10);
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

/**
 * The same time of day `months` later on the calendar in China, on the same day of the month or,
 * when that month is shorter, its last day: a month after 31 January is 28 (29) February. Counted
 * on the UTC calendar with the month's overflow it was 3 March (or, for an instant before 08:00 in
 * China, a day more), so a YELLOW child assessed then was due no visit in February at all.
 */
export function addMonths(date: Date, months: number): Date {
  const local = new Date(date.getTime() + CHINA_OFFSET_MS);
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  local.setUTCFullYear(year, month, Math.min(local.getUTCDate(), lastDay));
  return new Date(local.getTime() - CHINA_OFFSET_MS);
}

/**
 * The time a step is recorded at: now, or the time of the step it follows if that is later. The
 * gateways of one deployment may run seconds apart (distributed mode accepts 15 s): a step taken on
 * one behind the gateway that took the step before had been recorded before the step it follows.
 */
export const stepTime = (now: Date, previous: Date | null | undefined): Date => (previous && previous > now ? previous : now);

/**
 * The latest of a record's times (null when it has none): what a step follows is every time the
 * record was written at — a job's too (an escalation, on the clock of the instance that ran it).
 */
export const latestTime = (...times: (Date | null | undefined)[]): Date | null =>
  times.reduce<Date | null>((latest, t) => (t && (!latest || t > latest) ? t : latest), null);

/**
 * The time a record given no time of its own is dated: now, or just after the latest of its kind
 * if that is not before now — it is the latest, whatever the clock of the gateway that took it
 * (`stepTime`): an assessment taken right after another on a gateway behind had been dated before
 * it, and the child stayed at the other's level.
 */
export const timeAfter = (now: Date, latest: Date | null | undefined): Date => (latest && latest >= now ? new Date(latest.getTime() + 1) : now);
