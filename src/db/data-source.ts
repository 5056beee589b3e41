import { DataSource } from 'typeorm';
import { SUBGRAPHS } from '../subgraphs';
import { StatementCounter } from './statement-counter';
import { boundedPoolOptions, ReplyBoundClient } from './time-limits';

function dataSource(url: string, statements: StatementCounter, extra: Record<string, unknown>): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: SUBGRAPHS.flatMap((s) => s.entities),
    migrations: SUBGRAPHS.flatMap((s) => s.migrations),
    migrationsTableName: 'hub_migrations',
    synchronize: false,
    logging: ['query'],
    logger: statements,
    extra,
  });
}

/**
 * Every slice's tables, each slice's in the Postgres schema named after it, with no time limit on
 * the database: migrations (run here, never `synchronize`), seeding and the statistics refresh
 * legitimately run for minutes at city scale. Not for requests (openRequestDataSource).
 */
export async function openDataSource(url: string, statements = new StatementCounter(), max = 20): Promise<DataSource> {
  const ds = dataSource(url, statements, { max });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

/**
 * The pool every in-process subgraph answers requests from, each wait on the database bounded by
 * `timeoutMs` (boundedPoolOptions): a table someone holds locked, or a server that stops
 * answering, fails the requests that need it (DATABASE_UNAVAILABLE) instead of holding its
 * connections until none is left for anyone. Opened on a migrated database.
 */
export async function openRequestDataSource(url: string, timeoutMs: number, statements: StatementCounter): Promise<DataSource> {
  const ds = dataSource(url, statements, { max: 20, Client: ReplyBoundClient, ...boundedPoolOptions(timeoutMs) });
  await ds.initialize();
  return ds;
}
