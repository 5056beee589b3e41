import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

type Work = (em: EntityManager) => Promise<unknown>;

/**
 * Makes the hub's pool refuse a connection asked for from inside one of its own transactions'
 * callbacks (`ds.transaction(em => …)` reaching `ctx.db`, a request's loaders, `queryByKeys` …
 * instead of `em`). Such a transaction waits for a second connection while holding its first:
 * with as many of them at once as the pool has connections, none is ever given back and every
 * request of the hub hangs. A test sees it at once, as an internal error of that mutation, and
 * the hub's log names it, rather than only when a burst happens to fill the pool.
 */
export function refuseConnectionsInsideTransactions(ds: DataSource): void {
  const inTransaction = new AsyncLocalStorage<true>();
  const manager = ds.manager as unknown as { transaction: (isolationOrWork: string | Work, work?: Work) => Promise<unknown> };
  const transaction = manager.transaction.bind(manager);
  // Only the callback runs marked: the transaction's own connection is taken before it starts.
  const marked = (work: Work): Work => (em) => inTransaction.run(true, () => work(em));
  manager.transaction = (isolationOrWork, work) =>
    typeof isolationOrWork === 'function' ? transaction(marked(isolationOrWork)) : transaction(isolationOrWork, work && marked(work));
  const pool = (ds.driver as PostgresDriver).master as { connect: (...args: unknown[]) => unknown };
  const connect = pool.connect.bind(pool);
  pool.connect = (...args: unknown[]) => {
    if (!inTransaction.getStore()) return connect(...args);
    const refused = new Error('A pool connection was asked for inside a transaction: use its EntityManager');
    const callback = args[0];
    if (typeof callback !== 'function') return Promise.reject(refused);
    process.nextTick(() => callback(refused));
    return undefined;
  };
}
