import type { DataSource } from 'typeorm';
import { startAnchoring } from '../audit/audit.anchor';
import type { AuditSink } from '../audit/audit.writer';
import type { HubConfig } from '../config/hub.config';
import { openDataSource, openRequestDataSource } from '../db/data-source';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { StatementCounter } from '../db/statement-counter';
import { Policy } from '../policy/policy';
import type { SliceRuntime, SubgraphSlice } from '../schema/subgraph.types';
import { SUBGRAPHS } from '../subgraphs';

export interface Database {
  url: string;
  /** Requests' pool: every wait bounded by `statementTimeoutMs`. */
  ds: DataSource;
  /** A small pool without time limits, for work that legitimately runs long (the statistics refresh). */
  maintenance: DataSource;
  statements: StatementCounter;
  close(): Promise<void>;
}

/**
 * The database of a serving process as its listener closes it once the last request is answered:
 * the audit writer's queue (events of answers that did not wait for them, such as refusals outside
 * GraphQL), the slices' background work (a job may still write and audit; the chain's head is
 * anchored last), the queue again, then `closeAll` (the audit pool and the database). `background`
 * is read when closing: the slices start after the listener.
 */
export function closedInOrder(db: Database, writer: AuditSink, closeAll: () => Promise<void>, background: () => { stop(): Promise<void> } | undefined): Database {
  return {
    ...db,
    close: async () => {
      await writer.drain();
      await background()?.stop();
      await writer.drain();
      await closeAll();
    },
  };
}

/**
 * `DATABASE_URL`, or an embedded Postgres under the data directory; migrated and, if empty, seeded
 * — both on the pool without time limits, one process at a time, before the requests' pool is opened.
 */
export async function openDatabase(config: HubConfig, log: (m: string) => void = () => undefined): Promise<Database> {
  let embedded: { url: string; stop(): Promise<void> } | undefined;
  if (!config.databaseUrl) {
    log(`Starting embedded Postgres in ${config.dataDir}/pg (port ${config.embeddedPgPort}) …`);
    embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort);
  }
  const statements = new StatementCounter();
  const url = config.databaseUrl ?? embedded!.url;
  let maintenance: DataSource | undefined;
  try {
    // Seeded under the migrations' lock: two processes starting on an empty registry would both seed it.
    maintenance = await openDataSource(url, new StatementCounter(), 2, async (ds) => {
      if (config.seedDemo) await seedDemo(ds, new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z'));
    });
    const ds = await openRequestDataSource(url, config.statementTimeoutMs, statements);
    return {
      url,
      ds,
      maintenance,
      statements,
      close: async () => {
        await ds.destroy();
        await maintenance!.destroy();
        await embedded?.stop();
      },
    };
  } catch (e) {
    await maintenance?.destroy();
    await embedded?.stop();
    throw e;
  }
}

/**
 * Every slice's demo seed in one transaction, into an empty registry only. In separate commits a
 * start killed or failing half-way (the regions written, no child yet) left a registry every later
 * start took as seeded. A department's demo seed attaches made-up records (incidents, sentences,
 * reports) to every child the registry holds: on a registry the demo did not fill — a pilot's, or a
 * hub's run without NODE_ENV=production — it wrote them onto real children, unaudited, for each
 * department whose tables were still empty. The statistics refresh (afterSeedDemo) takes a
 * transaction and lock of its own, and must see the seeded rows: it runs after the commit.
 */
export async function seedDemo(ds: DataSource, anchor: Date): Promise<void> {
  const seeded = await ds.transaction(async (em) => {
    const [{ empty }] = await em.query(`SELECT NOT EXISTS (SELECT 1 FROM registry.region) AS empty`);
    if (!empty) return false;
    const policy = buildPolicy();
    for (const slice of SUBGRAPHS) await slice.seedDemo?.(em, anchor, policy);
    return true;
  });
  // Only after seeding: every start of a demo process (each `npm run subgraph`) had refreshed the
  // statistics again under the migrations' lock, about 30 s each at city scale.
  if (seeded) for (const slice of SUBGRAPHS) await slice.afterSeedDemo?.(ds);
}

export const buildPolicy = () => new Policy(SUBGRAPHS.flatMap((s) => s.policy));

/**
 * Starts the slices' background work and the anchoring of the audit chain this process appends to
 * (audit.anchor.ts); `stop` ends all of it, waiting for what is running — one slice after another,
 * the last started first, the anchoring last: the workflow's webhook deliveries append to the chain,
 * whose head is anchored as it stops, so they must be done by then.
 */
export function startSlices(slices: readonly SubgraphSlice[], runtime: SliceRuntime): { stop(): Promise<void> } {
  const started = slices.flatMap((s) => (s.start ? [s.start(runtime)] : []));
  const anchoring = startAnchoring(runtime.ds, runtime.config.audit.anchorSeconds, () => runtime.audit.written());
  return {
    stop: async () => {
      for (const s of [...started].reverse()) await s.stop();
      await anchoring.stop();
    },
  };
}
