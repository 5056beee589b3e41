import { randomUUID } from 'node:crypto';
import { Department } from '../../src/auth/principal';
import { chinaDay } from '../../src/common/dates';
import { eventOf, post } from './audit-helpers';
import { errorCodes, GqlResult, TestHub } from './test-hub';
import { expectAnsweredAsUnknown } from './unknown-id';

/**
 * The `n`-th child of `street` (a minor today) at least `years` old in China, counted from the end of
 * the ids: none of the children a test takes from the start of them. A record no younger child can
 * have (a dropout from 6, work from 16: record-ages.redteam43) is made for one.
 */
export const childAtLeast = async (t: TestHub, street: string, years: number, n: number): Promise<{ id: string; grid_code: string; id_number: string }> =>
  (
    await t.sql(
      `SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now())
         AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - make_interval(years => $3) ORDER BY id DESC OFFSET $2 LIMIT 1`,
      [`${street}%`, n, years],
    )
  )[0];

/**
 * Table-driven checks every department record type must pass: the owner creates and updates
 * (values read back from Postgres; the same update again is audited with no change), bad input is refused naming the field with nothing written,
 * other departments' writes are FORBIDDEN, and a child or record outside the caller's
 * jurisdiction is NOT_FOUND with nothing written, answered and looked up as an unknown id.
 */
export interface RecordSpec {
  owner: Department;
  /** GraphQL type, e.g. `DropoutReport`. */
  type: string;
  /** Postgres table, e.g. `education.dropout_report`. */
  table: string;
  create: string;
  /** Omitted for records that are only ever added (sub-records). */
  update?: string;
  /** Argument naming the parent: `minorId` for records about a child, else e.g. `reportId`. */
  parentArg?: string;
  /**
   * SQL selecting a parent id (column `id`) where `{{jurisdiction}}` is replaced by a condition on
   * the child's grid code (`m.grid_code`); defaults to a child.
   */
  parentSql?: string;
  input: Record<string, unknown>;
  updated?: Record<string, unknown>;
  /** Bad inputs: what, the overrides, the field the error must name. */
  invalid: [string, Record<string, unknown>, string][];
}

