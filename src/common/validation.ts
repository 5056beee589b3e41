import { badInput } from '../errors/hub.exception';
import { addDays, chinaDay, yearsBefore } from './dates';
import { givenFinerThanMillisecond } from '../schema/date-time.scalar';

/**
 * Input checks shared by every slice's writes. Each failure is BAD_USER_INPUT naming the field,
 * raised before anything is written.
 */

/**
 * Control characters no text of the hub holds: C0 except tab, line feed and carriage return
 * (notes, narratives and observations are multi-line), DEL and C1 (U+0085 is a line break to some
 * readers). U+0000 in particular is refused by Postgres (22021) and would surface as an internal error.
 */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/**
 * Characters that make text read otherwise than it is stored, refused in every text: bidirectional
 * controls and marks (an override shows a name or a note reversed to whoever reads it) and the line
 * and paragraph separators (a line break that tab and line feed do not show as one).
 */
const MISLEADING_CHARACTERS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\p{Zl}\p{Zp}]/u;
/**
 * Characters drawn as nothing: Unicode's Default_Ignorable_Code_Point (zero-width space and joiners,
 * the combining grapheme joiner, variation selectors, Hangul fillers, tags, ...), some of them
 * letters or marks by category, and the characters drawn blank that Unicode does not call ignorable:
 * the blank braille pattern U+2800 and the musical null notehead U+1D159 (symbols), the Khitan
 * small script filler U+16FE4 (a mark). One set for user ids (src/auth/token.service.ts) and text,
 * so that neither lets through what the other knows to be invisible.
 */
export const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800\u{16FE4}\u{1D159}]/u;
/**
 * Not in one line of text (a name, an address, a school, a unit): no format character and nothing
 * INVISIBLE (`刘\u034F子轩` is drawn as 刘子轩: two names that look alike would be different names;
 * so ZWJ and ZWNJ too, as in user ids, though Arabic-script and Indic text can be written with
 * them: their letters read the same without), no space but U+0020 (a no-break or thin space is
 * drawn as one: `刘\u00A0子轩` would be another `刘 子轩`), no tab and no line break.
 */
const NOT_IN_A_LINE = new RegExp(String.raw`[\p{Cf}\t\n\r]|${INVISIBLE.source}|(?! )\p{Zs}`, 'u');
/**
 * What can be seen: a letter, digit, punctuation mark or symbol that is not INVISIBLE (a note of a
 * Hangul filler U+3164, a letter, or of U+2800, a symbol, is blank). Multi-line text may hold
 * invisible characters beside visible ones (an emoji's variation selector or joiner: `已处理👍\uFE0F`).
 */
const VISIBLE = new RegExp(String.raw`(?!${INVISIBLE.source})[\p{L}\p{N}\p{P}\p{S}]`, 'u');
/** In a `u` regex a surrogate pair is one code point, so this matches a lone surrogate only. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Well-formed UTF-16: no lone surrogate (Postgres refuses one inside JSON and replaces it in text). */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/**
 * A region code (区划代码) of a level: a district's 6 digits, a street's 9, a community's 12 or a
 * grid's 15. Another length names no region: taken as a prefix, `33010200` stood for every street
 * of the district whose code it begins, and answered their children as its own.
 */
export const isRegionCode = (s: unknown): s is string => typeof s === 'string' && /^(?:\d{3}){2,5}$/.test(s);

/**
 * Text a client sent that the hub can store and pass on: well-formed UTF-16 (a lone surrogate is
 * silently replaced when stored as UTF-8, and refused by Postgres inside a JSON payload) and no
 * control character. Used by every text input and text filter, before anything is written or read.
 */
export function requireCleanText(field: string, value: string): string {
  if (typeof value !== 'string') throw badInput(field, 'must be text');
  if (!isWellFormed(value)) throw badInput(field, 'must be well-formed Unicode (a lone surrogate is not a character)');
  if (CONTROL_CHARACTERS.test(value)) throw badInput(field, 'must not contain control characters (only tab and line breaks are allowed)');
  if (MISLEADING_CHARACTERS.test(value)) throw badInput(field, 'must not contain bidirectional controls or line separators');
  return value;
}

/**
 * Trimmed text of 1..max characters with something VISIBLE in it (a note of a zero-width space, of
 * combining marks or of a Hangul filler is empty), else BAD_USER_INPUT naming the field. May span
 * lines: notes, narratives, reasons.
 */
