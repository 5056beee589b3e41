import { Department, Role } from '../src/auth/principal';
import { buildIdNumber, idNumberCheckChar } from '../src/common/id-number';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { checkId answer checkedAt } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "2026-年度复查") { batchId answers { index answer } } }`;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;

/** An ID number whose check character is X. */
function xNumber(): string {
  for (let s = 100; s < 999; s++) {
    const id = buildIdNumber('330102', '1979-03-15', s);
    if (idNumberCheckChar(id.slice(0, 17)) === 'X') return id;
  }
  throw new Error('none');
}

describe('red team 13: REPORTER and EMPLOYER', () => {
  let t: TestHub;
  let police: string;
  let employer: string;
  let reporter: string;
  let child: { id: string; id_number: string; grid_code: string };
  const barred = xNumber();
  const barred2 = buildIdNumber('330102', '1980-05-04', 123);
  const clear = buildIdNumber('330102', '1990-07-08', 789);

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '20', HUB_EMPLOYMENT_CHECKS_PER_HOUR: '50', HUB_RESCREENS_PER_YEAR: '1' } });
    police = await t.token(Department.POLICE, { user: 'officer-rt13' });
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'kg-rt13' });
    reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt13' });
    for (const idNumber of [barred, barred2]) {
      const r = await t.gql(police, ADD, { input: { idNumber, name: '张某', offence: 'SEXUAL_HARM', judgementReference: `(2024)浙0102刑初${idNumber.slice(-4)}号` } });
      expect(r.errors).toBeUndefined();
    }
    [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t.stop());

  const check = (idNumber: unknown, token = employer, name: unknown = '候选人') =>
    post(t, token, { query: CHECK, variables: { input: { idNumber, name, authorizationReference: 'AUTH-RT13' } } }, {});

  it('answers RESTRICTED for a barred number however it is written (lowercase x, surrounding spaces), and never CLEAR for a look-alike', async () => {
    expect((await check(barred)).json.data.employmentCheck.answer).toBe('RESTRICTED');
    for (const v of [barred.toLowerCase(), ` ${barred} `, `\u3000${barred.toLowerCase()}\u3000`, `\uFEFF${barred}`, `${barred}\n`]) {
      const r = await check(v);
      expect([v, r.json.errors, r.json.data?.employmentCheck?.answer]).toEqual([v, undefined, 'RESTRICTED']);
    }
    const fullWidth = barred.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))).replace('X', 'Ｘ');
    for (const v of [fullWidth, barred.replace('X', 'ｘ'), `${barred.slice(0, 6)} ${barred.slice(6)}`, `${barred}\u200B`, barred.slice(0, 17) + 'x ']) {
      const r = await check(v);
      const answer = r.json.data?.employmentCheck?.answer;
      expect([v, answer === 'CLEAR']).toEqual([v, false]);
    }
  });

  it('refuses a mistyped variable type with a typed error and keeps the raw ID number out of the audit trail', async () => {
    const asNumber = Number(clear.slice(0, 17) + '0');
    const r = await post(t, employer, { query: CHECK, variables: { input: { idNumber: asNumber, name: '候选人', authorizationReference: 'AUTH-RT13' } } }, {});
    expect(r.json.errors?.[0]?.extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    expect(JSON.stringify(r.json)).not.toMatch(/stack|at .*\.ts:/);
    const events = await eventsOf(t, r.requestId);
    expect(JSON.stringify(events)).not.toContain(String(asNumber).slice(0, 14));
    // Inline literal in the document, rather than as a variable: an ID number in the query text.
    const inline = await post(t, employer, { query: `mutation { employmentCheck(input: { idNumber: "${barred}", name: "候选人", authorizationReference: "A" }) { answer } }` }, {});
    expect(inline.json.data?.employmentCheck?.answer).toBe('RESTRICTED');
    expect(JSON.stringify(await eventsOf(t, inline.requestId))).not.toContain(barred.slice(0, 14));
    // Invalid number: the error names the field only, not the value; the audit does not hold it either.
    const bad = await check(barred.slice(0, 17) + '0');
    expect(bad.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idNumber' });
    expect(JSON.stringify(bad.json)).not.toContain(barred.slice(0, 14));
    expect(JSON.stringify(await eventsOf(t, bad.requestId))).not.toContain(barred.slice(0, 14));
  });

  it('gives an employer nothing but the answer: no other fields, no barred-person listing, no check history', async () => {
    const r = await post(t, employer, { query: `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { checkId answer checkedAt __typename } }`, variables: { input: { idNumber: barred, name: 'x', authorizationReference: 'A' } } }, {});
    expect(r.json.errors).toBeUndefined();
    for (const q of [`{ barredPersons { id name } }`, `{ barredPersons { id } }`, `{ myReports { id status } }`, `{ notifications { id } }`]) {
      const res = await t.gql(employer, q);
      expect([q, errorCodes(res).every((c) => c === 'FORBIDDEN' || c === 'GRAPHQL_VALIDATION_FAILED'), res.data?.barredPersons ?? null]).toEqual([q, true, null]);
    }
    for (const q of [`mutation { removeBarredPerson(id: "00000000-0000-4000-8000-000000000000", reason: "x") }`]) {
      const res = await t.gql(employer, q);
      expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    }
  });

  it('answers a name mismatch and a wrong name the same as the right one', async () => {
    const a = await check(barred, employer, '张某');
    const b = await check(barred, employer, '完全不同');
    expect([a.json.data.employmentCheck.answer, b.json.data.employmentCheck.answer]).toEqual(['RESTRICTED', 'RESTRICTED']);
    const long = await check(barred, employer, 'x'.repeat(51));
    const long2 = await check(clear, employer, 'x'.repeat(51));
    expect(long.json.errors[0].extensions).toEqual(long2.json.errors[0].extensions);
    expect(long.json.errors[0].message).toBe(long2.json.errors[0].message);
  });

  it('re-screening: rejects an invalid candidate before anything, answers duplicates alike, records audit without numbers', async () => {
    const school = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-rt13' });
    const bad = await post(t, school, { query: RESCREEN, variables: { c: [{ idNumber: barred, name: 'a' }, { idNumber: '123', name: 'b' }] } }, {});
    expect(bad.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'candidates[1].idNumber' });
    const r = await post(t, school, { query: RESCREEN, variables: { c: [{ idNumber: barred.toLowerCase(), name: 'a' }, { idNumber: ` ${barred}`, name: 'b' }, { idNumber: clear, name: 'c' }] } }, {});
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.employmentRescreen.answers).toEqual([
      { index: 0, answer: 'RESTRICTED' },
      { index: 1, answer: 'RESTRICTED' },
      { index: 2, answer: 'CLEAR' },
    ]);
    const e = await eventOf(t, r.requestId);
    expect(e).toMatchObject({ role: 'EMPLOYER', outcome: 'SUCCESS' });
    expect(e.changes.map((c: any) => [c.mutation, c.id, c.minorId])).toEqual([['employmentRescreen', r.json.data.employmentRescreen.batchId, null]]);
    expect(JSON.stringify(e)).not.toContain(barred.slice(0, 14));
    expect(JSON.stringify(e)).not.toContain(clear.slice(0, 14));
    const again = await post(t, school, { query: RESCREEN, variables: { c: [{ idNumber: clear, name: 'c' }] } }, {});
    expect(errorCodes(again.json)).toEqual(['LIMIT_EXCEEDED']);
    const e2 = await eventOf(t, again.requestId);
    expect(e2.outcome).not.toBe('SUCCESS');
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'school-rt13'`))[0].n).toBe(3);
  });

  it('limits per hour and audits the refused check as refused', async () => {
    const busy = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'busy-rt13' });
    for (let i = 0; i < 50; i++) expect((await check(clear, busy)).json.errors).toBeUndefined();
    const restricted = await check(barred, busy);
    const cleared = await check(clear, busy);
    expect([errorCodes(restricted.json), errorCodes(cleared.json)]).toEqual([['LIMIT_EXCEEDED'], ['LIMIT_EXCEEDED']]);
    expect(restricted.json.errors[0].message).toBe(cleared.json.errors[0].message);
    const e = await eventOf(t, restricted.requestId);
    expect(e.outcome).not.toBe('SUCCESS');
    // Invalid numbers do not go around the limit to tell anything: they are refused on their form.
    // Re-screening is limited separately; a batch must not count to the hourly checks or vice versa.
  });

  it('a revoked bar answers CLEAR, a re-listed one RESTRICTED again', async () => {
    const [row] = await t.sql(`SELECT id FROM workflow.barred_person WHERE judgement_reference = $1`, [`(2024)浙0102刑初${barred2.slice(-4)}号`]);
    const rev = await t.gql(police, `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`, { id: row.id });
    expect(rev.errors).toBeUndefined();
    expect((await check(barred2)).json.data.employmentCheck.answer).toBe('CLEAR');
    const again = await t.gql(police, ADD, { input: { idNumber: barred2.toLowerCase(), name: '张某', offence: 'ABUSE', judgementReference: '(2025)浙0102刑初9号' } });
    expect(again.errors).toBeUndefined();
    expect((await check(barred2)).json.data.employmentCheck.answer).toBe('RESTRICTED');
  });

  it('holds the hourly limit under a burst of concurrent checks: no more answers than the limit', async () => {
    const burst = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'burst-rt13' });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => check(i % 2 ? barred : clear, burst)));
    const answered = results.filter((r) => r.json.data?.employmentCheck?.answer).length;
    const codes = new Set(results.flatMap((r) => (r.json.errors ?? []).map((e: any) => e.extensions?.code)));
    expect([answered, [...codes]]).toEqual([50, ['LIMIT_EXCEEDED']]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'burst-rt13'`))[0].n).toBe(50);
  });

  it('holds the yearly re-screening limit under concurrent batches', async () => {
    const uni = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'uni-rt13' });
    const results = await Promise.all(Array.from({ length: 5 }, () => post(t, uni, { query: RESCREEN, variables: { c: [{ idNumber: clear, name: 'c' }] } }, {})));
    expect(results.filter((r) => r.json.data?.employmentRescreen).length).toBe(1);
    expect(results.flatMap((r) => errorCodes(r.json)).sort()).toEqual(['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED']);
  });

  it('does not take a batched HTTP body to go around the audit or the limit', async () => {
    const batcher = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'batch-rt13' });
    const op = (idNumber: string) => ({ query: CHECK, variables: { input: { idNumber, name: 'x', authorizationReference: 'A' } } });
    const r = await post(t, batcher, [op(barred), op(clear)], {});
    const text = JSON.stringify(r.json);
    if (Array.isArray(r.json)) {
      // If batching is accepted, every answer must be recorded and audited.
      const n = (await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'batch-rt13'`))[0].n;
      expect(n).toBe(r.json.filter((x: any) => x.data?.employmentCheck).length);
      const events = await eventsOf(t, r.requestId);
      expect(events.filter((e) => e.outcome !== 'STARTED').length).toBe(r.json.length);
    } else {
      expect([r.status >= 400, text.includes('RESTRICTED')]).toEqual([true, false]);
      expect(text).not.toMatch(/\bat [\w.<>]+ \(|node_modules/);
    }
  });

  it('ends a bar at the end of the China day it ends on (check)', async () => {
    const endsOn = '2030-06-30';
    const id = buildIdNumber('330102', '1970-01-01', 555);
    expect((await t.gql(police, ADD, { input: { idNumber: id, name: '李某', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初555号', restrictedUntil: endsOn } })).errors).toBeUndefined();
    const at = async (iso: string, who: string) => {
      t.config.workflow.clockOffsetMs = Date.parse(iso) - Date.now();
      try {
        return (await check(id, await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: who }))).json.data.employmentCheck.answer;
      } finally {
        t.config.workflow.clockOffsetMs = 0;
      }
    };
    // 2030-06-30 23:30 in China is 15:30 UTC; 2030-07-01 00:30 in China is 2030-06-30 16:30 UTC.
    expect(await at('2030-06-30T15:30:00Z', 'edge-1')).toBe('RESTRICTED');
    expect(await at('2030-06-30T16:30:00Z', 'edge-2')).toBe('CLEAR');
  });

  it('gives an EMPLOYER or REPORTER token of POLICE or JUSTICE none of the department’s rights', async () => {
    for (const dep of [Department.POLICE, Department.JUSTICE, Department.CIVIL_AFFAIRS]) {
      for (const role of [Role.EMPLOYER, Role.REPORTER]) {
        const tok = await t.token(dep, { role, user: `x-${dep}-${role}` });
        const list = await t.gql(tok, `{ barredPersons(includeRevoked: true) { id name offence } }`);
        expect([dep, role, errorCodes(list), list.data?.barredPersons ?? null]).toEqual([dep, role, ['FORBIDDEN'], null]);
        const add = await t.gql(tok, ADD, { input: { idNumber: buildIdNumber('330102', '1985-01-01', 901), name: '某', offence: 'ABUSE', judgementReference: `RT13-${dep}-${role}` } });
        expect([dep, role, errorCodes(add)]).toEqual([dep, role, ['FORBIDDEN']]);
        const reports = await t.gql(tok, `{ mandatoryReports { id observation } }`);
        expect([dep, role, errorCodes(reports)]).toEqual([dep, role, ['FORBIDDEN']]);
        const minor = await t.gql(tok, `query($id: ID!) { minor(id: $id) { id name } }`, { id: child.id });
        expect([dep, role, errorCodes(minor), minor.data?.minor ?? null]).toEqual([dep, role, ['FORBIDDEN'], null]);
      }
    }
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE judgement_reference LIKE 'RT13-%'`))[0].n).toBe(0);
  });

  it('answers an invalid number after the fixed minimum too ("whatever the answer or refusal")', async () => {
    const before = t.config.workflow.employmentCheckMinMs;
    t.config.workflow.employmentCheckMinMs = 400;
    try {
      const who = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'timing-rt13' });
      let started = performance.now();
      const ok = await check(clear, who);
      const okMs = performance.now() - started;
      started = performance.now();
      const bad = await check(clear.slice(0, 17) + (clear[17] === '0' ? '1' : '0'), who);
      const badMs = performance.now() - started;
      expect(ok.json.errors).toBeUndefined();
      expect(bad.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect([okMs >= 395, badMs >= 395]).toEqual([true, true]);
    } finally {
      t.config.workflow.employmentCheckMinMs = before;
    }
  });

  it('counts, records and audits each of several aliased checks in one document', async () => {
    const who = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'alias-rt13' });
    const doc = `mutation($a: EmploymentCheckInput!, $b: EmploymentCheckInput!) { x: employmentCheck(input: $a) { checkId answer } y: employmentCheck(input: $b) { checkId answer } }`;
    const inp = (idNumber: string) => ({ idNumber, name: 'x', authorizationReference: 'A' });
    const r = await post(t, who, { query: doc, variables: { a: inp(barred), b: inp(clear) } }, {});
    expect(r.json.errors).toBeUndefined();
    expect([r.json.data.x.answer, r.json.data.y.answer]).toEqual(['RESTRICTED', 'CLEAR']);
    const e = await eventOf(t, r.requestId);
    expect(e.changes.map((c: any) => c.id).sort()).toEqual([r.json.data.x.checkId, r.json.data.y.checkId].sort());
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'alias-rt13'`))[0].n).toBe(2);
    for (const bad of [{ name: '', authorizationReference: 'A' }, { name: 'x', authorizationReference: '   ' }]) {
      const b = await check(clear, who, bad.name);
      if (bad.name !== '') continue;
      expect(errorCodes(b.json)).toEqual(['BAD_USER_INPUT']);
    }
    const blankRef = await post(t, who, { query: CHECK, variables: { input: { idNumber: clear, name: 'x', authorizationReference: '   ' } } }, {});
    expect(errorCodes(blankRef.json)).toEqual(['BAD_USER_INPUT']);
  });

  it('audits a listing by the bar’s id without the number, and a refused duplicate as refused', async () => {
    const justice = await t.token(Department.JUSTICE, { user: 'judge-rt13' });
    const id = buildIdNumber('330102', '1966-06-06', 611);
    const inp = { idNumber: id, name: '赵某', offence: 'ABUSE', judgementReference: 'RT13-AUDIT' };
    const r = await post(t, justice, { query: ADD, variables: { input: inp } }, {});
    expect(r.json.errors).toBeUndefined();
    const e = await eventOf(t, r.requestId);
    expect([e.outcome, e.changes.map((c: any) => [c.mutation, c.id, c.minorId])]).toEqual(['SUCCESS', [['addBarredPerson', r.json.data.addBarredPerson.id, null]]]);
    expect(JSON.stringify(await eventsOf(t, r.requestId))).not.toContain(id.slice(0, 14));
    const dup = await post(t, justice, { query: ADD, variables: { input: { ...inp, idNumber: ` ${id.toLowerCase()} ` } } }, {});
    expect(errorCodes(dup.json)).toEqual(['BAD_USER_INPUT']);
    const e2 = await eventOf(t, dup.requestId);
    expect([e2.outcome === 'SUCCESS', e2.changes?.length ?? 0]).toEqual([false, 0]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE judgement_reference = 'RT13-AUDIT'`))[0].n).toBe(1);
  });

  describe('reporter', () => {
    const input = (over: Record<string, unknown> = {}) => ({
      harmType: 'PHYSICAL_ABUSE',
      observation: '手臂多处淤青',
      location: '清波小学',
      regionCode: child.grid_code,
      urgency: 'URGENT',
      childIdNumber: child.id_number,
      ...over,
    });

    it('reads no report but their own, and nothing of the child, by any route', async () => {
      const mine = await t.gql(reporter, FILE, { input: input() }, {});
      expect(mine.errors).toBeUndefined();
      const other = await t.gql(await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-other' }), FILE, { input: input() }, {});
      const otherId = other.data.fileMandatoryReport.id;
      const myId = mine.data.fileMandatoryReport.id;
      for (const id of [myId, otherId]) {
        const r = await t.gql(reporter, `query($id: ID!) { mandatoryReport(id: $id) { id status } }`, { id });
        expect([id === myId, errorCodes(r), r.data?.mandatoryReport ?? null]).toEqual([id === myId, ['FORBIDDEN'], null]);
      }
      const list = await t.gql(reporter, `{ myReports { id status receivedAt } }`, {}, {});
      expect(list.data.myReports.map((r: any) => r.id)).toEqual([myId]);
      for (const q of [`{ mandatoryReports { id } }`, `{ overdueReports { id } }`, `{ minor(id: "${child.id}") { id } }`, `{ notifications { id } }`]) {
        const r = await t.gql(reporter, q);
        expect([q, errorCodes(r).length > 0, JSON.stringify(r.data ?? {}).includes(child.id)]).toEqual([q, true, false]);
      }
      // _entities is not on the public endpoint.
      const ent = await t.gql(reporter, `query($r: [_Any!]!) { _entities(representations: $r) { ... on MandatoryReport { id status } } }`, { r: [{ __typename: 'MandatoryReport', id: otherId }] }, {});
      expect(ent.data?._entities ?? null).toBeNull();
    });

    it('answers a report naming a child of another region, an unknown number and none alike', async () => {
      const [far] = await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code NOT LIKE substr($1, 1, 9) || '%' ORDER BY id LIMIT 1`, [child.grid_code]);
      const shapes: any[] = [];
      // A filer of the child's street (not the district): the far child is outside their jurisdiction.
      const streetReporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-street', region: child.grid_code.slice(0, 9) });
      for (const over of [{ childIdNumber: far.id_number }, { childIdNumber: buildIdNumber('330102', '2015-01-01', 999) }, { childIdNumber: null, childId: far.id }, { childIdNumber: child.id_number, childId: far.id }]) {
        const r = await post(t, streetReporter, { query: FILE, variables: { input: input(over) } }, {});
        expect(r.json.errors).toBeUndefined();
        shapes.push(Object.keys(r.json.data.fileMandatoryReport).sort().join() + r.json.data.fileMandatoryReport.status);
        const e = await eventOf(t, r.requestId);
        expect([JSON.stringify(e).includes(far.id), e.outcome]).toEqual([false, "SUCCESS"]);
      }
      expect(new Set(shapes).size).toBe(1);
    });

    it('refuses bad input with typed errors naming the field, never echoing the child number', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ childIdNumber: child.id_number.slice(0, 17) + (child.id_number[17] === '0' ? '1' : '0') }, 'childIdNumber'],
        [{ childId: 'not-a-uuid' }, 'childId'],
        [{ regionCode: '999999' }, 'regionCode'],
        [{ regionCode: 'abc' }, 'regionCode'],
        [{ observedAt: new Date(Date.now() + 86_400_000).toISOString() }, 'observedAt'],
      ];
      for (const [over, field] of cases) {
        const r = await post(t, reporter, { query: FILE, variables: { input: input(over) } }, {});
        expect([field, r.json.errors?.[0]?.extensions?.code, r.json.errors?.[0]?.extensions?.field]).toEqual([field, 'BAD_USER_INPUT', field]);
        expect(JSON.stringify(r.json)).not.toContain(child.id_number.slice(0, 14));
        expect(JSON.stringify(await eventsOf(t, r.requestId))).not.toContain(child.id_number.slice(0, 14));
      }
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report WHERE region_code IN ('999999','abc')`))[0].n).toBe(0);
    });

    it('refuses malformed paging of myReports with typed errors', async () => {
      for (const q of [`{ myReports(first: 0) { id } }`, `{ myReports(first: -1) { id } }`, `{ myReports(first: 100000) { id } }`, `{ myReports(after: "nope") { id } }`, `{ myReports(after: "00000000-0000-4000-8000-000000000000") { id } }`]) {
        const r = await t.gql(reporter, q, {}, {});
        const codes = errorCodes(r);
        expect([q, codes.length > 0 && codes.every((c) => c === 'BAD_USER_INPUT' || c === 'NOT_FOUND')]).toEqual([q, true]);
        expect(JSON.stringify(r)).not.toMatch(/SELECT|stack|node_modules/);
      }
    });

    it('a reporter or employer registers no webhook and reads none (they would receive notifications)', async () => {
      for (const tok of [reporter, employer]) {
        const r = await t.gql(tok, `mutation { registerWebhook(url: "http://127.0.0.1:9/rt13") { webhook { id } secret } }`);
        expect(errorCodes(r)).toEqual(['FORBIDDEN']);
        expect(errorCodes(await t.gql(tok, `{ webhooks { id } }`))).toEqual(['FORBIDDEN']);
      }
    });

    it('names no child outside the reporter’s jurisdiction in the audit of myReports', async () => {
      const [far] = await t.sql(`SELECT id, trim(id_number) AS id_number FROM registry.minor WHERE grid_code NOT LIKE substr($1, 1, 9) || '%' ORDER BY id LIMIT 1`, [child.grid_code]);
      const street = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-street-2', region: child.grid_code.slice(0, 9) });
      const f = await t.gql(street, FILE, { input: input({ childIdNumber: far.id_number }) }, {});
      expect(f.errors).toBeUndefined();
      const r = await post(t, street, { query: `{ myReports { id status receivedAt } }` }, {});
      expect(r.json.errors).toBeUndefined();
      const e = await eventOf(t, r.requestId);
      expect(JSON.stringify(e)).not.toContain(far.id);
    });

    it('a reporter cannot take a step on their own report', async () => {
      const mine = await t.gql(reporter, FILE, { input: input() }, {});
      const r = await t.gql(reporter, `mutation($id: ID!) { transitionReport(id: $id, to: CLOSED, note: "x") { id } }`, { id: mine.data.fileMandatoryReport.id });
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
      expect((await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [mine.data.fileMandatoryReport.id]))[0].status).toBe('RECEIVED');
    });
  });
});

describe('red team 13: REPORTER and EMPLOYER through a distributed hub', () => {
  let t: TestHub;
  const barred = buildIdNumber('330102', '1980-05-04', 123);
  const clear = buildIdNumber('330102', '1990-07-08', 789);
  beforeAll(async () => {
    t = await startDistributedTestHub({ HUB_EMPLOYMENT_CHECK_MIN_MS: '150', HUB_EMPLOYMENT_CHECKS_PER_HOUR: '3', HUB_RESCREENS_PER_YEAR: '1' });
    const police = await t.token(Department.POLICE, { user: 'officer-d' });
    expect((await t.gql(police, ADD, { input: { idNumber: barred, name: '张某', offence: 'ABUSE', judgementReference: 'D-1' } })).errors).toBeUndefined();
  });
  afterAll(() => t.stop());

  it('answers the same as the monolith: typed errors, the fixed minimum, audit of each check', async () => {
    const employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'kg-d' });
    const check = (idNumber: string) => post(t, employer, { query: CHECK, variables: { input: { idNumber, name: 'x', authorizationReference: 'A' } } }, {});
    for (const [id, answer] of [[barred.toLowerCase(), 'RESTRICTED'], [clear, 'CLEAR']]) {
      const started = performance.now();
      const r = await check(id);
      expect([r.json.errors, r.json.data?.employmentCheck?.answer, performance.now() - started >= 145]).toEqual([undefined, answer, true]);
      const e = await eventOf(t, r.requestId);
      expect([e.role, e.outcome, e.changes.map((c: any) => c.id)]).toEqual(['EMPLOYER', 'SUCCESS', [r.json.data.employmentCheck.checkId]]);
    }
    const bad = await check('123');
    expect(bad.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idNumber' });
    expect((await check(clear)).json.errors).toBeUndefined();
    const limited = await check(barred);
    expect(errorCodes(limited.json)).toEqual(['LIMIT_EXCEEDED']);
    expect(JSON.stringify(limited.json)).not.toMatch(/stack|node_modules|SELECT/);
    expect((await eventOf(t, limited.requestId)).outcome).not.toBe('SUCCESS');
  });

  it('files and reads back a report, and refuses a reporter the report itself', async () => {
    const [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-d' });
    const f = await post(t, reporter, { query: FILE, variables: { input: { harmType: 'PHYSICAL_ABUSE', observation: 'o', location: 'l', regionCode: child.grid_code, urgency: 'URGENT', childIdNumber: child.id_number } } }, {});
    expect(f.json.errors).toBeUndefined();
    const list = await t.gql(reporter, `{ myReports { id status } }`, {}, {});
    expect(list.data.myReports).toEqual([{ id: f.json.data.fileMandatoryReport.id, status: 'RECEIVED' }]);
    const r = await t.gql(reporter, `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } } }`, { id: f.json.data.fileMandatoryReport.id });
    expect([errorCodes(r), r.data?.mandatoryReport ?? null]).toEqual([['FORBIDDEN'], null]);
    const e = await eventOf(t, f.requestId);
    expect([e.role, e.outcome, e.changes.length]).toEqual(['REPORTER', 'SUCCESS', 1]);
  });
});