export const INSIDE_STREET = '330102001';
const camelToSnake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const count = async (t: TestHub, table: string) => (await t.sql(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

/** The stored row's values for these API fields (row_to_json gives dates as YYYY-MM-DD, numbers as numbers). */
async function stored(t: TestHub, spec: RecordSpec, id: string, fields: string[]): Promise<Record<string, unknown>> {
  const [{ row }] = await t.sql(`SELECT row_to_json(r) AS row FROM ${spec.table} r WHERE id = $1`, [id]);
  return Object.fromEntries(fields.map((f) => [f, row[camelToSnake(f)]]));
}
const given = (input: Record<string, unknown>) => Object.fromEntries(Object.entries(input).map(([k, v]) => [k, v ?? null]));

export function recordSuite(getHub: () => TestHub, spec: RecordSpec): void {
  const parentArg = spec.parentArg ?? 'minorId';
  const fields = Object.keys(spec.input);
  const selection = ['id', ...fields.filter((f) => f !== 'outcome')].join(' ');
  const createQ = `mutation($p: ID!, $i: ${spec.type}Input!) { ${spec.create}(${parentArg}: $p, input: $i) { ${selection} } }`;
  // A child old enough for every record dated within the year (work from 16, a dropout from 6, a community correction from 12).
  const parentSql =
    spec.parentSql ??
    `SELECT m.id FROM registry.minor m WHERE m.grid_code {{jurisdiction}} AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY m.id LIMIT 1`;
  const parent = async (t: TestHub, outside = false) => {
    const rows = await t.sql(parentSql.replace('{{jurisdiction}}', `${outside ? 'NOT ' : ''}LIKE '${INSIDE_STREET}%'`));
    if (!rows.length) throw new Error(`no parent for ${spec.type}`);
    return rows[0].id as string;
  };

  describe(`${spec.type}`, () => {
    it(`${spec.owner} creates${spec.update ? ' and updates' : ''} it; the values are stored`, async () => {
      const t = getHub();
      const token = await t.token(spec.owner);
      const c = await t.gql(token, createQ, { p: await parent(t), i: spec.input });
      expect(c.errors).toBeUndefined();
      const id = c.data[spec.create].id;
      const relevant = Object.fromEntries(Object.entries(spec.input).filter(([k]) => k !== 'outcome'));
      expect(await stored(t, spec, id, Object.keys(relevant))).toEqual(given(relevant));
      if (!spec.update) return;
      const updateQ = `mutation($id: ID!, $i: ${spec.type}Input!) { ${spec.update}(id: $id, input: $i) { ${selection} } }`;
      const u = await post(t, token, { query: updateQ, variables: { id, i: spec.updated } });
      expect(u.json.errors).toBeUndefined();
      expect(u.json.data[spec.update].id).toBe(id);
      expect(await stored(t, spec, id, Object.keys(spec.updated!))).toEqual(given(spec.updated!));
      expect((await eventOf(t, u.requestId)).changes).toEqual([expect.objectContaining({ mutation: spec.update, id })]);
      // The same values again change nothing: answered alike, the row as it was, and no change in the event.
      const row = async () => (await t.sql(`SELECT row_to_json(r) AS row FROM ${spec.table} r WHERE id = $1`, [id]))[0].row;
      const before = await row();
      const again = await post(t, token, { query: updateQ, variables: { id, i: spec.updated } });
      expect(again.json).toEqual(u.json);
      expect(await eventOf(t, again.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [] });
      expect(await row()).toEqual(before);
    });

    it.each(spec.invalid)('refuses %s with BAD_USER_INPUT naming the field, writing nothing', async (_what, over, field) => {
      const t = getHub();
      const before = await count(t, spec.table);
      const r = await t.gql(await t.token(spec.owner), createQ, { p: await parent(t), i: { ...spec.input, ...over } });
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions!.field).toBe(field);
      expect(await count(t, spec.table)).toBe(before);
    });

    it('refuses every other department’s write with FORBIDDEN, writing nothing', async () => {
      const t = getHub();
      const before = await count(t, spec.table);
      const p = await parent(t);
      for (const other of Object.values(Department).filter((d) => d !== spec.owner)) {
        const r = await t.gql(await t.token(other), createQ, { p, i: spec.input });
        expect(errorCodes(r)).toEqual(['FORBIDDEN']);
        expect(r.data?.[spec.create] ?? null).toBeNull();
      }
      expect(await count(t, spec.table)).toBe(before);
    });

    it('answers NOT_FOUND for a parent or record outside the caller’s jurisdiction, as for an unknown id and in the same statements, writing nothing', async () => {
      const t = getHub();
      const before = await count(t, spec.table);
      const street = await t.token(spec.owner, { region: INSIDE_STREET });
      const r = await expectAnsweredAsUnknown(t, street, createQ, { p: await parent(t, true), i: spec.input }, { p: randomUUID(), i: spec.input });
      expect(errorCodes(r.json as GqlResult)).toEqual(['NOT_FOUND']);
      expect(r.json.errors[0].message).not.toMatch(/jurisdiction|grid|SELECT/i);
      expect(await count(t, spec.table)).toBe(before);
      if (!spec.update) return;
      const [outside] = await t.sql(
        `SELECT r.id FROM ${spec.table} r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code NOT LIKE '${INSIDE_STREET}%' ORDER BY r.id LIMIT 1`,
      );
      const updateQ = `mutation($id: ID!, $i: ${spec.type}Input!) { ${spec.update}(id: $id, input: $i) { id } }`;
      const u = await expectAnsweredAsUnknown(t, street, updateQ, { id: outside.id, i: spec.updated }, { id: randomUUID(), i: spec.updated });
      expect(errorCodes(u.json as GqlResult)).toEqual(['NOT_FOUND']);
      const unchanged = await stored(t, spec, outside.id, Object.keys(spec.updated!));
      expect(unchanged).not.toEqual(given(spec.updated!));
    });
  });
}

/** Makes `op` on `table` fail in the database for the duration of `fn` (a write failing half-way). */
export async function withFailingTrigger(t: TestHub, table: string, op: 'INSERT' | 'UPDATE', fn: () => Promise<void>): Promise<void> {
  const [schema] = table.split('.');
  await t.sql(`CREATE FUNCTION ${schema}.fail_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom in ${table}'; END $$`);
  await t.sql(`CREATE TRIGGER fail_write BEFORE ${op} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.fail_write()`);
  const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await fn();
  } finally {
    log.mockRestore();
    await t.sql(`DROP TRIGGER fail_write ON ${table}`);
    await t.sql(`DROP FUNCTION ${schema}.fail_write()`);
  }
}

/** A masked INTERNAL_SERVER_ERROR: no SQL, no table names, no stack. */
export function expectMaskedFailure(r: { errors?: { extensions?: Record<string, any> }[] }): void {
  expect(errorCodes(r as never)).toEqual(['INTERNAL_SERVER_ERROR']);
  expect(JSON.stringify(r.errors)).not.toMatch(/boom|INSERT|UPDATE|SELECT|\.ts:/);
}

/** Days before today in China (the hub's calendar day) as YYYY-MM-DD. */
export const daysAgo = (n: number) => chinaDay(new Date(Date.now() - n * 86_400_000));
