import { badInput } from '../errors/hub.exception';
import { chinaDay } from './dates';
import { EARLIEST_DATE } from './validation';

/**
 * 公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence
 * (odd for men), and a check character computed by ISO 7064 MOD 11-2.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

export function idNumberCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

/**
 * An ID number as a person writes it: surrounding spaces dropped (any, the ideographic space and a
 * byte-order mark included) and the check character X in capitals. Every input of an ID number —
 * registration, look-up, pre-employment check — reads it so, so that one number is one number.
 */
export const normalIdNumber = (value: string | null | undefined): string => (value ?? '').trim().toUpperCase();

/** An ID number as written (`normalIdNumber`) that is a valid one; else BAD_USER_INPUT naming `field`. */
export function requireIdNumber(field: string, value: string | null | undefined): string {
  const idNumber = normalIdNumber(value);
  if (idNumberProblem(idNumber)) throw badInput(field, 'is not a valid 公民身份号码');
  return idNumber;
}

/**
 * The ID number of someone living: valid (`requireIdNumber`), its birth date neither after today in
 * China (registration refuses such a number too) nor before EARLIEST_DATE. Valid but for that, it is
 * made up or garbled past its check character: a check of it answered CLEAR, a bar of it matched no
 * one, a report named a child not yet born.
 */
export function requirePersonIdNumber(field: string, value: string | null | undefined, now: Date): string {
  const idNumber = requireIdNumber(field, value);
  const born = idNumberBirthDate(idNumber);
  if (born > chinaDay(now) || born < EARLIEST_DATE) throw badInput(field, `encodes a birth date in the future or before ${EARLIEST_DATE}`);
  return idNumber;
}

export type IdNumberProblem = 'FORMAT' | 'CHECK_DIGIT' | 'ADDRESS_CODE' | 'BIRTH_DATE';

/**
 * The provinces of GB/T 2260 (Hong Kong 81, Macao 82 and Taiwan 71 included); 83 heads the residence
 * permits of Taiwan residents. A number whose address code names none of them was made up: an
 * employer checking `000000…` must be told so, not answered CLEAR.
 */
const PROVINCES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82']);

/** An address code of a province, a residence permit (83) or a foreigner's permanent residence card (9, then the issuing province). */
const knownAddress = (id: string): boolean =>
  PROVINCES.has(id.slice(0, 2)) || id.startsWith('83') || (id[0] === '9' && PROVINCES.has(id.slice(1, 3)));

/** Returns what is wrong with an ID number, or null when it is well-formed. */
export function idNumberProblem(id: string): IdNumberProblem | null {
  if (!/^\d{17}[\dX]$/.test(id)) return 'FORMAT';
  if (idNumberCheckChar(id.slice(0, 17)) !== id[17]) return 'CHECK_DIGIT';
  if (!knownAddress(id)) return 'ADDRESS_CODE';
  const birth = idNumberBirthDate(id);
  const d = new Date(`${birth}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== birth) return 'BIRTH_DATE';
  return null;
}

/** Birth date encoded in an ID number, as YYYY-MM-DD. */
export function idNumberBirthDate(id: string): string {
  return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
}

/** The sequence digit's parity encodes gender: odd male, even female. */
export function idNumberGender(id: string): 'MALE' | 'FEMALE' {
  return Number(id[16]) % 2 === 1 ? 'MALE' : 'FEMALE';
}

export function buildIdNumber(addressCode: string, birthDate: string, sequence: number): string {
  const first17 = `${addressCode}${birthDate.replace(/-/g, '')}${String(sequence).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}
