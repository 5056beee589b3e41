import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;

/**
 * Red-team probes of history lists' `after` (history-page.ts), through the public endpoint: per
 * child cursors across root fields and aliases answered each its own page, the fast path and the
 * planned gateway alike (data, refusals, audit), a caller denied the list refused alike whatever
 * the cursor, in the same statements, and a page after a cursor audited as the first page.
 */
describe('history pages (`after`): probes', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const STREET = '330102001';
  const ids = (rows: { id: string }[] | null) => (rows ?? []).map((r) => r.id);
  const column = async (text: string, params: unknown[]) => ids(await t.sql(text, params));

  let kids: string[];
  const newest: Record<string, string[]> = {};
  beforeAll(async () => {
    kids = await column(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id DESC LIMIT 3`, [`${STREET}%`]);
    for (const [i, kid] of kids.entries()) {
      await t.sql(
        `INSERT INTO registry.visit (id, minor_id, visited_at, visitor, notes)
         SELECT gen_random_uuid(), $1, date_trunc('day', now()) - make_interval(days => 7 * (k / 3)), 'v', 'n' FROM generate_series(1, $2::int) k`,
        [kid, 30 + i * 17],
      );
      newest[kid] = await column(`SELECT id FROM registry.visit WHERE minor_id = $1 ORDER BY visited_at DESC, id`, [kid]);
    }
  });

  it('many children, many aliases, per child cursors: each alias its own page', async () => {
    const civil = await t.token(CA);
    const specs = [
      { a: 'p0', first: 5, at: null },
      { a: 'p1', first: 3, at: 2 },
      { a: 'p2', first: 7, at: 4 },
      { a: 'p3', first: 1, at: 0 },
      { a: 'p4', first: 100, at: 10 },
      { a: 'p5', first: 3, at: 2 },
      { a: 'p6', first: 4, at: -1 },
    ];
    const parts = kids.map((kid, k) => {
      const lists = specs.map((s) => {
        const after = s.at === null ? '' : `, after: "${s.at < 0 ? newest[kid][newest[kid].length - 1] : newest[kid][s.at]}"`;
        return `${s.a}: visits(first: ${s.first}${after}) { id }`;
      });
      return `m${k}: minor(id: "${kid}") { id ${lists.join(' ')} }`;
    });
    for (const extra of ['', 'statisticsScope { level }']) {
      const r = await t.gql(civil, `{ ${parts.join(' ')} ${extra} }`);
      expect(r.errors).toBeUndefined();
      kids.forEach((kid, k) => {
        for (const s of specs) {
          const start = s.at === null ? 0 : s.at < 0 ? newest[kid].length : s.at + 1;
          expect([kid, s.a, ids(r.data[`m${k}`][s.a])]).toEqual([kid, s.a, newest[kid].slice(start, start + s.first)]);
        }
      });
    }
  });

  it('fast path and planned answer a refusal alike, with the same audit', async () => {
    const civil = await t.token(CA);
    const q = (extra: string) => `query($id: ID!, $a: ID, $b: ID) { minor(id: $id) { id x: visits(first: 2, after: $a) { id visitor } y: visits(first: 2, after: $b) { id } assessments(after: $b) { id } } ${extra} }`;
    const vars = { id: kids[0], a: newest[kids[0]][3], b: newest[kids[1]][0] };
    const a = await post(t, civil, { query: q(''), variables: vars });
    const b = await post(t, civil, { query: q('statisticsScope { level }'), variables: vars });
    expect(a.json.data.minor).toEqual(b.json.data.minor);
    const errs = (e: any[] = []) => e.map((x) => [x.message, x.path, x.extensions]);
    expect(errs(a.json.errors)).toEqual(errs(b.json.errors));
    const ea = await eventOf(t, a.requestId);
    const eb = await eventOf(t, b.requestId);
    expect(ea.reads).toEqual(eb.reads);
  });

  it('department records: ED by id, police by date, planned across subgraphs with aliases', async () => {
    const [child] = await column(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id LIMIT 1`, [`${STREET}%`]);
    await t.sql(
      `INSERT INTO police.identity_verification (id, minor_id, verified_on, result, household_status, household_place)
       SELECT gen_random_uuid(), $1, current_date - (k % 4), 'MATCHED', 'REGISTERED', '浙江省杭州市上城区清波街道' FROM generate_series(1, 23) k`,
      [child],
    );
    const byDate = await column(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY verified_on DESC, id`, [child]);
    const byId = await column(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY id`, [child]);
    for (const [dept, order] of [[PO, byDate], [ED, byId]] as const) {
      const token = await t.token(dept);
      const r = await t.gql(token, `{ minor(id: "${child}") { a: identityVerifications(first: 4) { id } b: identityVerifications(first: 4, after: "${order[3]}") { id } c: identityVerifications(first: 30, after: "${order[7]}") { id } d: identityVerifications(first: 2, after: "${order[22]}") { id } } }`);
      expect(r.errors).toBeUndefined();
      expect([ids(r.data.minor.a), ids(r.data.minor.b), ids(r.data.minor.c), ids(r.data.minor.d)]).toEqual([order.slice(0, 4), order.slice(4, 8), order.slice(8), []]);
    }
  });

  it('a caller denied the list is refused alike whatever the cursor; statements alike for refused and accepted cursors', async () => {
    const ed = await t.token(ED);
    const kid = kids[0];
    const ask = (token: string, after: string) => post(t, token, { query: `query($id: ID!, $a: ID) { minor(id: $id) { id visits(after: $a) { id } } }`, variables: { id: kid, a: after } });
    const shape = (r: any) => [r.json.data, r.json.errors.map((e: any) => [e.message, e.path, e.extensions])];
    const a = await ask(ed, newest[kid][2]);
    const b = await ask(ed, '00000000-0000-0000-0000-000000000009');
    expect(shape(a)).toEqual(shape(b));
    expect((await eventOf(t, a.requestId)).reads).toEqual((await eventOf(t, b.requestId)).reads);
    const civil = await t.token(CA);
    const count = async (after: string) => {
      const before = t.hub.db.statements.count;
      await ask(civil, after);
      return t.hub.db.statements.count - before;
    };
    await count(newest[kid][2]); // warm-up
    const n = [await count(newest[kid][2]), await count(newest[kids[1]][2]), await count('00000000-0000-0000-0000-000000000009')];
    expect(new Set(n).size).toBe(1);
  });

  it('a page after a cursor of a department list audits as the first page does', async () => {
    const police = await t.token(PO);
    const [child] = await column(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id DESC LIMIT 1`, [`${STREET}%`]);
    await t.sql(
      `INSERT INTO police.identity_verification (id, minor_id, verified_on, result, household_status, household_place)
       SELECT gen_random_uuid(), $1, current_date - k, 'MATCHED', 'REGISTERED', '浙江省杭州市上城区清波街道' FROM generate_series(1, 8) k`,
      [child],
    );
    const order = await column(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY verified_on DESC, id`, [child]);
    const q = (after: string | null) => post(t, police, { query: `query($id: ID!, $a: ID) { minor(id: $id) { identityVerifications(first: 2, after: $a) { id result } } }`, variables: { id: child, a: after } });
    const first = await q(null);
    const next = await q(order[1]);
    const last = await q(order[order.length - 1]);
    expect(ids(next.json.data.minor.identityVerifications)).toEqual(order.slice(2, 4));
    expect(ids(last.json.data.minor.identityVerifications)).toEqual([]);
    const r1 = (await eventOf(t, first.requestId)).reads;
    const r2 = (await eventOf(t, next.requestId)).reads;
    const r3 = (await eventOf(t, last.requestId)).reads;
    // The last row as cursor: an empty page, the child's list read and nothing of its rows.
    expect(r3).toEqual([{ minorId: child, fields: { 'Minor.id': 'ALLOW', 'Minor.identityVerifications': 'ALLOW' } }]);
    expect(r2).toEqual(r1);
  });
});
