import type { DataSource, EntityManager } from 'typeorm';

/**
 * How long a job's write waits for a row lock: a write holds a child or a webhook for milliseconds,
 * and an item left for the next pass is taken up a minute later, where every item behind one
 * long-held row (a district's webhook: every notification of the district) waited in turn.
 */
export const JOB_LOCK_WAIT_MS = 100;

/** `work` in a transaction of its own whose statements wait JOB_LOCK_WAIT_MS at most for a row lock, then fail 55P03 (isLockNotAvailable). */
export const withShortLockWait = <T>(ds: DataSource, work: (em: EntityManager) => Promise<T>): Promise<T> =>
  ds.transaction(async (em) => {
    await em.query(`SET LOCAL lock_timeout = ${JOB_LOCK_WAIT_MS}`);
    return work(em);
  });
