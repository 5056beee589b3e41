import type { EntityManager } from 'typeorm';
import { addDays, ageOn, chinaDay } from '../../common/dates';
import { Rng } from '../../common/rng';

/** What a department's demo seed needs to know of a registry child to make its records fit. */
export interface SeedChild {
  id: string;
  gridCode: string;
  /** `YYYY-MM-DD`. */
  birthDate: string;
  age: number;
  riskLevel: string | null;
  school: string | null;
  categories: Set<string>;
  /** `RELATIONSHIP:SITUATION` of each guardian, e.g. `FATHER:SERVING_SENTENCE`. */
  guardians: string[];
}

/** Every registry child, ordered by id so that a seeded generator gives the same records each time. */
export async function seedChildren(em: EntityManager, anchor: Date): Promise<SeedChild[]> {
  const rows: { id: string; grid_code: string; birth_date: string; school: string | null; risk_level: string | null; categories: string[]; guardians: string[] }[] = await em.query(`
    SELECT m.id, m.grid_code, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date, m.school, m.risk_level,
           ARRAY(SELECT c.category FROM registry.minor_category c WHERE c.minor_id = m.id ORDER BY c.category) AS categories,
           ARRAY(SELECT g.relationship || ':' || g.situation FROM registry.guardian g WHERE g.minor_id = m.id ORDER BY g.id) AS guardians
    FROM registry.minor m ORDER BY m.id`);
  return rows.map((r) => ({
    id: r.id,
    gridCode: r.grid_code,
    birthDate: r.birth_date,
    age: ageOn(r.birth_date, anchor),
    riskLevel: r.risk_level,
    school: r.school,
    categories: new Set(r.categories),
    guardians: r.guardians,
  }));
}

export type Columns = readonly (readonly [name: string, pgType: string])[];

export interface RecordTable {
  /** Schema-qualified. */
  name: string;
  columns: Columns;
}

/**
 * A slice's records of one child, derived from the child's registry facts. The demo seed and
 * `npm run seed:scale` run the same generator, so city-scale data has the demo's shape.
 */
export interface ChildRecords {
  /** Of the slice's own Rng: the same children in the same order give the same records. */
  seed: number;
  /** Parents before children: the order rows are loaded in. */
  tables: readonly RecordTable[];
  generate(child: SeedChild, rng: Rng, anchor: Date, emit: (table: string, row: unknown[]) => void): void;
}

/** A slice's records for every registry child, one insert per table. */
export async function seedRecords(em: EntityManager, anchor: Date, records: ChildRecords): Promise<void> {
  const rng = new Rng(records.seed);
  const rows = new Map(records.tables.map((t) => [t.name, [] as unknown[][]]));
  for (const child of await seedChildren(em, anchor)) records.generate(child, rng, anchor, (table, row) => rows.get(table)!.push(row));
  for (const table of records.tables) await insertRows(em, table.name, table.columns, rows.get(table.name)!);
}

/** Bulk insert in one statement per table (unnest of one array per column); the registry seed's too. */
export async function insertRows(em: EntityManager, table: string, columns: Columns, rows: unknown[][]): Promise<void> {
  if (!rows.length) return;
  const unnest = columns.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  await em.query(
    `INSERT INTO ${table} (${columns.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${unnest})`,
    columns.map((_, i) => rows.map((r) => r[i])),
  );
}

/** A slice seeds only while every one of its tables is empty (never over real records). */
export async function seedRecordsIfEmpty(em: EntityManager, anchor: Date, records: ChildRecords): Promise<void> {
  const [{ any }] = await em.query(`SELECT ${records.tables.map((t) => `EXISTS (SELECT 1 FROM ${t.name})`).join(' OR ')} AS any`);
  if (!any) await seedRecords(em, anchor, records);
}

/** A day `from`..`to` days before the anchor, as YYYY-MM-DD. */
export const daysAgo = (anchor: Date, days: number) => chinaDay(addDays(anchor, -days));

/**
 * `days` back from `anchor`, or as far back as the child's birth day when that is nearer: no record of
 * a child is dated before it was born. Taken after the draw, so that every later draw stays the same.
 */
export const sinceBirth = (child: SeedChild, anchor: Date, days: number): number =>
  Math.min(days, Math.round((Date.parse(chinaDay(anchor)) - Date.parse(child.birthDate)) / 86_400_000));