export function requireText(field: string, value: string | undefined | null, max: number): string {
  const v = requireCleanText(field, value ?? '').trim();
  if (!v) throw badInput(field, 'must not be empty');
  if (!VISIBLE.test(v)) throw badInput(field, 'must contain a visible character');
  if (Array.from(v).length > max) throw badInput(field, `must be at most ${max} characters`);
  return v;
}

export function optionalText(field: string, value: string | undefined | null, max: number): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : requireText(field, value, max);
}

/**
 * One line of text: a name (a child's, a guardian's, a worker's), an address, a school, a unit.
 * Without two spaces in a row, and kept in NFC: `Maria  Garcia`, `Jose\u0301` or `王\uF9DC` (a
 * compatibility ideograph) are drawn as `Maria Garcia`, `José`, `王隆`, and were other names. A
 * name typed with combining accents (`Nguye\u0302\u0303n`, as some keyboards write Vietnamese) is
 * stored composed, as drawn.
 */
export function requireLine(field: string, value: string | undefined | null, max: number): string {
  // Composed before it is measured: NFC is longer for some (U+FB2C is three code points), shorter for others.
  const v = requireText(field, value?.normalize('NFC'), max);
  if (NOT_IN_A_LINE.test(v)) throw badInput(field, 'must be one line, without format or invisible characters (zero-width, bidirectional, variation selectors, Hangul fillers, blank braille) or spaces other than U+0020');
  if (v.includes('  ')) throw badInput(field, 'must not hold two spaces in a row (they are drawn as one)');
  return v;
}

export function optionalLine(field: string, value: string | undefined | null, max: number): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : requireLine(field, value, max);
}

/**
 * A phone number as people write it: digits, a leading + and single dashes between groups
 * (`13900001803`, `0571-87001234`, `+86-139-0000-1803`), at least 7 digits. Dashes anywhere had
 * let `1------` or `13900001111-` be stored as a guardian's contact: no number to call.
 */
export function requirePhone(field: string, value: string | undefined | null): string | null {
  const v = optionalText(field, value, 20);
  if (v !== null && !(/^\+?\d+(?:-\d+)*$/.test(v) && v.replace(/\D/g, '').length >= 7)) throw badInput(field, 'must be a phone number');
  return v;
}

/** No date of a record about a child of today lies before it: an earlier one is a typing error (year 1, 1009). */
export const EARLIEST_DATE = '1900-01-01';

export function requireNotFuture(field: string, value: Date | undefined, now: Date): Date {
  if (!value) return now;
  if (Number.isNaN(value.getTime())) throw badInput(field, 'must be a valid time');
  // Kept to the millisecond, a RED given half a millisecond before an ORANGE was recorded at its
  // instant, and the child was RED (of two at one instant, the graver counts).
  if (givenFinerThanMillisecond(value)) throw badInput(field, 'must be given to the millisecond at most, as the hub records it');
  if (value.getTime() > now.getTime() + 60_000) throw badInput(field, 'must not be in the future');
  if (value.toISOString() < EARLIEST_DATE) throw badInput(field, `must not be before ${EARLIEST_DATE}`);
  return value;
}

/**
 * When something was seen happening to a child: as requireNotFuture, and not on a day before the
 * earliest birth of a child today (earliestMinorBirth) — a child seen then is an adult now, and
 * 1901 or 2000 for 2020 is a typing error, as in a department record's date.
 */
export function requireChildhoodTime(field: string, value: Date | undefined, now: Date): Date {
  const v = requireNotFuture(field, value, now);
  const earliest = earliestMinorBirth(now);
  if (chinaDay(v) < earliest) throw badInput(field, `must not be before ${earliest} (the day after 18 years ago: a child seen earlier is an adult today)`);
  return v;
}

/** A calendar date YYYY-MM-DD that exists; with `notAfter`, not later than that instant's day in China (`chinaDay`). */
export function requireDate(field: string, value: string | undefined | null, notAfter?: Date): string {
  const v = (value ?? '').trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.toISOString().slice(0, 10) !== v) throw badInput(field, 'must be a date YYYY-MM-DD');
  if (notAfter && v > chinaDay(notAfter)) throw badInput(field, 'must not be in the future');
  if (v < EARLIEST_DATE) throw badInput(field, `must not be before ${EARLIEST_DATE}`);
  return v;
}

