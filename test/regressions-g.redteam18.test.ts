import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const CA = Department.CIVIL_AFFAIRS;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; redteam18' };

type TypeRef = { kind: string; name: string | null; ofType?: TypeRef | null };
type FieldDef = { name: string; args: { name: string; defaultValue: string | null; type: TypeRef }[]; type: TypeRef };
type FullType = { name: string; kind: string; fields: FieldDef[] | null };
const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);

/** Regression review of a group of recent fixes (redteam18, reviewer g/01). */
describe('regressions of recent fixes (redteam18 g01)', () => {
  let t: TestHub;
  let civil: string;
  let auditor: string;
  let types: Map<string, FullType>;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { user: 'rt18-civil' });
    auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt18-auditor' });
    const intro = await t.gql(
      civil,
      `{ __schema { types { name kind fields { name args { name defaultValue type { kind name ofType { kind name ofType { kind name } } } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`,
      {},
      {},
    );
    expect(intro.errors).toBeUndefined();
    types = new Map((intro.data.__schema.types as FullType[]).map((ty) => [ty.name, ty]));
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** Every field of a type callable without arguments that must be given, scalars as they are, objects with their scalars (one level). */
  function selectionOf(typeName: string, depth: number): string {
    const ty = types.get(typeName)!;
    const parts: string[] = [];
    for (const f of ty.fields ?? []) {
      if (f.name.startsWith('__')) continue;
      if (f.args.some((a) => a.type.kind === 'NON_NULL' && a.defaultValue === null)) continue;
      const inner = named(f.type);
      const kind = types.get(inner.name!)!.kind;
      if (kind === 'SCALAR' || kind === 'ENUM') parts.push(f.name);
      else if (kind === 'OBJECT' && depth > 0 && !/^Minor(Stub)?$/.test(inner.name!)) {
        const sub = selectionOf(inner.name!, depth - 1);
        if (sub) parts.push(`${f.name} { ${sub} }`);
      }
    }
    return parts.join(' ');
  }

  describe('minorAccessHistory: an unpaged list past UNPAGED_LIST_LIMIT, and aliases of it, past the cost limit (siblings of c2f96fe / 9144476 / a7dba60)', () => {
    const N = 60;
    let child: { id: string };
    beforeAll(async () => {
      [child] = await t.sql(
        `SELECT m.id FROM registry.minor m WHERE EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id)
            AND EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id)
            AND EXISTS (SELECT 1 FROM registry.risk_assessment a WHERE a.minor_id = m.id)
            AND EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id)
          ORDER BY m.id LIMIT 1`,
      );
      // An officer (or a department system) reads the child's whole file N times: every field of the
      // child and of its records, some 76 fields of this demo child in each event.
      const READ = `query Whole($id: ID!) { minor(id: $id) { ${selectionOf('Minor', 2)} } }`;
      for (let i = 0; i < N; i++) expect((await post(t, civil, { query: READ, variables: { id: child.id } }, PURPOSE)).status).toBe(200);
      await t.hub.audit.drain();
    });

    it('a history entry answers every field its event read of the child, more than the 50 of a list the domain keeps short', async () => {
      const one = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id, first: ${N}) { seq fields { field access } } }`, { id: child.id }, {});
      expect(one.errors).toBeUndefined();
      const entries = one.data.minorAccessHistory.filter((e: { fields: unknown[] }) => e.fields.length > 50);
      expect(entries.length).toBe(N);
    });

    it('aliases of a history entry’s `fields` are refused before anything is read: each field of the trail’s answers once', async () => {
      const aliases = Array.from({ length: 80 }, (_, i) => `f${i}: fields { field access }`).join(' ');
      const res = await post(t, auditor, { query: `query($id: ID!) { minorAccessHistory(minorId: $id, first: ${N}) { seq ${aliases} } }`, variables: { id: child.id } }, {});
      expect([res.json.data, res.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([{ minorAccessHistory: null }, ['LIMIT_EXCEEDED']]);
    });
  });

  describe('a user id is one only within its department (sibling of 888ee5f)', () => {
    it('barredPersons tells who listed each bar by department and region, as it tells who revoked it', async () => {
      const police = await t.token(Department.POLICE, { user: 'keeper-same-sub', region: '330102' });
      const justice = await t.token(Department.JUSTICE, { user: 'keeper-same-sub', region: '330102001' });
      const ADD = `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id createdBy createdByDepartment createdByRegion } }`;
      const a = await t.gql(police, ADD, { i: { idNumber: buildIdNumber('330102', '1979-04-05', 411), name: '王某', offence: 'ABUSE', judgementReference: '(2026)浙0102刑初4101号' } });
      const b = await t.gql(justice, ADD, { i: { idNumber: buildIdNumber('330102', '1979-04-06', 413), name: '李某', offence: 'ABUSE', judgementReference: '(2026)浙0102刑初4102号' } });
      expect([a.errors, b.errors]).toEqual([undefined, undefined]);
      const list = await t.gql(police, `{ barredPersons(first: 500) { id createdBy createdByDepartment createdByRegion } }`);
      expect(list.errors).toBeUndefined();
      const byId = new Map((list.data.barredPersons as { id: string }[]).map((p) => [p.id, p]));
      expect([byId.get(a.data.addBarredPerson.id), byId.get(b.data.addBarredPerson.id)]).toEqual([
        { id: a.data.addBarredPerson.id, createdBy: 'keeper-same-sub', createdByDepartment: 'POLICE', createdByRegion: '330102' },
        { id: b.data.addBarredPerson.id, createdBy: 'keeper-same-sub', createdByDepartment: 'JUSTICE', createdByRegion: '330102001' },
      ]);
    });
  });

  describe('auditAnomalies: a list without paging, one anomaly per person flagged', () => {
    it('answers every anomaly, and refuses aliases of an anomaly’s fields before anything is scanned', async () => {
      // Working hours that leave out the present hour in China, so that each read below is off hours.
      // (The hub's own configuration object, as clock-boundaries.redteam16 sets the workflow clock; restored below.)
      const chinaHour = (new Date().getUTCHours() + 8) % 24;
      const hours = t.config.audit.anomalies.workingHours;
      t.config.audit.anomalies.workingHours = chinaHour === 0 ? [1, 24] : [0, chinaHour];
      try {
        const [child] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
        const U = 12;
        for (let i = 0; i < U; i++) {
          const officer = await t.token(CA, { user: `rt18-officer-${i}` });
          expect((await post(t, officer, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: child.id } }, PURPOSE)).status).toBe(200);
        }
        await t.hub.audit.drain();
        const all = await t.gql(auditor, `{ auditAnomalies { kind userId description } }`, undefined, {});
        expect(all.errors).toBeUndefined();
        const flagged = new Set(all.data.auditAnomalies.filter((a: { kind: string }) => a.kind === 'OFF_HOURS').map((a: { userId: string }) => a.userId));
        for (let i = 0; i < U; i++) expect(flagged.has(`rt18-officer-${i}`)).toBe(true);
        const aliases = Array.from({ length: 1600 }, (_, i) => `d${i}: description`).join(' ');
        const res = await post(t, auditor, { query: `{ auditAnomalies { kind userId ${aliases} } }` }, {});
        expect([res.json.data, res.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([{ auditAnomalies: null }, ['LIMIT_EXCEEDED']]);
      } finally {
        t.config.audit.anomalies.workingHours = hours;
      }
    });
  });

  describe('categories in the order of their masked names (sibling of 8a84e35)', () => {
    it('two sensitive categories, both shown NEEDS_SUPPORT, are listed in an order that does not depend on which is which', async () => {
      const kids = await t.sql(
        `SELECT m.id FROM registry.minor m WHERE m.birth_date < '2020-01-01' AND m.grid_code LIKE '330102%'
            AND NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category IN ('CRIME_VICTIM', 'DOMESTIC_VIOLENCE', 'INCARCERATED_PARENT'))
          ORDER BY m.id DESC LIMIT 2`,
      );
      const ADD = `mutation($id: ID!, $c: DifficultyCategory!, $at: String) { addCategory(minorId: $id, category: $c, identifiedAt: $at) { id } }`;
      // The same two dates; the crime-victim category the earlier for one child, the later for the other.
      for (const [child, victimOn, parentOn] of [[kids[0].id, '2024-05-01', '2023-05-01'], [kids[1].id, '2023-05-01', '2024-05-01']]) {
        expect((await t.gql(civil, ADD, { id: child, c: 'CRIME_VICTIM', at: victimOn })).errors).toBeUndefined();
        expect((await t.gql(civil, ADD, { id: child, c: 'INCARCERATED_PARENT', at: parentOn })).errors).toBeUndefined();
      }
      const school = await t.token(Department.EDUCATION, { user: 'rt18-school' });
      const shown = async (id: string) => {
        const r = await t.gql(school, `query($id: ID!) { minor(id: $id) { categories { category identifiedAt } } }`, { id });
        expect(r.errors).toBeUndefined();
        return (r.data.minor.categories as { category: string; identifiedAt: string }[]).filter((c) => c.category === 'NEEDS_SUPPORT').map((c) => c.identifiedAt);
      };
      const [first, second] = [await shown(kids[0].id), await shown(kids[1].id)];
      // The masked reader sees two NEEDS_SUPPORT entries on the same two dates for each child: their
      // order must not tell which date is the alphabetically first hidden category (CRIME_VICTIM before INCARCERATED_PARENT).
      expect(first).toEqual(second);
    });
  });

  describe('auditEvents: aliases of an event’s document multiply the page’s bytes (sibling of c2f96fe and of the once-per-request fix)', () => {
    it('a page of the trail answers its 8 MiB of bodies once, not once per alias of `document`', async () => {
      // Any officer can make an event's stored document large: literals are blanked, names are not.
      const officer = await t.token(CA, { user: 'rt18-big-document' });
      const name = (i: number) => `a${i}_${'x'.repeat(560)}`;
      const big = `{ ${Array.from({ length: 100 }, (_, i) => `${name(i)}: __typename`).join(' ')} }`;
      for (let i = 0; i < 3; i++) {
        const r = await post(t, officer, { query: big }, {});
        expect([r.status, r.json?.errors]).toEqual([200, undefined]);
      }
      await t.hub.audit.drain();
      const aliases = Array.from({ length: 200 }, (_, i) => `d${i}: document`).join(' ');
      const res = await post(t, auditor, { query: `{ auditEvents(filter: { userId: "rt18-big-document" }, first: 3) { edges { node { seq ${aliases} } } } }` }, {});
      expect([res.json.data, res.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([{ auditEvents: null }, ['LIMIT_EXCEEDED']]);
      // Once each: the page's bodies, every one whole.
      const once = await t.gql(auditor, `{ auditEvents(filter: { userId: "rt18-big-document" }, first: 3) { edges { node { seq document } } } }`, undefined, {});
      expect(once.errors).toBeUndefined();
      const lengths = once.data.auditEvents.edges.map((e: { node: { document: string } }) => e.node.document.length);
      expect([lengths.length, Math.min(...lengths) > 50_000]).toEqual([3, true]);
    });
  });
});
