import { buildIdNumber, idNumberBirthDate, idNumberCheckChar, idNumberGender, idNumberProblem } from '../src/common/id-number';

describe('公民身份号码 (ISO 7064 MOD 11-2)', () => {
  it('computes the check character of published examples', () => {
    // GB 11643-1999 worked example and a number whose check character is X.
    expect(idNumberCheckChar('11010519491231002')).toBe('X');
    expect(idNumberCheckChar('44052418800101001')).toBe('4');
  });

  it('accepts a valid number and reads birth date and gender from it', () => {
    const id = buildIdNumber('330102', '2015-06-30', 123);
    expect(idNumberProblem(id)).toBeNull();
    expect(idNumberBirthDate(id)).toBe('2015-06-30');
    expect(idNumberGender(id)).toBe('MALE');
    expect(idNumberGender(buildIdNumber('330102', '2015-06-30', 124))).toBe('FEMALE');
  });

  it('names what is wrong', () => {
    const id = buildIdNumber('330102', '2015-06-30', 123);
    const wrongCheck = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
    expect(idNumberProblem(wrongCheck)).toBe('CHECK_DIGIT');
    expect(idNumberProblem('33010220150630')).toBe('FORMAT');
    expect(idNumberProblem(id.toLowerCase().replace(/\d$/, 'x'))).toBe('FORMAT');
    expect(idNumberProblem(buildIdNumber('330102', '2015-02-30', 123))).toBe('BIRTH_DATE');
    expect(idNumberProblem(buildIdNumber('000000', '2015-06-30', 123))).toBe('ADDRESS_CODE');
    expect(idNumberProblem(buildIdNumber('990102', '2015-06-30', 123))).toBe('ADDRESS_CODE');
  });

  it('takes the address codes of every province, of residence permits and of foreigners\' permanent residence cards', () => {
    for (const address of ['110101', '650102', '710000', '810000', '820000', '830000', '933156']) {
      expect([address, idNumberProblem(buildIdNumber(address, '1990-06-30', 123))]).toEqual([address, null]);
    }
    for (const address of ['000000', '100000', '160000', '200000', '470000', '660000', '840000', '903156', '999999']) {
      expect([address, idNumberProblem(buildIdNumber(address, '1990-06-30', 123))]).toEqual([address, 'ADDRESS_CODE']);
    }
  });
});
