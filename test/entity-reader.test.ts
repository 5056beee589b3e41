import 'reflect-metadata';
import { DataSource, ObjectLiteral } from 'typeorm';
import { entityReader } from '../src/db/entity-reader';
import { StatementCounter } from '../src/db/statement-counter';
import { SUBGRAPHS } from '../src/subgraphs';
import { Minor } from '../src/subgraphs/registry/entities/minor.entity';
import { MandatoryReport } from '../src/subgraphs/workflow/entities/mandatory-report.entity';
import { Referral } from '../src/subgraphs/workflow/entities/referral.entity';
import { ReportTransition } from '../src/subgraphs/workflow/entities/report-transition.entity';
import { cloneTemplateDatabase } from './support/test-hub';

/** Reads by keys are prepared once per connection; everything else is planned with its values. */
describe('EntityReader', () => {
  let ds: DataSource;
  const statements = new StatementCounter();
  beforeAll(async () => {
    // One connection, so that pg_prepared_statements (per session) shows what the reads prepared.
    ds = new DataSource({
      type: 'postgres',
      url: await cloneTemplateDatabase(),
      entities: SUBGRAPHS.flatMap((s) => s.entities),
      logging: ['query'],
      logger: statements,
      extra: { max: 1 },
    });
    await ds.initialize();
  });
  afterAll(() => ds.destroy());

  const prepared = () => ds.query(`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'entity-reader-%'`);

  it('prepares a read by keys once and reuses it for other values, with the rows the planned path returns', async () => {
    const reader = entityReader(ds, Minor, 'x');
    const [a, b, c, d] = (await ds.query('SELECT id FROM registry.minor ORDER BY id LIMIT 4')) as { id: string }[];
    const before = statements.count;
    const first = await reader.read(ds, 'WHERE x.id = ANY($1) ORDER BY x.id', [[a.id, b.id]], { byKeys: true });
    const second = await reader.read(ds, 'WHERE x.id = ANY($1) ORDER BY x.id', [[c.id, d.id]], { byKeys: true });
    expect(statements.count - before).toBe(2); // counted like every other statement
    expect(first.map((m) => m.id)).toEqual([a.id, b.id]);
    expect(second).toEqual(await reader.read(ds, 'WHERE x.id = ANY($1) ORDER BY x.id', [[c.id, d.id]]));
    expect(second[0]).toMatchObject({ id: c.id, birthDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });

    const statementsPrepared = (await prepared()) as { statement: string }[];
    expect(statementsPrepared).toHaveLength(1);
    expect(statementsPrepared[0].statement).toContain('WHERE x.id = ANY($1)');
  });

  it('reads one key with `= $1`, which Postgres keeps a generic plan of instead of planning every execution', async () => {
    const reader = entityReader(ds, Minor, 'x');
    const ids = ((await ds.query('SELECT id FROM registry.minor ORDER BY id LIMIT 8')) as { id: string }[]).map((r) => r.id);
    for (const id of ids) {
      const rows = await reader.read(ds, 'WHERE x.id = ANY($1) AND x.grid_code LIKE $2', [[id], '3301%'], { byKeys: true });
      expect(rows).toEqual(await reader.read(ds, 'WHERE x.id = ANY($1) AND x.grid_code LIKE $2', [[id], '3301%']));
    }
    const [single] = await ds.query(`SELECT statement, generic_plans FROM pg_prepared_statements WHERE statement LIKE '%WHERE x.id = $1 AND x.grid_code LIKE $2'`);
    expect(Number(single.generic_plans)).toBeGreaterThan(0);
  });

  /** Up to five rows of each entity, read by keys and by TypeORM: the same objects, classes included. */
  async function readsAsTypeOrm(entities: (new () => ObjectLiteral)[]): Promise<void> {
    for (const entity of entities) {
      const expected = await ds.getRepository(entity).find({ order: { id: 'ASC' }, take: 5 });
      expect(expected.length).toBeGreaterThan(0); // the demo data has some of each
      const rows = await entityReader(ds, entity, 'r').read(ds, 'WHERE r.id = ANY($1) ORDER BY r.id', [expected.map((e) => e.id)], { byKeys: true });
      expect(rows).toStrictEqual(expected); // same properties, values and classes
      // A department record's `minor` is often a getter of its class: a plain row would have none.
      if (Object.getOwnPropertyDescriptor(entity.prototype, 'minor')?.get) expect(rows.map((r) => r.minor)).toEqual(expected.map((e) => ({ id: e.minorId })));
    }
  }

  // The department record loaders read every department's entities this way (shared/record-loaders.ts) …
  it.each(['education', 'police', 'justice', 'youth_league', 'womens_federation'])("reads %s's records as TypeORM loads them, as instances of their entities", (name) =>
    readsAsTypeOrm(SUBGRAPHS.find((s) => s.name === name)!.entities as (new () => ObjectLiteral)[]),
  );

  // … and the workflow's loaders a child's reports, their transitions and its referrals (workflow.loaders.ts).
  it("reads the workflow's reports, transitions and referrals as TypeORM loads them", async () => {
    // The demo data has reports and referrals but no transitions yet: one, as a verification records it.
    await ds.query(`INSERT INTO workflow.report_transition (id, report_id, minor_id, from_status, to_status, officer_id, department, note, at)
      SELECT gen_random_uuid(), id, minor_id, 'RECEIVED', 'VERIFYING', 'officer-1', 'POLICE', '已到场核实', now() FROM workflow.mandatory_report ORDER BY id LIMIT 1`);
    await readsAsTypeOrm([MandatoryReport, ReportTransition, Referral]);
  });

  it('does not prepare a read whose plan depends on its values', async () => {
    const before = ((await prepared()) as unknown[]).length;
    const rows = await entityReader(ds, Minor, 'x').read(ds, 'WHERE x.grid_code LIKE $1 ORDER BY x.id LIMIT 3', ['3301%']);
    expect(rows).toHaveLength(3);
    expect(await prepared()).toHaveLength(before);
  });
});
