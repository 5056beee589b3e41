import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 28 (rt28-employ): the pre-employment check (入职查询) and the barred-person registry
 * (从业限制), workflow 5 of DOMAIN.md, docs/workflows.md "Pre-employment check".
 */
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`;

describe('barred-person registry: one judgement listed once per person (rt28-employ)', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  let employer: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    police = await t.token(Department.POLICE, { user: 'rt28-police' });
    justice = await t.token(Department.JUSTICE, { user: 'rt28-justice' });
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'rt28-kindergarten' });
  });
  afterAll(() => t?.stop());

  const list = (token: string, idNumber: string, judgementReference: string) =>
    t.gql(token, ADD, { input: { idNumber, name: '张某', offence: 'SEXUAL_HARM', judgementReference } });

  // Bug: the partial unique index (id_number_hash, judgement_reference) WHERE revoked_at IS NULL
  // compares the reference as typed, composed to NFC only (requireLine). A 案号 is written with
  // full-width brackets and digits as often as with ASCII ones — the court's own form is
  // "（2024）浙0102刑初123号" — and NFC keeps them apart: police list "(2024)浙0102刑初123号",
  // justice lists "（2024）浙0102刑初123号" (or with a space, or full-width digits) and the one
  // judgement is in force four times over for one person, which docs/workflows.md says cannot be.
  it('refuses the same judgement of the same person written with full-width brackets, full-width digits or a space', async () => {
    const person = buildIdNumber('330102', '1980-05-04', 123);
    expect(errorCodes(await list(police, person, '(2024)浙0102刑初123号'))).toEqual([]);
    for (const spelling of ['（2024）浙0102刑初123号', '（２０２４）浙０１０２刑初１２３号', '(2024) 浙0102刑初123号']) {
      const again = await list(justice, person, spelling);
      expect([spelling, errorCodes(again), again.errors?.[0]?.extensions?.field]).toEqual([spelling, ['BAD_USER_INPUT'], 'input.judgementReference']);
    }
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE revoked_at IS NULL AND judgement_reference LIKE '%刑初%'`);
    expect(n).toBe(1);
  });

  // The consequence: the judgement is overturned, police revoke the bar it rests on, and the
  // person is still answered RESTRICTED to every employer, from the copy listed under the other
  // spelling of the same judgement.
  it('answers CLEAR once the bar of an overturned judgement is revoked, whoever tried to list it again in another spelling', async () => {
    const person = buildIdNumber('330102', '1979-03-02', 245);
    const first = await list(police, person, '(2023)浙0102刑初77号');
    expect(errorCodes(first)).toEqual([]);
    await list(justice, person, '（2023）浙0102刑初77号');
    expect(errorCodes(await t.gql(police, REMOVE, { id: first.data.addBarredPerson.id }))).toEqual([]);
    const r = await t.gql(employer, CHECK, { input: { idNumber: person, name: '张某', authorizationReference: 'AUTH-rt28' } }, {});
    expect(errorCodes(r)).toEqual([]);
    expect(r.data.employmentCheck.answer).toBe('CLEAR');
  });
});
