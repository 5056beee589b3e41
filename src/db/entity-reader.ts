import type { Pool } from 'pg';
import type { DataSource, ObjectLiteral } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** Column types whose driver value is already what TypeORM would hand out. */
const AS_IS = new Set(['uuid', 'text', 'varchar', 'char', 'timestamptz', 'integer', 'int', 'smallint', 'boolean', 'jsonb']);
/** pg parses `date` into a local-time Date; TypeORM hands out 'YYYY-MM-DD', and so do we. */
const AS_TEXT = new Set(['date']);

/**
 * Reads an entity's rows with plain SQL, mapped to the same property names, values and class as
 * TypeORM's entities. For the hot read paths (look-ups, pages and their relations): TypeORM's
 * query builder and hydration cost more CPU than Postgres spends answering them (bench/RESULTS.md).
 * Column types it does not know how to map are refused when the reader is built, so a new
 * column cannot silently come back in another shape.
 */
export class EntityReader<T extends ObjectLiteral> {
  private readonly columns: string;
  private readonly from: string;
  private readonly alias: string;
  /** Rows are instances of the entity, as TypeORM's are: a department record's `minor` is a getter of its class. */
  private readonly proto: object;

  constructor(ds: DataSource, entity: new () => T, alias: string) {
    const meta = ds.getMetadata(entity);
    const columns = meta.columns.map((c) => {
      const type = String(c.type);
      if (!AS_IS.has(type) && !AS_TEXT.has(type)) throw new Error(`EntityReader: ${meta.name}.${c.propertyName} has column type ${type}, which it does not map`);
      return `${alias}.${c.databaseName}${AS_TEXT.has(type) ? '::text' : ''} AS "${c.propertyName}"`;
    });
    this.columns = columns.join(', ');
    this.from = ` FROM ${meta.tablePath} ${alias} `;
    this.alias = alias;
    this.proto = entity.prototype;
  }

  /**
   * `rest` continues the statement after `FROM table alias` (WHERE, ORDER BY, LIMIT …).
   * `byKeys`: the statement selects rows by keys (`column = ANY($1)` on an indexed column), so one
   * plan serves every value: it is prepared once per connection instead of parsed and planned on
   * each call — planning a primary-key look-up costs Postgres several times its execution.
   * One key is sent as `column = $1`: Postgres estimates `= ANY($1)` at ten keys, so it never
   * settles on a generic plan for it and plans it again at every execution (~50 µs against ~10 µs
   * for the look-up), while it keeps a generic plan of `= $1` after five executions.
   * Statements whose best plan depends on their values (prefix patterns, pages) are planned with them.
   * `from`: a subquery read in place of the table, holding its columns under the same names (the
   * newest rows of each key, ranked by a window function).
   */
  async read(db: DataSource, rest: string, params: unknown[], opts: { distinctOn?: string; byKeys?: boolean; from?: string } = {}): Promise<T[]> {
    const from = opts.from ? ` FROM (${opts.from}) ${this.alias} ` : this.from;
    const text = `SELECT ${opts.distinctOn ? `DISTINCT ON (${opts.distinctOn}) ` : ''}${this.columns}${from}${rest}`;
    const rows: T[] = opts.byKeys ? await queryByKeys(db, text, params) : await db.query(text, params);
    for (const row of rows) Object.setPrototypeOf(row, this.proto);
    return rows;
  }
}

const ANY_KEYS = '= ANY($1)';

/**
 * A statement selecting rows by keys, its first parameter the array of keys (`column = ANY($1)`
 * on an indexed column): prepared once per connection, and sent as `column = $1` for one key —
 * see `EntityReader.read`.
 */
export async function queryByKeys<R>(db: DataSource, text: string, params: unknown[]): Promise<R[]> {
  const [keys, ...others] = params;
  if (Array.isArray(keys) && keys.length === 1 && text.includes(ANY_KEYS)) {
    text = text.replace(ANY_KEYS, '= $1');
    params = [keys[0], ...others];
  }
  db.logger.logQuery(text, params); // counted and logged like the statements TypeORM sends
  const pool = (db.driver as PostgresDriver).master as Pool;
  return (await pool.query({ name: statementName(text), text, values: params })).rows;
}

// node-postgres prepares a named statement once per connection and refuses one name for two texts.
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) statementNames.set(text, (name = `entity-reader-${statementNames.size + 1}`));
  return name;
}

const readers = new WeakMap<object, Map<string, EntityReader<ObjectLiteral>>>();

/**
 * One reader per data source, entity and alias, built on first use. Kept by the data source's
 * driver: a subgraph server's request has a data source of its own over the same one
 * (request-deadline.ts), and would otherwise build its readers again.
 */
export function entityReader<T extends ObjectLiteral>(ds: DataSource, entity: new () => T, alias: string): EntityReader<T> {
  let byEntity = readers.get(ds.driver);
  if (!byEntity) readers.set(ds.driver, (byEntity = new Map()));
  const key = `${entity.name} ${alias}`;
  let reader = byEntity.get(key);
  if (!reader) byEntity.set(key, (reader = new EntityReader(ds, entity, alias)));
  return reader as EntityReader<T>;
}
