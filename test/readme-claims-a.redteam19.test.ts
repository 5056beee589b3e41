import { Department, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * README "Security model", read sentence by sentence: the claims no earlier suite pinned, or pinned
 * in one mode only, asked through the public endpoint, in process and with every subgraph served
 * alone (red team 19).
 */

const CREATE = `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id age } }`;
const minorInput = (idNumber: string, grid: string) => ({
  name: '王小雨',
  idNumber,
  householdRegistration: '浙江省杭州市上城区',
  currentAddress: '浙江省杭州市上城区清波街道1号',
  gridCode: grid,
});
const DAY = 86_400_000;
let seq = 700;
const nextSeq = () => seq++;

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('README security model claims, %s (redteam19)', (_mode, distributed) => {
  let t: TestHub;
  let civil: string;
  let grid: string;
  let existing: string;

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    const [row] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    grid = row.grid_code;
    existing = row.id;
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A registered child (a copy of one) with another birth date and number, written straight to the table. */
  const twin = async (birthDate: string, seq: number) => {
    const idNumber = buildIdNumber('330102', birthDate, seq);
    const [{ id }] = await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, created_at, updated_at)
       SELECT gen_random_uuid(), name, $4::text, $2::date, $3, household_registration, current_address, grid_code, now(), now() FROM registry.minor WHERE id = $1 RETURNING id`,
      [existing, birthDate, idNumber, seq % 2 === 1 ? 'MALE' : 'FEMALE'],
    );
    return { id: id as string, idNumber };
  };

  // README, Ageing out: "`createMinor` with their ID number is refused as an adult's (`idNumber: belongs to an
  // adult`: the number carries its birth date, so the refusal tells nothing of the registry)".
  it('createMinor with the number of a registered child who has turned 18 is refused as any adult’s number is, recording no read of them', async () => {
    const born = yearsBefore(new Date(Date.now() - DAY), 18); // 18 since yesterday in China
    const aged = await twin(born, 501);
    const stranger = buildIdNumber('330102', born, 503);
    const a = await post(t, civil, { query: CREATE, variables: { input: minorInput(aged.idNumber, grid) } });
    const b = await post(t, civil, { query: CREATE, variables: { input: minorInput(stranger, grid) } });
    const shape = (r: typeof a) => ({ status: r.status, data: r.json.data, errors: r.json.errors?.map((e: any) => [e.extensions?.code, e.extensions?.field, e.message]) });
    expect(shape(a)).toEqual(shape(b));
    expect(a.json.errors[0].message).toMatch(/^idNumber: belongs to an adult/);
    const ea = await eventOf(t, a.requestId);
    expect(JSON.stringify(ea.reads ?? [])).not.toContain(aged.id);
    expect(ea.outcome).toBe((await eventOf(t, b.requestId)).outcome);
  });

  // README, Errors: "A null given for a variable that stands in a non-null position (… `@include(if: $v)`, an input
  // field, a list item …) is refused before anything runs: `BAD_USER_INPUT` (HTTP 400, no data) naming the variable
  // and the type required".
  it.each([
    ['a list item of a filter', `query($r: RiskLevel = RED) { minors(filter: { riskLevels: [$r] }, first: 1) { totalCount } }`, 'r', 'RiskLevel!'],
    ['@include on a root field', `query($v: Boolean = true) { regions @include(if: $v) { code } }`, 'v', 'Boolean!'],
    ['@skip inside a named fragment', `query($v: Boolean = false) { ...F } fragment F on Query { regions @skip(if: $v) { code } }`, 'v', 'Boolean!'],
    ['an input field of a mutation', `mutation($id: ID!, $n: String = "走访") { recordVisit(minorId: $id, input: { notes: $n }) { id } }`, 'n', 'String!'],
  ])('refuses a null variable in a non-null position (%s) before anything runs: 400, BAD_USER_INPUT, no data, nothing written', async (_what, query, variable, type) => {
    const [{ n: before }] = await t.sql(`SELECT count(*)::int AS n FROM registry.visit`);
    const r = await post(t, civil, { query, variables: { id: existing, [variable]: null } });
    expect(r.status).toBe(400);
    expect(r.json.data).toBeUndefined();
    expect(r.json.errors.map((e: any) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', `Variable "$${variable}" is null where a value of type "${type}" is required`]]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM registry.visit`))[0].n).toBe(before);
  });

  // README, Errors: OPERATION_RESOLUTION_FAILURE (400), a subscription BAD_REQUEST (400), `$representations` and
  // reserved aliases GRAPHQL_VALIDATION_FAILED (400) — pinned in one mode before.
  it('refuses an unknown operationName 400, a subscription 400, `$representations` in a mutation and a `__typename` alias on a region 400', async () => {
    const unknown = await post(t, civil, { query: `query A { regions { code } }`, operationName: 'B' });
    expect([unknown.status, unknown.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([400, ['OPERATION_RESOLUTION_FAILURE']]);
    const sub = await post(t, civil, { query: `subscription { regions { code } }` });
    expect([sub.status, sub.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([400, ['BAD_REQUEST']]);
    const [{ n: before }] = await t.sql(`SELECT count(*)::int AS n FROM registry.visit`);
    const rep = await post(t, civil, { query: `mutation($representations: String!, $id: ID!) { recordVisit(minorId: $id, input: { notes: $representations }) { id } }`, variables: { representations: '走访', id: existing } });
    expect([rep.status, rep.json.errors?.map((e: any) => e.extensions?.code), rep.json.data]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED'], undefined]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM registry.visit`))[0].n).toBe(before);
    const alias = await post(t, civil, { query: `{ regions { __typename: name code } }` });
    expect([alias.status, alias.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    const nested = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { guardians { id: name } } }`, variables: { id: existing } });
    // Guardian is no entity: `id: name` there is the client's own response name, served.
    expect(nested.status).toBe(200);
  });

  // README, Errors: "An answer lists its errors in the order of their paths (those of the whole request first)".
  it('lists errors in the order of their paths, indices as numbers, whichever subgraph refused them', async () => {
    const ed = await t.token(Department.EDUCATION);
    const q = `{ z: minors(first: 12) { edges { node { birthDate policeProtectionCase { hasOpenCase } } } } a: minors(first: 11) { edges { node { birthDate } } } }`;
    const r = await t.gql(ed, q);
    const paths = (r.errors ?? []).map((e) => e.path);
    expect(paths.length).toBeGreaterThanOrEqual(23);
    const key = (p: (string | number)[] | undefined) => (p ?? []).map((k) => (typeof k === 'number' ? String(k).padStart(6, '0') : `~${k}`)).join('/');
    const sorted = [...paths].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    expect(paths).toEqual(sorted);
    expect(paths[0]?.[0]).toBe('a');
  });

  // README, Field level: the masks (exact outputs) and DENY (null + FORBIDDEN on that path, the rest served), for
  // the child a department's own write answers with — the mutation's result read through the registry.
  it('a school’s write answers its child masked as any read does: ID number, guardian name/phone/address, category, birth date refused', async () => {
    const child = await twin(yearsBefore(new Date(Date.now() - 3 * DAY), 9), 611);
    await t.sql(
      `INSERT INTO registry.guardian (id, minor_id, relationship, name, phone, address, situation) VALUES
        (gen_random_uuid(), $1, 'MOTHER', '欧阳娜', '0571-87001234', '浙江省杭州市上城区清波街道劳动路8号', 'NORMAL'),
        (gen_random_uuid(), $1, 'FATHER', '买买提·艾力', '+8613912341803', '清波街道劳动路社区3幢', 'NORMAL'),
        (gen_random_uuid(), $1, 'GRANDPARENT', '刘一二三四', '87001234', '杭州市紫金港东区5幢', 'NORMAL')`,
      [child.id],
    );
    await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'DOMESTIC_VIOLENCE', '2024-01-01'), ($1, 'LEFT_BEHIND', '2024-01-01')`, [child.id]);
    const ed = await t.token(Department.EDUCATION);
    const sel = `minor { id idNumber birthDate age guardians { relationship name phone address } categories { category } }`;
    const w = await t.gql(ed, `mutation($id: ID!) { createBullyingCase(minorId: $id, input: { school: "实验小学", occurredOn: "2025-03-01", role: VICTIM, severity: GENERAL, status: OPEN, description: "同学冲突" }) { id ${sel} } }`, { id: child.id });
    const r = await t.gql(ed, `query($id: ID!) { minor(id: $id) ${sel.slice(6)} }`, { id: child.id });
    if (!w.data?.createBullyingCase?.minor || !r.data?.minor) throw new Error(JSON.stringify([w, r]));
    for (const m of [w.data?.createBullyingCase?.minor, r.data?.minor]) {
      expect(m).toBeTruthy();
      expect(m.idNumber).toBe(`330102${'*'.repeat(12)}`);
      expect(m.birthDate).toBeNull();
      expect(m.age).toBe(9);
      const byRel = Object.fromEntries(m.guardians.map((g: any) => [g.relationship, [g.name, g.phone, g.address]]));
      expect(byRel).toEqual({
        MOTHER: ['欧阳**', '****1234', '浙江省杭州市上城区********'],
        FATHER: ['**', '+86****1803', '********'],
        GRANDPARENT: ['刘**', '****1234', '********'],
      });
      expect(m.categories.map((c: any) => c.category).sort()).toEqual(['LEFT_BEHIND', 'NEEDS_SUPPORT']);
    }
    expect(w.errors?.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([['FORBIDDEN', 'createBullyingCase.minor.birthDate']]);
    expect(r.errors?.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([['FORBIDDEN', 'minor.birthDate']]);
  });

  // README, Errors: "the workflow's own allowances — … active webhooks per department and region —, … a query of the
  // audit trail aliased a second time in one request … are refused on their field, HTTP 200 beside the request's
  // other data, in-process and distributed alike" — LIMIT_EXCEEDED is 413 only for the request-wide bounds.
  it('a webhook past the department’s allowance, asked alone, is refused on its field: HTTP 200, not 413', async () => {
    const street = '330102003';
    const officer = await t.token(Department.JUSTICE, { user: `rt19-cap-${distributed ? 'd' : 'p'}`, region: street });
    const REGISTER = `mutation($url: String!) { registerWebhook(url: $url) { webhook { id } } }`;
    const max = 10;
    for (let i = 0; i < max; i++) {
      const ok = await t.gql(officer, REGISTER, { url: `http://127.0.0.1:9/rt19/${i}` });
      expect(ok.errors).toBeUndefined();
    }
    const over = await post(t, officer, { query: REGISTER, variables: { url: `http://127.0.0.1:9/rt19/${max}` } });
    expect([over.status, over.json.errors?.map((e: any) => e.extensions?.code), over.json.data]).toEqual([200, ['LIMIT_EXCEEDED'], { registerWebhook: null }]);
  });

  it('the audit trail asked twice under two aliases is refused on its field, HTTP 200, the other fields served', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102' });
    const twice = await post(t, auditor, { query: `{ regions { code } a: auditVerify { ok } b: auditVerify { ok } }` }, { 'x-purpose': 'SUPERVISION; rt19' });
    if (twice.status !== 200) throw new Error(JSON.stringify(twice.json));
    expect(twice.status).toBe(200);
    expect(twice.json.errors?.map((e: any) => e.extensions?.code)).toEqual(['LIMIT_EXCEEDED']);
    expect(twice.json.data?.regions?.length).toBeGreaterThan(0);
  });

  // README, Order side channel: categories "sorted as a masked reader sees them, by the name shown and then the date
  // identified"; department records "newest first only to a caller who may read the date …, and by their random id to
  // anyone else, a page of them then being the first `first` by id, and `after` going on by id".
  it('a child’s categories come in the order a masked reader sees them, to every reader', async () => {
    const child = await twin(yearsBefore(new Date(Date.now() - 3 * DAY), 11), 621);
    await t.sql(
      `INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES
        ($1, 'DOMESTIC_VIOLENCE', '2025-01-01'), ($1, 'DROPOUT', '2024-02-01'), ($1, 'CRIME_VICTIM', '2024-01-01'),
        ($1, 'INCARCERATED_PARENT', '2023-01-01'), ($1, 'DISABILITY', '2024-03-01')`,
      [child.id],
    );
    const read = async (d: Department) => (await t.gql(await t.token(d), `query($id: ID!) { minor(id: $id) { categories { category identifiedAt } } }`, { id: child.id })).data.minor.categories.map((c: any) => `${c.category}@${c.identifiedAt}`);
    const shown = ['DISABILITY@2024-03-01', 'DROPOUT@2024-02-01', 'NEEDS_SUPPORT@2023-01-01', 'NEEDS_SUPPORT@2024-01-01', 'NEEDS_SUPPORT@2025-01-01'];
    for (const d of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) expect(await read(d)).toEqual(shown);
    expect(await read(Department.CIVIL_AFFAIRS)).toEqual(['DISABILITY@2024-03-01', 'DROPOUT@2024-02-01', 'INCARCERATED_PARENT@2023-01-01', 'CRIME_VICTIM@2024-01-01', 'DOMESTIC_VIOLENCE@2025-01-01']);
  });

  it('identity verifications: newest first to the police, by id to a school, its `after` going on by id', async () => {
    const child = await twin(yearsBefore(new Date(Date.now() - 3 * DAY), 12), 631);
    const police = await t.token(Department.POLICE);
    const made: { id: string; on: string }[] = [];
    for (const on of ['2024-05-01', '2025-05-01', '2023-05-01', '2024-11-01', '2022-05-01']) {
      const r = await t.gql(police, `mutation($id: ID!, $on: String!) { createIdentityVerification(minorId: $id, input: { verifiedOn: $on, result: MATCHED, householdStatus: REGISTERED, householdPlace: "浙江省杭州市上城区" }) { id } }`, { id: child.id, on });
      expect(r.errors).toBeUndefined();
      made.push({ id: r.data.createIdentityVerification.id, on });
    }
    const byDate = [...made].sort((a, b) => (a.on < b.on ? 1 : -1)).map((m) => m.id);
    const byId = made.map((m) => m.id).sort();
    const page = async (token: string, first: number, after?: string) => {
      const r = await t.gql(token, `query($id: ID!, $first: Int, $after: ID) { minor(id: $id) { identityVerifications(first: $first, after: $after) { id householdStatus } } }`, { id: child.id, first, after });
      expect(r.errors).toBeUndefined();
      return r.data.minor.identityVerifications.map((v: any) => v.id);
    };
    expect(await page(police, 5)).toEqual(byDate);
    const school = await t.token(Department.EDUCATION);
    expect(await page(school, 5)).toEqual(byId);
    expect(await page(school, 2)).toEqual(byId.slice(0, 2));
    expect(await page(school, 2, byId[1])).toEqual(byId.slice(2, 4));
    expect(await page(school, 2, byDate[0])).toEqual(byId.slice(byId.indexOf(byDate[0]) + 1).slice(0, 2));
  });

  // README, Filter side channel: each filter needs ALLOW on the field it filters; NEEDS_SUPPORT is never a filter
  // value; an empty list is refused BAD_USER_INPUT.
  it('refuses the filters a school may not use, and empty lists, as the README lists them', async () => {
    const school = await t.token(Department.EDUCATION);
    const ask = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
      const r = await t.gql(token, query, variables);
      return [r.errors?.map((e) => e.extensions?.code), r.errors?.[0]?.message];
    };
    const M = `query($f: MinorFilter) { minors(filter: $f, first: 1) { totalCount } }`;
    expect((await ask(school, M, { f: { categories: ['CRIME_VICTIM'] } }))[0]).toEqual(['FORBIDDEN']);
    expect((await ask(school, M, { f: { categories: ['LEFT_BEHIND', 'DOMESTIC_VIOLENCE'] } }))[0]).toEqual(['FORBIDDEN']);
    expect((await ask(school, M, { f: { categories: ['LEFT_BEHIND'] } }))[0]).toBeUndefined();
    expect((await ask(school, M, { f: { nextVisitDueBefore: '2030-01-01T00:00:00Z' } }))[0]).toEqual(['FORBIDDEN']);
    expect((await ask(school, `{ minorByIdNumber(idNumber: "33010220150612371X") { id } }`))[0]).toEqual(['FORBIDDEN']);
    const ca = civil;
    expect((await ask(ca, M, { f: { categories: ['NEEDS_SUPPORT'] } }))[0]).toEqual(['BAD_USER_INPUT']);
    expect(await ask(ca, M, { f: { riskLevels: [] } })).toEqual([['BAD_USER_INPUT'], 'filter.riskLevels: must name at least one value, or be left out']);
    expect(await ask(ca, `{ overdueVisits(riskLevels: [], first: 1) { minor { id } } }`)).toEqual([['BAD_USER_INPUT'], 'riskLevels: must name at least one value, or be left out']);
    const police = await t.token(Department.POLICE);
    expect(await ask(police, `{ policeIncidents(filter: { types: [] }, first: 1) { totalCount } }`)).toEqual([['BAD_USER_INPUT'], 'filter.types: must name at least one value, or be left out']);
    expect(await ask(ca, `{ referrals(status: [], first: 1) { id } }`)).toEqual([['BAD_USER_INPUT'], 'status: must name at least one value, or be left out']);
    expect(await ask(police, `{ mandatoryReports(status: [], first: 1) { id } }`)).toEqual([['BAD_USER_INPUT'], 'status: must name at least one value, or be left out']);
    expect(await ask(await t.token(Department.WOMENS_FEDERATION), `{ carePlans(filter: { kinds: [] }, first: 1) { totalCount } }`)).toEqual([['BAD_USER_INPUT'], 'filter.kinds: must name at least one value, or be left out']);
    expect(await ask(school, `{ dropoutReports(filter: { statuses: [] }, first: 1) { totalCount } }`)).toEqual([['BAD_USER_INPUT'], 'filter.statuses: must name at least one value, or be left out']);
    expect(await ask(school, M, { f: { categories: [] } })).toEqual([['BAD_USER_INPUT'], 'filter.categories: must name at least one value, or be left out']);
  });

  // README, ADDRESS mask: the prefix through the county "only when a street or township follows it or it is a whole
  // province–city–county value (a 户籍地 such as `安徽省阜阳市临泉县` …)"; the rest 8 stars whatever its length.
  it.each([
    ['安徽省阜阳市临泉县', '杭州市建德市洋溪街道新安村5号', '安徽省阜阳市临泉县********', '杭州市建德市********'],
    ['浙江省宁波市江北区', '上城区清波街道', '********', '上城区********'],
    ['浙江省杭州市建德市', '杭州市紫金港东区5幢', '浙江省杭州市建德市********', '********'],
    ['新疆维吾尔自治区乌鲁木齐市天山区', '浙江省杭州市淳安县千岛湖镇', '新疆维吾尔自治区乌鲁木齐市天山区********', '浙江省杭州市淳安县********'],
  ])('a child’s 户籍地 %s and address %s, read masked by education and justice', async (household, current, householdShown, currentShown) => {
    const child = await twin(yearsBefore(new Date(Date.now() - 3 * DAY), 10), nextSeq());
    await t.sql(`UPDATE registry.minor SET household_registration = $2, current_address = $3 WHERE id = $1`, [child.id, household, current]);
    for (const d of [Department.EDUCATION, Department.JUSTICE]) {
      const r = await t.gql(await t.token(d), `query($id: ID!) { minor(id: $id) { householdRegistration currentAddress } }`, { id: child.id });
      expect(r.errors).toBeUndefined();
      expect(r.data.minor).toEqual({ householdRegistration: householdShown, currentAddress: currentShown });
    }
  });

  // README, Filter side channel: "Lists that are not filters keep their meaning when empty: `minorCounts(by: [])`
  // (the default) counts by region alone, `auditVerify(anchors: [])` checks the chain against no anchor."
  it('minorCounts(by: []) answers as minorCounts with no `by`: by region alone', async () => {
    const q = (by: string) => `{ minorCounts(level: STREET${by}) { dimensions cells { regionCode riskLevel category ageBand gender count { value } } total { value } } }`;
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD });
    for (const token of [civil, dash]) {
      const none = await t.gql(token, q(''));
      const empty = await t.gql(token, q(', by: []'));
      expect(none.errors).toBeUndefined();
      expect(empty).toEqual(none);
      expect(none.data.minorCounts.cells.length).toBeGreaterThan(0);
    }
  });

  it('auditVerify(anchors: []) checks the chain against no anchor, as auditVerify with none', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102' });
    const empty = await t.gql(auditor, `{ auditVerify(anchors: []) { ok anchorsChecked firstBreak { seq } } }`);
    expect(empty.errors).toBeUndefined();
    expect(empty.data.auditVerify).toEqual({ ok: true, anchorsChecked: 0, firstBreak: null });
  });
});
