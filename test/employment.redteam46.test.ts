import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "2026年度复查") { batchId answers { index answer } } }`;
/** One document of `n` aliased checks of one candidate: `c0: employmentCheck(input: $i) { checkId answer } …`. */
const aliasedChecks = (n: number) =>
  `mutation($i: EmploymentCheckInput!) { ${Array.from({ length: n }, (_, k) => `c${k}: employmentCheck(input: $i) { checkId answer }`).join(' ')} }`;

/**
 * Red team 46 (rt46-employment): pre-employment checks and the barred-person registry.
 */
describe.each([
  ['in process', () => startTestHub()],
  ['distributed', () => startDistributedTestHub()],
])('pre-employment checks, %s (red team 46)', (_mode, start) => {
  let t: TestHub;
  const barred = buildIdNumber('330102', '1980-05-04', 123);

  beforeAll(async () => {
    t = await start();
    const police = await t.token(Department.POLICE, { user: 'officer-rt46' });
    const r = await t.gql(police, ADD, { input: { idNumber: barred, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2024)浙0102刑初46号' } });
    expect(r.errors).toBeUndefined();
  });
  afterAll(() => t.stop());

  it('answers and audits every check it records, however many a document aliases (within the hourly limit and the hop bound)', async () => {
    // 60 checks: within HUB_EMPLOYMENT_CHECKS_PER_HOUR (100) and MAX_SUBGRAPH_HOPS (64); each answers
    // after at least HUB_EMPLOYMENT_CHECK_MIN_MS (300), 18 s in all, past the gateway's 17 s wait for
    // a remote subgraph (HUB_SUBGRAPH_TIMEOUT_MS): every setting at its default.
    const user = `kg-alias-rt46`;
    const employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user });
    const r = await post(t, employer, { query: aliasedChecks(60), variables: { i: { idNumber: barred, name: '候选人', authorizationReference: 'AUTH-46' } } }, {});
    const recorded = (await t.sql(`SELECT id FROM workflow.employment_check WHERE employer_id = $1 ORDER BY id`, [user])).map((row) => row.id);
    const answered = Object.values(r.json.data ?? {})
      .filter((c: any) => c !== null)
      .map((c: any) => c.checkId)
      .sort();
    const event = await eventOf(t, r.requestId);
    const audited = event.changes.filter((c: any) => c.mutation === 'employmentCheck').map((c: any) => c.id).sort();
    // Each check recorded (and counted against the employer's hour) is answered to the employer and
    // named in the request's event; none is left in doubt.
    expect({ answered, audited, lost: event.errorCodes.filter((c: string) => c.startsWith('SUBGRAPH_ANSWER_LOST')) }).toEqual({ answered: recorded, audited: recorded, lost: [] });
  });

  it('refuses a vulgar fraction in a judgement’s number, which its key had read as two digits: ½号 as 12号, another judgement', async () => {
    const police = await t.token(Department.POLICE, { user: 'officer-rt46' });
    const person = buildIdNumber('330102', '1976-02-03', 462);
    const list = (judgementReference: string) => t.gql(police, ADD, { input: { idNumber: person, name: '赵某', offence: 'VIOLENCE', judgementReference } });
    for (const reference of ['(2024)浙0102刑初12号', '(2024)浙0102刑初13号']) expect((await list(reference)).errors).toBeUndefined();
    const fractions = [];
    for (const reference of ['(2024)浙0102刑初½号', '(2024)浙0102刑初⅓号', '(2024)浙0102刑初⅒号']) {
      const r = await list(reference);
      fractions.push([reference, r.errors?.[0]?.extensions?.field, r.errors?.[0]?.message]);
    }
    // Not "already listed" (keyed as 12号, 13号, 110号): refused for what it holds.
    expect(fractions.map(([reference, field, message]) => [reference, field, /fraction/.test(message)])).toEqual([
      ['(2024)浙0102刑初½号', 'input.judgementReference', true],
      ['(2024)浙0102刑初⅓号', 'input.judgementReference', true],
      ['(2024)浙0102刑初⅒号', 'input.judgementReference', true],
    ]);
  });

  it('pin: a revocation takes the judgement’s legacy copy with it, each its own change in the event', async () => {
    const police = await t.token(Department.POLICE, { user: 'officer-rt46' });
    const person = buildIdNumber('330102', '1975-07-08', 461);
    const listed = await t.gql(police, ADD, { input: { idNumber: person, name: '王某', offence: 'ABUSE', judgementReference: '(2019)浙0102刑初461号' } });
    expect(listed.errors).toBeUndefined();
    const barId: string = listed.data.addBarredPerson.id;
    // A copy of the judgement spelt otherwise, as a release before judgement numbers were compared folded let in.
    const [{ id: copy }] = await t.sql(
      `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_by_department, created_by_region, created_at)
       SELECT gen_random_uuid(), id_number_hash, name, offence, '（2019）浙0102刑初第0461號', restricted_until, created_by, created_by_department, created_by_region, created_at FROM workflow.barred_person WHERE id = $1 RETURNING id`,
      [barId],
    );
    const removed = await post(t, police, { query: `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判") }`, variables: { id: barId } }, {});
    expect(removed.json).toEqual({ data: { removeBarredPerson: barId } });
    const event = await eventOf(t, removed.requestId);
    expect(event.changes.map((c: any) => [c.mutation, c.id]).sort()).toEqual([['removeBarredPerson', barId], ['removeBarredPerson', copy]].sort());
  });

  it('pin: re-screens 1,000 people in one operation, the barred one RESTRICTED at its index', async () => {
    const school = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-rt46' });
    const staff = Array.from({ length: 1000 }, (_, i) => ({ idNumber: i === 500 ? barred : buildIdNumber('330102', '1970-01-01', i), name: '员工' }));
    const r = await post(t, school, { query: RESCREEN, variables: { c: staff } }, {});
    expect(r.json.errors).toBeUndefined();
    const answers = r.json.data.employmentRescreen.answers;
    expect([answers.length, answers.filter((a: any) => a.answer === 'RESTRICTED')]).toEqual([1000, [{ index: 500, answer: 'RESTRICTED' }]]);
  });
});
