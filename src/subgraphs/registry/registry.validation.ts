import { ageOn } from '../../common/dates';
import { idNumberBirthDate, idNumberGender, idNumberProblem, normalIdNumber } from '../../common/id-number';
import { badInput } from '../../errors/hub.exception';
import { Gender } from './registry.enums';

const ID_PROBLEMS = {
  FORMAT: 'must be 17 digits followed by a digit or X',
  CHECK_DIGIT: 'check digit does not match (ISO 7064 MOD 11-2)',
  ADDRESS_CODE: 'begins with an address code of no province (GB/T 2260)',
  BIRTH_DATE: 'encodes an impossible birth date',
};

/**
 * The ID number must be valid, agree with the given birth date and gender, and belong to a
 * minor (under 18 today).
 */
export function validateMinorIdentity(
  input: { idNumber: string; birthDate?: string; gender?: Gender },
  now: Date,
): { idNumber: string; birthDate: string; gender: Gender } {
  const idNumber = normalIdNumber(input.idNumber);
  const problem = idNumberProblem(idNumber);
  if (problem) throw badInput('idNumber', ID_PROBLEMS[problem]);
  const birthDate = idNumberBirthDate(idNumber);
  if (input.birthDate !== undefined && input.birthDate !== null && input.birthDate !== birthDate) {
    throw badInput('birthDate', `does not match the ID number (${birthDate})`);
  }
  const gender = idNumberGender(idNumber) as Gender;
  if (input.gender !== undefined && input.gender !== null && input.gender !== gender) {
    throw badInput('gender', 'does not match the ID number');
  }
  const age = ageOn(birthDate, now);
  if (age < 0) throw badInput('idNumber', 'encodes a birth date in the future');
  if (age >= 18) throw badInput('idNumber', 'belongs to an adult: the registry holds minors (under 18) only');
  return { idNumber, birthDate, gender };
}
