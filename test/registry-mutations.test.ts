import { format } from 'node:util';
import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { nextVisitDue } from '../src/subgraphs/registry/resolvers/minor-mutation.resolver';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { birthYearsAgo } from './support/birth-dates';

const CREATE = `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id name idNumber gender birthDate grid { code } riskLevel } }`;

describe('registry writes: validation, atomicity, due dates', () => {
  let t: TestHub;
  let civil: string;
  let grid: string;
  const count = async (table: string) => (await t.sql(`SELECT count(*)::int AS n FROM registry.${table}`))[0].n as number;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`);
  });
  afterAll(() => t.stop());

  const input = (over: Record<string, unknown> = {}) => ({
    name: '李小明',
    idNumber: buildIdNumber('330102', birthYearsAgo(9), 371),
    householdRegistration: '浙江省杭州市上城区清波街道',
    currentAddress: '浙江省杭州市上城区清波街道清波东社区1号',
    gridCode: grid,
    ...over,
  });

  it('seeds the demo children with the due dates their writes would have left: from the last visit after the latest assessment', async () => {
    const rows = await t.sql(`
      SELECT m.next_visit_due, a.level, a.assessed_at, (SELECT max(v.visited_at) FROM registry.visit v WHERE v.minor_id = m.id) AS last_visit
      FROM registry.minor m
      JOIN LATERAL (SELECT level, assessed_at FROM registry.risk_assessment r WHERE r.minor_id = m.id ORDER BY assessed_at DESC, id LIMIT 1) a ON true`);
    const fromVisit = rows.filter((r) => r.last_visit && r.last_visit > r.assessed_at);
    // Enough of the seed's children have a visit after their latest assessment for the rule to matter.
    expect(fromVisit.length).toBeGreaterThan(100);
    for (const r of rows) {
      const from = r.last_visit && r.last_visit > r.assessed_at ? r.last_visit : r.assessed_at;
      expect(r.next_visit_due.toISOString()).toBe(nextVisitDue(r.level, from).toISOString());
    }
  });

  it('registers a minor, deriving birth date and gender from the ID number', async () => {
    const i = input();
    const r = await t.gql(civil, CREATE, { input: i });
    expect(r.errors).toBeUndefined();
    expect(r.data.createMinor).toMatchObject({ name: '李小明', idNumber: i.idNumber, gender: 'MALE', birthDate: birthYearsAgo(9), grid: { code: grid }, riskLevel: null });
    const [row] = await t.sql(`SELECT name, grid_code FROM registry.minor WHERE id = $1`, [r.data.createMinor.id]);
    expect(row).toEqual({ name: '李小明', grid_code: grid });
  });

  const wrongCheck = (id: string) => id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
  const invalid: [string, Record<string, unknown>, string][] = [
    // Another check character than the right one, whatever the day makes it (a fixed '0' was right on some days).
    ['a wrong check digit', { idNumber: wrongCheck(buildIdNumber('330102', birthYearsAgo(9), 373)) }, 'idNumber'],
    ['a malformed ID number', { idNumber: '3301022015' }, 'idNumber'],
    ['an adult', { idNumber: buildIdNumber('330102', birthYearsAgo(19), 375) }, 'idNumber'],
    ['a birth date that disagrees', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 377), birthDate: '2011-01-01' }, 'birthDate'],
    ['a gender that disagrees', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 379), gender: 'FEMALE' }, 'gender'],
    ['an empty name', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 381), name: '  ' }, 'name'],
    ['a too long name', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 383), name: '长'.repeat(51) }, 'name'],
    ['a region that is not a grid', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 385), gridCode: '330102001' }, 'gridCode'],
    ['a grid code with a NUL', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 387), gridCode: '33010200100200\u0000' }, 'gridCode'],
    ['a name drawn as 刘子轩 with a combining grapheme joiner inside', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 389), name: '刘\u034F子轩' }, 'name'],
    ['a name drawn as 刘子轩 with a variation selector inside', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 393), name: '刘子\uFE0F轩' }, 'name'],
    ['a name of a Hangul filler, drawn blank', { idNumber: buildIdNumber('330102', birthYearsAgo(8), 395), name: '\u3164' }, 'name'],
  ];
  it.each(invalid)('refuses %s with BAD_USER_INPUT naming the field, writing nothing', async (_what, over, field) => {
    const before = await count('minor');
    const r = await t.gql(civil, CREATE, { input: input(over) });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions!.field).toBe(field);
    expect(r.data?.createMinor ?? null).toBeNull();
    expect(await count('minor')).toBe(before);
  });

  it('refuses a duplicate ID number plainly, without SQL text, recorded as a read of the ID number of the child registered under it, wherever it lives', async () => {
    const [{ id, id_number }] = await t.sql(`SELECT id, id_number FROM registry.minor WHERE grid_code NOT LIKE '330102001%' ORDER BY id LIMIT 1`);
    const street = await t.token(Department.CIVIL_AFFAIRS, { region: '330102001' });
    const [{ code }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102001%' ORDER BY code LIMIT 1`);
    const r = await post(t, street, { query: CREATE, variables: { input: input({ idNumber: id_number.trim().toLowerCase(), gridCode: code }) } });
    expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(r.json.errors[0].message).toMatch(/already registered/);
    expect(JSON.stringify(r.json)).not.toContain(id);
    expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: id, fields: { 'Minor.idNumber': 'ALLOW' } }]);
  });

  it('registers one child once when the same ID number is sent concurrently: every other call is the plain refusal, audited without a change', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      for (let round = 0; round < 3; round++) {
        const i = input({ idNumber: buildIdNumber('330102', birthYearsAgo(6), 401 + 2 * round) });
        const calls = await Promise.all(Array.from({ length: 8 }, () => post(t, civil, { query: CREATE, variables: { input: i } })));
        const codes = calls.map((c) => (c.json.errors ?? []).map((e: any) => e.extensions.code).join() || 'OK');
        expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
        expect(codes.filter((c) => c !== 'OK')).toEqual(Array(7).fill('BAD_USER_INPUT'));
        const later = await post(t, civil, { query: CREATE, variables: { input: i } });
        expect(later.json.errors[0].message).toBe('idNumber: is already registered');
        for (const c of calls.filter((c) => c.json.errors)) {
          expect([c.status, c.json]).toEqual([later.status, later.json]);
          const event = await eventOf(t, c.requestId);
          expect([event.errorCodes, event.changes]).toEqual([['BAD_USER_INPUT'], []]);
        }
        expect(await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE id_number = $1`, [i.idNumber])).toEqual([{ n: 1 }]);
      }
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });

  it('removes a guardian once when the removal is sent concurrently: the others answer as for an unknown id, and only one change is audited', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 4 LIMIT 1`);
    const added = await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "王五" }) { id } }`, { id });
    const gid = added.data.addGuardian.id;
    const REMOVE = `mutation($g: ID!) { removeGuardian(guardianId: $g) }`;
    const unknown = await t.gql(civil, REMOVE, { g: '00000000-0000-4000-8000-000000000000' });
    const calls = await Promise.all(Array.from({ length: 5 }, () => post(t, civil, { query: REMOVE, variables: { g: gid } })));
    const won = calls.filter((c) => !c.json.errors);
    expect(won.map((c) => c.json.data.removeGuardian)).toEqual([gid]);
    const changes = [];
    for (const c of calls) {
      if (c.json.errors) expect(JSON.stringify(c.json.errors)).toBe(JSON.stringify(unknown.errors));
      changes.push(...(await eventOf(t, c.requestId)).changes);
    }
    expect(changes).toEqual([{ fields: ['guardianId'], id: gid, minorId: id, mutation: 'removeGuardian' }]);
  });

  it('refuses writes from other departments', async () => {
    const before = await count('minor');
    const r = await t.gql(await t.token(Department.POLICE), CREATE, { input: input({ idNumber: buildIdNumber('330102', birthYearsAgo(7), 391) }) });
    expect(errorCodes(r)).toEqual(['FORBIDDEN']);
    expect(await count('minor')).toBe(before);
  });

  it('sets the next visit by level: RED now, ORANGE +7 days, YELLOW +1 month, BLUE +3 months', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT 1`, [grid]);
    const at = '2026-03-31T08:00:00.000Z';
    // 16:00 on 31 March in China: a month on is the last of April, three the last of June (not 1 May, 1 July).
    const expected = { RED: '2026-03-31T08:00:00.000Z', ORANGE: '2026-04-07T08:00:00.000Z', YELLOW: '2026-04-30T08:00:00.000Z', BLUE: '2026-06-30T08:00:00.000Z' };
    for (const [level, due] of Object.entries(expected)) {
      const r = await t.gql(civil, `mutation($id: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $id, input: $i) { level nextVisitDue assessor } }`, {
        id,
        i: { level, reasons: `test ${level}`, assessedAt: at },
      });
      expect(r.errors).toBeUndefined();
      expect(r.data.recordAssessment).toEqual({ level, nextVisitDue: due, assessor: 'civil_affairs-test' });
    }
  });

  it('keeps the latest assessment on the child and moves the due date forward on a visit', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id DESC LIMIT 1`, [grid]);
    const now = new Date();
    await t.gql(civil, `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: ORANGE, reasons: "weekly pairing" }) { id } }`, { id });
    const visited = new Date(now.getTime() + 1000).toISOString();
    const r = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "home visit", visitedAt: $at }) { visitor } }`, { id, at: visited });
    expect(r.errors).toBeUndefined();
    const q = await t.gql(civil, `query($id: ID!) { minor(id: $id) { riskLevel nextVisitDue latestAssessment { level reasons } visits { notes } } }`, { id });
    expect(q.data.minor.riskLevel).toBe('ORANGE');
    expect(q.data.minor.latestAssessment).toEqual({ level: 'ORANGE', reasons: 'weekly pairing' });
    expect(q.data.minor.visits[0].notes).toBe('home visit');
    expect(new Date(q.data.minor.nextVisitDue).getTime()).toBe(new Date(visited).getTime() + 7 * 86_400_000);
  });

  it('answers a child’s visits and assessments a page at a time, newest first: 20 unless `first` (1–100) says otherwise', async () => {
    const [a, b] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level IS NOT NULL ORDER BY id OFFSET 20 LIMIT 2`);
    // Years of weekly visits and monthly assessments for one child; the other keeps its few.
    await t.sql(
      `INSERT INTO registry.visit (id, minor_id, visited_at, visitor, notes)
       SELECT gen_random_uuid(), $1, now() - make_interval(days => 7 * k), 'child-director-1', '入户走访 ' || k FROM generate_series(1, 120) k`,
      [a.id],
    );
    await t.sql(
      `INSERT INTO registry.risk_assessment (id, minor_id, level, reasons, assessor, assessed_at, next_visit_due)
       SELECT gen_random_uuid(), $1, 'ORANGE', '结对帮扶 ' || k, 'grid-worker-1', now() - make_interval(days => 30 * k), now() - make_interval(days => 30 * k - 7) FROM generate_series(1, 30) k`,
      [a.id],
    );
    const newest = async (table: string, column: string, id: string, n: number) =>
      (await t.sql(`SELECT id FROM registry.${table} WHERE minor_id = $1 ORDER BY ${column} DESC, id LIMIT $2`, [id, n])).map((r) => r.id);
    const ids = (list: { id: string }[]) => list.map((v) => v.id);

    const page = await t.gql(civil, `query($a: ID!) { minor(id: $a) { visits { id } assessments { id } } }`, { a: a.id });
    expect(page.errors).toBeUndefined();
    expect(ids(page.data.minor.visits)).toEqual(await newest('visit', 'visited_at', a.id, 20));
    expect(ids(page.data.minor.assessments)).toEqual(await newest('risk_assessment', 'assessed_at', a.id, 20));

    // Two children in one statement: each gets its own newest, neither is cut by the other's.
    const two = await t.gql(civil, `query($a: ID!, $b: ID!) { a: minor(id: $a) { visits(first: 100) { id } assessments(first: 1) { id } } b: minor(id: $b) { visits(first: 100) { id } } }`, { a: a.id, b: b.id });
    expect(two.errors).toBeUndefined();
    expect(ids(two.data.a.visits)).toEqual(await newest('visit', 'visited_at', a.id, 100));
    expect(ids(two.data.a.visits)).toHaveLength(100);
    expect(ids(two.data.a.assessments)).toEqual(await newest('risk_assessment', 'assessed_at', a.id, 1));
    expect(ids(two.data.b.visits)).toEqual(await newest('visit', 'visited_at', b.id, 100));

    for (const first of [0, 101, -1]) {
      const r = await t.gql(civil, `query($a: ID!, $n: Int!) { minor(id: $a) { name visits(first: $n) { id } assessments(first: $n) { id } } }`, { a: a.id, n: first });
      expect(r.data.minor).toEqual({ name: expect.any(String), visits: null, assessments: null });
      expect(r.errors!.map((e: any) => [e.extensions.code, e.message, e.path.join('.')])).toEqual([
        ['BAD_USER_INPUT', 'first: must be between 1 and 100', 'minor.assessments'],
        ['BAD_USER_INPUT', 'first: must be between 1 and 100', 'minor.visits'],
      ]);
    }
  });

  const ASSESS = `mutation($id: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $id, input: $i) { id } }`;
  const VISIT = `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "home visit", visitedAt: $at }) { id } }`;
  const DAY = 86_400_000;

  it('takes the due date from the facts, not the order of writes: the latest assessment’s level, from the last visit after it', async () => {
    const children = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND risk_level IS NULL ORDER BY id LIMIT 2`, [grid]);
    expect(children).toHaveLength(2);
    const now = Date.now();
    const orange = { level: 'ORANGE', reasons: 'weekly pairing', assessedAt: new Date(now - 3 * DAY).toISOString() };
    const yellow = { level: 'YELLOW', reasons: 'entered late', assessedAt: new Date(now - 40 * DAY).toISOString() };
    const visitedAt = new Date(now - DAY).toISOString();
    const writes = {
      assessment: (id: string) => t.gql(civil, ASSESS, { id, i: orange }),
      visit: (id: string) => t.gql(civil, VISIT, { id, at: visitedAt }),
      'older assessment': (id: string) => t.gql(civil, ASSESS, { id, i: yellow }),
    };
    const orders = [['assessment', 'visit', 'older assessment'], ['older assessment', 'visit', 'assessment']] as const;
    for (const [i, order] of orders.entries()) {
      for (const w of order) expect((await writes[w](children[i].id)).errors).toBeUndefined();
    }
    const due = await t.sql(`SELECT id, risk_level, next_visit_due FROM registry.minor WHERE id = ANY($1) ORDER BY id`, [children.map((c) => c.id)]);
    // ORANGE (the latest assessment) weekly from the visit after it; the older YELLOW assessment changes nothing.
    expect(due.map((m) => [m.risk_level, m.next_visit_due.toISOString()])).toEqual([
      ['ORANGE', new Date(Date.parse(visitedAt) + 7 * DAY).toISOString()],
      ['ORANGE', new Date(Date.parse(visitedAt) + 7 * DAY).toISOString()],
    ]);
    // A visit before the latest assessment changes nothing either: the due date runs from the assessment.
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND risk_level IS NULL ORDER BY id LIMIT 1`, [grid]);
    expect((await t.gql(civil, VISIT, { id, at: new Date(now - 5 * DAY).toISOString() })).errors).toBeUndefined();
    expect((await t.gql(civil, ASSESS, { id, i: orange })).errors).toBeUndefined();
    const [m] = await t.sql(`SELECT next_visit_due FROM registry.minor WHERE id = $1`, [id]);
    expect(m.next_visit_due.toISOString()).toBe(new Date(Date.parse(orange.assessedAt) + 7 * DAY).toISOString());
  });

  it('tells the due date a visit set only to those who read the visits: less the interval it is the visit’s time', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND risk_level IS NULL ORDER BY id LIMIT 1`, [grid]);
    const now = Date.now();
    expect((await t.gql(civil, ASSESS, { id, i: { level: 'ORANGE', reasons: 'weekly pairing', assessedAt: new Date(now - 3 * DAY).toISOString() } })).errors).toBeUndefined();
    const visitedAt = new Date(now - DAY - 12_345).toISOString();
    expect((await t.gql(civil, VISIT, { id, at: visitedAt })).errors).toBeUndefined();
    const child = `query($id: ID!) { minor(id: $id) { riskLevel nextVisitDue latestAssessment { assessedAt nextVisitDue } } }`;
    const ca = await t.gql(civil, child, { id });
    expect([ca.errors, ca.data.minor.nextVisitDue]).toEqual([undefined, new Date(Date.parse(visitedAt) + 7 * DAY).toISOString()]);
    const due = `query($d: DateTimeISO!) { minors(filter: { nextVisitDueBefore: $d }) { totalCount } }`;
    const d = new Date(Date.parse(visitedAt) + 7 * DAY + 1).toISOString();
    expect((await t.gql(civil, due, { d })).errors).toBeUndefined();
    for (const department of [Department.EDUCATION, Department.YOUTH_LEAGUE]) {
      const token = await t.token(department);
      const r = await t.gql(token, child, { id });
      // The level and the assessment's own due date (its date plus the interval) stay; the child's is refused.
      expect(r.data.minor).toEqual({ riskLevel: 'ORANGE', nextVisitDue: null, latestAssessment: ca.data.minor.latestAssessment });
      expect(r.errors!.map((e) => [e.extensions!.code, e.path])).toEqual([['FORBIDDEN', ['minor', 'nextVisitDue']]]);
      const filtered = await t.gql(token, due, { d });
      expect([filtered.data?.minors ?? null, errorCodes(filtered)]).toEqual([null, ['FORBIDDEN']]);
    }
  });

  it('answers a child read after a write in the same request as written, not as a field before the write cached it', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id OFFSET 2 LIMIT 1`, [grid]);
    const r = await t.gql(
      civil,
      `mutation($id: ID!) {
        before: updateMinor(id: $id, input: {}) { visits(first: 1) { notes } }
        visit: recordVisit(minorId: $id, input: { notes: "same-request visit" }) { id }
        after: updateMinor(id: $id, input: {}) { visits(first: 1) { notes } }
      }`,
      { id },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.before.visits).not.toEqual([{ notes: 'same-request visit' }]);
    expect(r.data.after.visits).toEqual([{ notes: 'same-request visit' }]);
  });

  it('tells when the record last changed only to those who read the visits: a visit recorded without a time stamps it with its own', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND risk_level IS NOT NULL ORDER BY id OFFSET 1 LIMIT 1`, [grid]);
    const v = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "home visit" }) { visitedAt } }`, { id });
    expect(v.errors).toBeUndefined();
    const child = `query($id: ID!) { minor(id: $id) { riskLevel updatedAt } }`;
    for (const department of [Department.CIVIL_AFFAIRS, Department.POLICE, Department.JUSTICE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(department), child, { id });
      expect([r.errors, r.data.minor.updatedAt]).toEqual([undefined, v.data.recordVisit.visitedAt]);
    }
    for (const department of [Department.EDUCATION, Department.YOUTH_LEAGUE]) {
      const r = await t.gql(await t.token(department), child, { id });
      expect(r.data.minor).toEqual({ riskLevel: expect.any(String), updatedAt: null });
      expect(r.errors!.map((e) => [e.extensions!.code, e.path])).toEqual([['FORBIDDEN', ['minor', 'updatedAt']]]);
    }
  });

  it('refuses an assessment in the future', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const r = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordAssessment(minorId: $id, input: { level: RED, reasons: "x", assessedAt: $at }) { id } }`, {
      id,
      at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions!.field).toBe('assessedAt');
  });

  it('refuses an assessment or a visit dated before the child was born, writing nothing', async () => {
    const [m] = await t.sql(`SELECT id, birth_date::text AS birth_date, risk_level, next_visit_due FROM registry.minor WHERE birth_date > '2010-01-01' ORDER BY id LIMIT 1`);
    const before = { assessments: await count('risk_assessment'), visits: await count('visit') };
    const dayBefore = new Date(Date.parse(`${m.birth_date}T00:00:00+08:00`) - 60_000).toISOString();
    for (const at of ['1900-01-01T00:00:00Z', dayBefore]) {
      const a = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordAssessment(minorId: $id, input: { level: RED, reasons: "x", assessedAt: $at }) { id nextVisitDue } }`, { id: m.id, at });
      expect(errorCodes(a)).toEqual(['BAD_USER_INPUT']);
      expect(a.errors![0].extensions!.field).toBe('assessedAt');
      const v = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "x", visitedAt: $at }) { id } }`, { id: m.id, at });
      expect(errorCodes(v)).toEqual(['BAD_USER_INPUT']);
      expect(v.errors![0].extensions!.field).toBe('visitedAt');
    }
    expect({ assessments: await count('risk_assessment'), visits: await count('visit') }).toEqual(before);
    const [after] = await t.sql(`SELECT risk_level, next_visit_due FROM registry.minor WHERE id = $1`, [m.id]);
    expect(after).toEqual({ risk_level: m.risk_level, next_visit_due: m.next_visit_due });
    // On the day of birth (China time) it is accepted.
    const onBirthDay = new Date(Date.parse(`${m.birth_date}T00:00:00+08:00`)).toISOString();
    const ok = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "出生当日", visitedAt: $at }) { id } }`, { id: m.id, at: onBirthDay });
    expect(ok.errors).toBeUndefined();
  });

  it('rolls back a write that fails half-way and masks the database error', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level IS NOT NULL ORDER BY id LIMIT 1`);
    // Make the second statement of recordAssessment (the update of the child) fail.
    await t.sql(`CREATE FUNCTION registry.fail_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom in table registry.minor'; END $$`);
    await t.sql(`CREATE TRIGGER fail_update BEFORE UPDATE ON registry.minor FOR EACH ROW EXECUTE FUNCTION registry.fail_update()`);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const before = await count('risk_assessment');
      const r = await t.gql(civil, `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "x" }) { id } }`, { id });
      expect(errorCodes(r)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(JSON.stringify(r.errors)).not.toMatch(/boom|registry\.|SELECT|UPDATE|at /);
      expect(await count('risk_assessment')).toBe(before);
      expect(log).toHaveBeenCalled(); // the cause is logged on the server, not sent to the client
    } finally {
      log.mockRestore();
      await t.sql(`DROP TRIGGER fail_update ON registry.minor`);
      await t.sql(`DROP FUNCTION registry.fail_update()`);
    }
  });

  // Failures no resolver foresaw: TypeORM's error carries the statement's parameters, Postgres's detail
  // the failing row, and a data exception's message the value it could not take.
  it.each([
    [
      'a constraint refusing the row',
      `ALTER TABLE registry.minor ADD CONSTRAINT probe_refused CHECK (false) NOT VALID`,
      `ALTER TABLE registry.minor DROP CONSTRAINT probe_refused`,
      /QueryFailedError: new row for relation "minor" violates check constraint "probe_refused" \[code 23514, schema registry, table minor, constraint probe_refused\]/,
    ],
    [
      'a value the database cannot take',
      `CREATE FUNCTION registry.probe_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'invalid input syntax for type probe: "%"', NEW.name USING ERRCODE = '22P02'; END $$;
       CREATE TRIGGER probe_refused BEFORE INSERT ON registry.minor FOR EACH ROW EXECUTE FUNCTION registry.probe_refused()`,
      `DROP TRIGGER probe_refused ON registry.minor; DROP FUNCTION registry.probe_refused()`,
      /QueryFailedError: invalid input syntax for type probe: "…" \[code 22P02\]/,
    ],
    [
      'a value of several lines, one of them looking like a stack frame',
      `CREATE FUNCTION registry.probe_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'invalid input syntax for type probe: "%"', E'x\\n    at ' || NEW.name || ' ' || NEW.id_number USING ERRCODE = '22P02'; END $$;
       CREATE TRIGGER probe_refused BEFORE INSERT ON registry.minor FOR EACH ROW EXECUTE FUNCTION registry.probe_refused()`,
      `DROP TRIGGER probe_refused ON registry.minor; DROP FUNCTION registry.probe_refused()`,
      /QueryFailedError: invalid input syntax for type probe: "…" \[code 22P02\]/,
    ],
    [
      'a value holding a double quote, which Postgres quotes unescaped',
      `CREATE FUNCTION registry.probe_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'invalid input syntax for type probe: "%"', 'a" ' || NEW.name || ' " ' || NEW.id_number USING ERRCODE = '22P02'; END $$;
       CREATE TRIGGER probe_refused BEFORE INSERT ON registry.minor FOR EACH ROW EXECUTE FUNCTION registry.probe_refused()`,
      `DROP TRIGGER probe_refused ON registry.minor; DROP FUNCTION registry.probe_refused()`,
      /QueryFailedError: invalid input syntax for type probe: "…" \[code 22P02\]/,
    ],
  ])('logs %s by what failed and where, never the values of the statement: no child’s name, ID number or address in the log', async (_what, setUp, tearDown, expected) => {
    await t.sql(setUp);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const i = input({ name: '王保密', idNumber: buildIdNumber('330102', birthYearsAgo(7), 391), currentAddress: '浙江省杭州市上城区清波街道保密社区9号' });
      const r = await t.gql(civil, CREATE, { input: i });
      expect(errorCodes(r)).toEqual(['INTERNAL_SERVER_ERROR']);
      const logged = log.mock.calls.map((args) => format(...args)).join('\n');
      expect(logged).toMatch(expected);
      expect(logged).toMatch(/\n\s+at \S/); // its stack, to find the code
      for (const value of [i.name, i.idNumber, i.currentAddress, i.householdRegistration, i.gridCode]) expect(logged).not.toContain(value);
    } finally {
      log.mockRestore();
      await t.sql(tearDown);
    }
  });

  it('adds and removes guardians and categories', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 5 LIMIT 1`);
    const g = await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: MOTHER, name: "王芳", phone: "13900001111", situation: WORKING_AWAY }) { id name phone situation } }`, { id });
    expect(g.errors).toBeUndefined();
    expect(g.data.addGuardian).toMatchObject({ name: '王芳', phone: '13900001111', situation: 'WORKING_AWAY' });
    expect(errorCodes(await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: MOTHER, name: "x", phone: "call me" }) { id } }`, { id }))).toEqual(['BAD_USER_INPUT']);
    // Left out, the situation is NORMAL; an explicit null is refused as the client's error, nothing written.
    const guardians = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [id]))[0].n;
    const before = await guardians();
    const nulled = await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "张三", situation: null }) { id } }`, { id });
    expect(errorCodes(nulled)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const viaVariable = await t.gql(civil, `mutation($id: ID!, $g: GuardianInput!) { addGuardian(minorId: $id, input: $g) { id } }`, { id, g: { relationship: 'FATHER', name: '张三', situation: null } });
    expect(errorCodes(viaVariable)).toEqual(['BAD_USER_INPUT']);
    expect(await guardians()).toBe(before);
    const removed = await post(t, civil, { query: `mutation($g: ID!) { removeGuardian(guardianId: $g) }`, variables: { g: g.data.addGuardian.id } });
    expect(removed.json.data.removeGuardian).toBe(g.data.addGuardian.id);
    // The answer is the guardian's id alone; the audit still names the child whose record changed.
    expect((await eventOf(t, removed.requestId)).changes).toEqual([{ fields: ['guardianId'], id: g.data.addGuardian.id, minorId: id, mutation: 'removeGuardian' }]);
    expect(await t.sql(`SELECT 1 FROM registry.guardian WHERE id = $1`, [g.data.addGuardian.id])).toEqual([]);

    await t.sql(`DELETE FROM registry.minor_category WHERE minor_id = $1 AND category = 'ORPHAN'`, [id]);
    const add = await t.gql(civil, `mutation($id: ID!) { addCategory(minorId: $id, category: ORPHAN) { categories { category } } }`, { id });
    expect(add.data.addCategory.categories.map((c: any) => c.category)).toContain('ORPHAN');
    const rm = await t.gql(civil, `mutation($id: ID!) { removeCategory(minorId: $id, category: ORPHAN) { categories { category } } }`, { id });
    expect(rm.data.removeCategory.categories.map((c: any) => c.category)).not.toContain('ORPHAN');
    expect(errorCodes(await t.gql(civil, `mutation($id: ID!) { removeCategory(minorId: $id, category: ORPHAN) { id } }`, { id }))).toEqual(['BAD_USER_INPUT']);
  });

  it('records at most 10 guardians of a child, concurrent additions included: the others are refused, writing nothing', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 6 LIMIT 1`);
    const guardians = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [id]))[0].n;
    const ADD = `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "王五" }) { id } }`;
    while ((await guardians()) < 5) expect((await t.gql(civil, ADD, { id })).errors).toBeUndefined();
    const calls = await Promise.all(Array.from({ length: 10 }, () => post(t, civil, { query: ADD, variables: { id } })));
    expect(await guardians()).toBe(10);
    const refused = calls.filter((c) => c.json.errors);
    expect(refused).toHaveLength(5);
    for (const c of refused) {
      expect(c.json.errors.map((e: any) => [e.extensions.code, e.message])).toEqual([['BAD_USER_INPUT', 'minorId: the child already has 10 guardians, the most recorded']]);
      expect((await eventOf(t, c.requestId)).changes).toEqual([]);
    }
    expect(errorCodes(await t.gql(civil, ADD, { id }))).toEqual(['BAD_USER_INPUT']);
    expect(await guardians()).toBe(10);
    // One removed, one may be added again.
    const [{ id: gid }] = await t.sql(`SELECT id FROM registry.guardian WHERE minor_id = $1 LIMIT 1`, [id]);
    expect((await t.gql(civil, `mutation($g: ID!) { removeGuardian(guardianId: $g) }`, { g: gid })).errors).toBeUndefined();
    expect((await t.gql(civil, ADD, { id })).errors).toBeUndefined();
    expect(await guardians()).toBe(10);
  });

  it('tells a guardianship-failure category once, when it is recorded, not again when it is added a second time', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 7 LIMIT 1`);
    await t.sql(`DELETE FROM registry.minor_category WHERE minor_id = $1 AND category = 'LACK_OF_GUARDIANSHIP'`, [id]);
    const told = () =>
      t.sql(`SELECT DISTINCT payload->>'MinorCategory.identifiedAt' AS identified_at FROM workflow.notification WHERE minor_id = $1 AND kind = 'GUARDIANSHIP_FAILURE'`, [id]);
    const notifications = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE minor_id = $1`, [id]))[0].n as number;
    const deliveries = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.webhook_delivery`))[0].n as number;
    const ADD = `mutation($id: ID!, $d: String) { addCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP, identifiedAt: $d) { categories { category identifiedAt } } }`;
    const updatedAt = async () => (await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [id]))[0].updated_at as Date;
    const stamped = await updatedAt();
    const first = await post(t, civil, { query: ADD, variables: { id, d: '2025-03-01' } });
    expect(first.json.errors).toBeUndefined();
    expect((await eventOf(t, first.requestId)).changes).toEqual([{ fields: ['category', 'identifiedAt', 'minorId'], id, minorId: id, mutation: 'addCategory' }]);
    expect(await told()).toEqual([{ identified_at: '2025-03-01' }]);
    expect((await updatedAt()).getTime()).toBeGreaterThan(stamped.getTime());
    const [n, d, u] = [await notifications(), await deliveries(), await updatedAt()];
    for (const again of ['2025-03-02', '2025-03-03']) {
      const r = await post(t, civil, { query: ADD, variables: { id, d: again } });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.addCategory.categories).toContainEqual({ category: 'LACK_OF_GUARDIANSHIP', identifiedAt: '2025-03-01' });
      // The category was there already: nothing changed, not even the record's updatedAt, and the
      // event records no change (the call and what it answered are still audited).
      expect(await eventOf(t, r.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [], reads: [{ minorId: id, fields: expect.objectContaining({ 'Minor.categories': 'ALLOW' }) }] });
    }
    expect(await notifications()).toBe(n);
    expect(await deliveries()).toBe(d);
    expect(await updatedAt()).toEqual(u);
    expect(await told()).toEqual([{ identified_at: '2025-03-01' }]);
  });

  it('records an update that gives the values the child’s record already holds as no change, and leaves its updatedAt', async () => {
    const [m] = await t.sql(`SELECT id, name, school, grid_code, updated_at FROM registry.minor ORDER BY id OFFSET 8 LIMIT 1`);
    const UPDATE = `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { name school } }`;
    const stored = () => t.sql(`SELECT name, school, grid_code, updated_at FROM registry.minor WHERE id = $1`, [m.id]);
    const before = await stored();
    for (const input of [{}, { name: m.name, school: m.school, gridCode: m.grid_code }]) {
      const same = await post(t, civil, { query: UPDATE, variables: { id: m.id, input } });
      expect(same.json).toEqual({ data: { updateMinor: { name: m.name, school: m.school } } });
      expect(await eventOf(t, same.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [], reads: [{ minorId: m.id, fields: { 'Minor.name': 'ALLOW', 'Minor.school': 'ALLOW' } }] });
      expect(await stored()).toEqual(before);
    }
    const renamed = await post(t, civil, { query: UPDATE, variables: { id: m.id, input: { name: `${m.name}改`, school: m.school } } });
    expect(renamed.json).toEqual({ data: { updateMinor: { name: `${m.name}改`, school: m.school } } });
    // The school given as it was is not named: the event names the fields the update changed.
    expect((await eventOf(t, renamed.requestId)).changes).toEqual([{ fields: ['id', 'input.name'], id: m.id, minorId: m.id, mutation: 'updateMinor' }]);
    const [after] = await stored();
    expect(after.updated_at.getTime()).toBeGreaterThan(before[0].updated_at.getTime());
  });

  it('refuses a category identified on a day that does not exist or in the future, writing nothing', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 6 LIMIT 1`);
    await t.sql(`DELETE FROM registry.minor_category WHERE minor_id = $1 AND category IN ('POVERTY', 'ORPHAN')`, [id]);
    for (const [category, identifiedAt] of [['POVERTY', '2025-02-30'], ['ORPHAN', '2099-01-01'], ['ORPHAN', 'soon']]) {
      const r = await t.gql(civil, `mutation($id: ID!, $c: DifficultyCategory!, $d: String) { addCategory(minorId: $id, category: $c, identifiedAt: $d) { id } }`, {
        id,
        c: category,
        d: identifiedAt,
      });
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions!.field).toBe('identifiedAt');
    }
    expect(await t.sql(`SELECT category FROM registry.minor_category WHERE minor_id = $1 AND category IN ('POVERTY', 'ORPHAN')`, [id])).toEqual([]);
  });

  it('refuses a category identified before the child was born, as an assessment or a visit is; accepts the day of birth', async () => {
    const [{ id, birth_date }] = await t.sql(`SELECT id, birth_date::text FROM registry.minor ORDER BY id OFFSET 8 LIMIT 1`);
    await t.sql(`DELETE FROM registry.minor_category WHERE minor_id = $1 AND category IN ('POVERTY', 'ORPHAN')`, [id]);
    const ADD = `mutation($id: ID!, $c: DifficultyCategory!, $d: String) { addCategory(minorId: $id, category: $c, identifiedAt: $d) { categories { category identifiedAt } } }`;
    const dayBefore = new Date(Date.parse(birth_date) - 86_400_000).toISOString().slice(0, 10);
    for (const d of ['1901-01-01', dayBefore]) {
      const r = await t.gql(civil, ADD, { id, c: 'POVERTY', d });
      expect([errorCodes(r), r.errors![0].extensions!.field, r.errors![0].message]).toEqual([['BAD_USER_INPUT'], 'identifiedAt', 'identifiedAt: must not be before the child was born']);
    }
    expect(await t.sql(`SELECT category FROM registry.minor_category WHERE minor_id = $1 AND category = 'POVERTY'`, [id])).toEqual([]);
    const born = await t.gql(civil, ADD, { id, c: 'ORPHAN', d: birth_date });
    expect(born.data.addCategory.categories).toContainEqual({ category: 'ORPHAN', identifiedAt: birth_date });
  });
});
