import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { DATABASE_UNAVAILABLE_MESSAGE, HubErrorCode, HubException } from '../errors/hub.exception';

type Work = (em: EntityManager) => Promise<unknown>;

const DEADLINE = Symbol('request deadline');

/**
 * The deadline (`performance.now()` time) of a data source `boundByDeadline` made; undefined for any
 * other. Work that waits on purpose (an employment check's fixed duration) waits no longer than it:
 * an answer past it is one the gateway no longer reads.
 */
export const deadlineOf = (ds: DataSource): number | undefined => (ds as DataSource & { [DEADLINE]?: number })[DEADLINE];

/**
 * The request's data source for a subgraph server's fetch that has a deadline (`performance.now()`
 * time) past which the gateway no longer waits for its answer: a transaction — or a statement sent
 * alone, its own transaction — is not begun past it, and a transaction reaching its COMMIT past it
 * is rolled back instead. Either is answered DATABASE_UNAVAILABLE: nothing was done, try again. A
 * change committed after the gateway gave up would be recorded nowhere (the gateway writes the
 * event, from the answer it no longer reads); one aliased mutation after another, each waiting
 * within the statement limit, had kept committing long after. Everything else is the data source's
 * own (Object.create: its pool, metadata and manager). `logName` names the request in the log.
 * So every write of a request goes through `transaction` or `query`: a query builder, repository
 * or manager of the data source takes a connection of its own and would commit past the deadline.
 */
export function boundByDeadline(ds: DataSource, deadline: number, logName: string): DataSource {
  const refuseIfPast = (what: string) => {
    if (performance.now() < deadline) return;
    // For whoever checks this subgraph's records after an event in doubt: what it did not do.
    console.error(`${logName}: past the gateway's deadline, ${what}`);
    throw new HubException(HubErrorCode.DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE);
  };
  const bound = Object.create(ds) as DataSource;
  Object.defineProperty(bound, DEADLINE, { value: deadline });
  bound.transaction = (async (...args: [IsolationLevel, Work] | [Work]) => {
    const [isolation, run] = args.length === 2 ? args : [undefined, args[0]];
    refuseIfPast('a transaction not begun');
    const guarded: Work = async (em) => {
      const result = await run(em);
      refuseIfPast('a transaction rolled back before its commit');
      return result;
    };
    return isolation ? ds.transaction(isolation, guarded) : ds.transaction(guarded);
  }) as DataSource['transaction'];
  bound.query = (async (...args: Parameters<DataSource['query']>) => {
    refuseIfPast('a statement not sent');
    return ds.query(...args);
  }) as DataSource['query'];
  return bound;
}
