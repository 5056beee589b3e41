import { DataSource } from 'typeorm';
import { SUBGRAPHS } from '../subgraphs';
import { StatementCounter } from './statement-counter';

/**
 * One pool for every in-process subgraph; each slice's tables live in the Postgres schema named
 * after it. Migrations run at start-up, never `synchronize`.
 */
export async function openDataSource(url: string, statements = new StatementCounter()): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url,
    entities: SUBGRAPHS.flatMap((s) => s.entities),
    migrations: SUBGRAPHS.flatMap((s) => s.migrations),
    migrationsTableName: 'hub_migrations',
    synchronize: false,
    logging: ['query'],
    logger: statements,
    extra: { max: 20 },
  });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}
