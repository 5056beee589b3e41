import { DataSource } from 'typeorm';
import { openDataSource } from '../src/db/data-source';
import { SUBGRAPHS } from '../src/subgraphs';
import { cloneTemplateDatabase } from './support/test-hub';

/** Every migration's down() really undoes its up(): all the way down, then all the way up again. */
describe('migrations', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = await openDataSource(await cloneTemplateDatabase());
  });
  afterAll(() => ds?.destroy());

  const schemas = async () =>
    (await ds.query(`SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname`, [SUBGRAPHS.map((s) => s.name)])).map((r: { nspname: string }) => r.nspname);

  it('undo every migration, leaving no schema behind, and apply them again', async () => {
    const all = SUBGRAPHS.flatMap((s) => s.migrations).length;
    expect(await schemas()).toEqual(SUBGRAPHS.map((s) => s.name).sort());
    for (let i = 0; i < all; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await ds.query(`SELECT count(*)::int AS n FROM hub_migrations`)).toEqual([{ n: 0 }]);
    expect(await schemas()).toEqual([]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    expect(applied).toHaveLength(all);
    expect(await schemas()).toEqual(SUBGRAPHS.map((s) => s.name).sort());
    expect(await ds.query(`SELECT count(*)::int AS n FROM registry.minor`)).toEqual([{ n: 0 }]);
  });
});
