import { Department } from '../src/auth/principal';
import { daysAgo, expectMaskedFailure, INSIDE_STREET, recordSuite, withFailingTrigger } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** 共青团: prevention cases and follow-ups, idle-minor support, volunteer visits — writes, visibility, lists. */
describe('youth league subgraph', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  const hub = () => t;
  const YL = Department.YOUTH_LEAGUE;
  const OPEN_CASE = `SELECT r.id FROM youth_league.prevention_case r JOIN registry.minor m ON m.id = r.minor_id
                     WHERE r.status = 'OPEN' AND r.opened_on < current_date - 2 AND m.grid_code {{jurisdiction}} ORDER BY r.id LIMIT 1`;

  recordSuite(hub, {
    owner: YL,
    type: 'PreventionCase',
    table: 'youth_league.prevention_case',
    create: 'createPreventionCase',
    update: 'updatePreventionCase',
    input: { kind: 'SERIOUS_MISBEHAVIOUR', behaviour: 'GANG_FIGHTING', openedOn: daysAgo(20), status: 'OPEN', caseWorker: '社工 陈老师', measures: '每周谈心' },
    updated: { kind: 'GENERAL_PREVENTION', behaviour: null, openedOn: daysAgo(20), status: 'CLOSED', caseWorker: '社工 陈老师', measures: '结案' },
    invalid: [
      ['a serious-misbehaviour case without the behaviour', { behaviour: null }, 'behaviour'],
      ['a behaviour on a general case', { kind: 'GENERAL_PREVENTION' }, 'behaviour'],
    ],
  });
  recordSuite(hub, {
    owner: YL,
    type: 'MisbehaviourFollowUp',
    table: 'youth_league.follow_up',
    create: 'recordMisbehaviourFollowUp',
    parentArg: 'caseId',
    parentSql: OPEN_CASE,
    input: { followedUpOn: daysAgo(1), note: '在校表现好转' },
    invalid: [['a follow-up in the future', { followedUpOn: daysAgo(-2) }, 'followedUpOn']],
  });
  recordSuite(hub, {
    owner: YL,
    type: 'IdleSupport',
    table: 'youth_league.idle_support',
    create: 'createIdleSupport',
    update: 'updateIdleSupport',
    input: { kind: 'VOCATIONAL_TRAINING', startedOn: daysAgo(10), provider: '上城区职业高级中学', status: 'IN_PROGRESS', note: null },
    updated: { kind: 'VOCATIONAL_TRAINING', startedOn: daysAgo(10), provider: '上城区职业高级中学', status: 'COMPLETED', note: '已结业' },
    invalid: [['an empty provider', { provider: '' }, 'provider']],
  });
  recordSuite(hub, {
    owner: YL,
    type: 'VolunteerVisit',
    table: 'youth_league.volunteer_visit',
    create: 'createVolunteerVisit',
    update: 'updateVolunteerVisit',
    input: { visitedOn: daysAgo(2), volunteer: '青年志愿者-7号', notes: '陪伴学习' },
    updated: { visitedOn: daysAgo(3), volunteer: '青年志愿者-7号', notes: '陪伴学习, 送书' },
    invalid: [['empty notes', { notes: '' }, 'notes']],
  });

  it('keeps the latest follow-up on the case, atomically', async () => {
    const [c] = await t.sql(OPEN_CASE.replace('{{jurisdiction}}', "LIKE '%'"));
    const FOLLOW = `mutation($c: ID!, $on: String!) { recordMisbehaviourFollowUp(caseId: $c, input: { followedUpOn: $on, note: "x" }) { id } }`;
    const token = await t.token(YL);
    expect((await t.gql(token, FOLLOW, { c: c.id, on: daysAgo(0) })).errors).toBeUndefined();
    expect((await t.sql(`SELECT to_char(last_follow_up_on, 'YYYY-MM-DD') AS d FROM youth_league.prevention_case WHERE id = $1`, [c.id]))[0].d).toBe(daysAgo(0));
    // An older, late-entered follow-up leaves the latest alone.
    expect((await t.gql(token, FOLLOW, { c: c.id, on: daysAgo(1) })).errors).toBeUndefined();
    expect((await t.sql(`SELECT to_char(last_follow_up_on, 'YYYY-MM-DD') AS d FROM youth_league.prevention_case WHERE id = $1`, [c.id]))[0].d).toBe(daysAgo(0));

    const [other] = await t.sql(`SELECT id FROM youth_league.prevention_case WHERE status = 'OPEN' AND last_follow_up_on IS NULL AND opened_on < current_date - 2 ORDER BY id LIMIT 1`);
    await withFailingTrigger(t, 'youth_league.prevention_case', 'UPDATE', async () => {
      expectMaskedFailure(await t.gql(token, FOLLOW, { c: other.id, on: daysAgo(1) }));
    });
    expect(await t.sql(`SELECT id FROM youth_league.follow_up WHERE case_id = $1`, [other.id])).toEqual([]);
  });

  it('refuses moving a case’s opening after any of its follow-ups, not only after the latest, and accepts an opening up to the first', async () => {
    const CASE = { kind: 'GENERAL_PREVENTION', status: 'OPEN', caseWorker: '社工 张', measures: '每周谈话' };
    const UPDATE = `mutation($c: ID!, $i: PreventionCaseInput!) { updatePreventionCase(id: $c, input: $i) { id } }`;
    const FOLLOW = `mutation($c: ID!, $on: String!) { recordMisbehaviourFollowUp(caseId: $c, input: { followedUpOn: $on, note: "n" }) { id } }`;
    const openedOn = async (id: string) => (await t.sql(`SELECT to_char(opened_on, 'YYYY-MM-DD') AS d FROM youth_league.prevention_case WHERE id = $1`, [id]))[0].d;
    const token = await t.token(YL);
    const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' ORDER BY id LIMIT 1`);
    const c = await t.gql(token, `mutation($m: ID!, $i: PreventionCaseInput!) { createPreventionCase(minorId: $m, input: $i) { id } }`, { m: minorId, i: { ...CASE, openedOn: daysAgo(100) } });
    const kase = c.data.createPreventionCase.id;
    for (const on of [daysAgo(90), daysAgo(10)]) expect((await t.gql(token, FOLLOW, { c: kase, on })).errors).toBeUndefined();

    const u = await t.gql(token, UPDATE, { c: kase, i: { ...CASE, openedOn: daysAgo(50) } });
    expect(errorCodes(u)).toEqual(['BAD_USER_INPUT']);
    expect(u.errors![0].extensions!.field).toBe('openedOn');
    expect(await openedOn(kase)).toBe(daysAgo(100));
    expect((await t.gql(token, UPDATE, { c: kase, i: { ...CASE, openedOn: daysAgo(90) } })).errors).toBeUndefined();
    expect(await openedOn(kase)).toBe(daysAgo(90));
  });

  it('shows schools that a case is open and the case worker, not the behaviour or measures', async () => {
    const [c] = await t.sql(`SELECT minor_id, case_worker, status FROM youth_league.prevention_case WHERE kind = 'SERIOUS_MISBEHAVIOUR' AND (SELECT count(*) FROM youth_league.prevention_case x WHERE x.minor_id = prevention_case.minor_id) = 1 ORDER BY minor_id LIMIT 1`);
    const q = `query($id: ID!) { minor(id: $id) { preventionCases { status caseWorker kind behaviour measures } } }`;
    const ed = await t.gql(await t.token(Department.EDUCATION), q, { id: c.minor_id });
    expect(ed.data.minor.preventionCases).toEqual([{ status: c.status, caseWorker: c.case_worker, kind: null, behaviour: null, measures: null }]);
    const po = await t.gql(await t.token(Department.POLICE), q, { id: c.minor_id });
    expect(po.data.minor.preventionCases[0].behaviour).toEqual(expect.any(String));
    expect(po.data.minor.preventionCases[0].measures).toBeNull();
    const wf = await t.gql(await t.token(Department.WOMENS_FEDERATION), q, { id: c.minor_id });
    expect(wf.data.minor.preventionCases).toBeNull();
    expect(errorCodes(wf)).toEqual(['FORBIDDEN']);
  });

  it('lists open serious-misbehaviour cases, and refuses the list to schools', async () => {
    const LIST = `query($f: PreventionCaseFilter) { preventionCases(filter: $f, first: 1000) { totalCount nodes { id lastFollowUpOn } } }`;
    const expected = await t.sql(`SELECT id FROM youth_league.prevention_case WHERE kind = 'SERIOUS_MISBEHAVIOUR' AND status = 'OPEN' ORDER BY id`);
    const r = await t.gql(await t.token(YL), LIST, { f: { kinds: ['SERIOUS_MISBEHAVIOUR'], statuses: ['OPEN'] } });
    expect(r.data.preventionCases.nodes.map((n: any) => n.id)).toEqual(expected.map((e: any) => e.id));
    expect(errorCodes(await t.gql(await t.token(Department.EDUCATION), LIST, {}))).toEqual(['FORBIDDEN']);
  });
});
