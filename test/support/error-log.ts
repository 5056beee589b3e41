import { errorCodes, GqlResult } from './test-hub';

/**
 * The hub's `console.error` lines of each test of a suite (emptied before each), and a check that
 * requests met no internal error and logged none matching `internal` — a race that ended in a
 * deadlock or a failed item shows as one or the other.
 */
export function errorLogOfEachTest(internal: RegExp): { logged: string[]; noInternal: (rs: GqlResult[]) => void } {
  const logged: string[] = [];
  let log: jest.SpyInstance;
  beforeAll(() => {
    log = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  });
  afterAll(() => log.mockRestore());
  beforeEach(() => void logged.splice(0));
  const noInternal = (rs: GqlResult[]) => {
    const codes = rs.flatMap(errorCodes);
    expect([codes.filter((c) => c === 'INTERNAL_SERVER_ERROR' || c === undefined), logged.filter((l) => internal.test(l))]).toEqual([[], []]);
  };
  return { logged, noInternal };
}
