import type { DataSource } from 'typeorm';
import { addDays, ageOn, toIsoDate } from '../../common/dates';

/** What a department's demo seed needs to know of a registry child to make its records fit. */
export interface SeedChild {
  id: string;
  age: number;
  school: string | null;
  categories: Set<string>;
  /** `RELATIONSHIP:SITUATION` of each guardian, e.g. `FATHER:SERVING_SENTENCE`. */
  guardians: string[];
}

/** Every registry child, ordered by id so that a seeded generator gives the same records each time. */
export async function seedChildren(ds: DataSource, anchor: Date): Promise<SeedChild[]> {
  const rows: { id: string; birth_date: string; school: string | null; categories: string[]; guardians: string[] }[] = await ds.query(`
    SELECT m.id, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date, m.school,
           ARRAY(SELECT c.category FROM registry.minor_category c WHERE c.minor_id = m.id ORDER BY c.category) AS categories,
           ARRAY(SELECT g.relationship || ':' || g.situation FROM registry.guardian g WHERE g.minor_id = m.id ORDER BY g.id) AS guardians
    FROM registry.minor m ORDER BY m.id`);
  return rows.map((r) => ({ id: r.id, age: ageOn(r.birth_date, anchor), school: r.school, categories: new Set(r.categories), guardians: r.guardians }));
}

export type Columns = readonly (readonly [name: string, pgType: string])[];

/** Bulk insert in one statement per table (unnest of one array per column), like the registry seed. */
export async function insertRows(ds: DataSource, table: string, columns: Columns, rows: unknown[][]): Promise<void> {
  if (!rows.length) return;
  const unnest = columns.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  await ds.query(
    `INSERT INTO ${table} (${columns.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${unnest})`,
    columns.map((_, i) => rows.map((r) => r[i])),
  );
}

/** A slice seeds only while every one of its tables is empty (never over real records). */
export async function tablesEmpty(ds: DataSource, tables: string[]): Promise<boolean> {
  const [{ any }] = await ds.query(`SELECT ${tables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ')} AS any`);
  return !any;
}

/** A day `from`..`to` days before the anchor, as YYYY-MM-DD. */
export const daysAgo = (anchor: Date, days: number) => toIsoDate(addDays(anchor, -days));