export function optionalDate(field: string, value: string | undefined | null, notAfter?: Date): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : requireDate(field, value, notAfter);
}

/**
 * The earliest birth date a minor of today can have: the day after 18 years before today in China.
 * Born on that day itself, a person turns 18 today (`ageOn`): that day had been taken, one day loose.
 */
export function earliestMinorBirth(now: Date): string {
  return addDays(new Date(`${yearsBefore(now, 18)}T00:00:00Z`), 1).toISOString().slice(0, 10);
}

/**
 * The date of something that happened to a registered child: a date not in the future and not
 * before any registered child can have been born (the day after 18 years ago). Not the child's own birth date:
 * departments that may not read it would learn it from the refusal.
 */
export function requireChildhoodDate(field: string, value: string | undefined | null, now: Date): string {
  const v = requireDate(field, value, now);
  const earliest = earliestMinorBirth(now);
  if (v < earliest) throw badInput(field, `must not be before ${earliest} (the day after 18 years ago: no registered child was born earlier)`);
  return v;
}

/** The youngest age of criminal responsibility (刑法 art. 17): no one younger is judged, sentenced or barred. */
export const CRIMINAL_RESPONSIBILITY_AGE = 12;

/** The youngest age at which anyone may be employed (劳动法 art. 15, 未成年人保护法 art. 61). */
export const WORKING_AGE = 16;

/**
 * The longest a sentence still runs from today: 25 years, the longest fixed term (刑法 art. 50, a
 * suspended death sentence commuted; art. 69, sentences combined) — a life sentence has no release
 * date. A release or a correction's end later than that is a typing error (2207 for 2027), and was taken.
 */
const LONGEST_SENTENCE_YEARS = 25;

/** The date a sentence or its supervision ends on: not later than LONGEST_SENTENCE_YEARS after today in China. */
export function requireSentenceEnd(field: string, value: string | undefined | null, now: Date): string {
  return requireWithinYears(field, value, now, LONGEST_SENTENCE_YEARS, 'the longest fixed term');
}

/**
 * A bar from work with minors (从业禁止) runs at most 5 years past release (刑法 art. 37-1), so it
 * ends at most that much after the longest sentence; a lifelong one has no end date. A later end is
 * a typing error (9999, 2207 for 2027) that would answer RESTRICTED for centuries.
 */
const LONGEST_BAR_YEARS = LONGEST_SENTENCE_YEARS + 5;

export function requireBarEnd(field: string, value: string | undefined | null, now: Date): string {
  return requireWithinYears(field, value, now, LONGEST_BAR_YEARS, 'the longest fixed term and a bar of 5 years after it; leave it out for a lifelong bar');
}

function requireWithinYears(field: string, value: string | undefined | null, now: Date, years: number, why: string): string {
  const v = requireDate(field, value);
  const latest = yearsBefore(now, -years);
  if (v > latest) throw badInput(field, `must not be after ${latest} (${years} years from today, ${why})`);
  return v;
}

export function optionalSentenceEnd(field: string, value: string | undefined | null, now: Date): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : requireSentenceEnd(field, value, now);
}

/** `later` (when given) must not fall before `earlier`; both YYYY-MM-DD, so text order is date order. */
export function requireNotBefore(field: string, later: string | null, earlierField: string, earlier: string): void {
  if (later !== null && later < earlier) throw badInput(field, `must not be before ${earlierField}`);
}

/** A page's `first`: 1…`max` items. */
export function requirePageSize(first: number, max: number): number {
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput('first', `must be between 1 and ${max}`);
  return first;
}

export function requireInt(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

/**
 * A list filter given (not left out or null): at least one value, as the set it means. Every list
 * filter of the hub keeps the records holding one of its values, so an empty one asks for none; it
 * had been taken for no filter, and a client building the list from a user's selection of nothing
 * got the whole jurisdiction, every child of it recorded as read. Refused instead, as an empty
 * `auditEvents` filter is: the client says which it means. As a set, the same value sent 80,000
 * times is one condition, not an array that Postgres walks for every row it tests.
 */
export function requireSomeValues<T>(field: string, values: readonly T[]): T[] {
  if (!values.length) throw badInput(field, 'must name at least one value, or be left out');
  return [...new Set(values)];
}
