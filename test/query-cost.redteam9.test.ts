import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, statementsDuring, TestHub } from './support/test-hub';

const PURPOSE = { 'x-purpose': 'CASE_HANDLING; 2026-0091' };
const ALIASES = 200;

/**
 * A page's `totalCount` is one field under one root field, priced 1 by the cost limit, yet each
 * alias of it was a statement of its own — a count over the caller's whole jurisdiction, or under a
 * filter a read of up to 1,002 matches: 1,600 aliases (the most 5,000 tokens hold) were 1,600
 * statements for a request priced 2,600 of 500,000, the database held for as long as 1,600 counts
 * of a district take. The count is made once per page, whatever aliases ask it.
 */
describe('aliases of a page’s totalCount (red team 9)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const aliased = (n: number) => Array.from({ length: n }, (_, i) => `c${i}: totalCount`).join(' ');

  it.each([
    [Department.POLICE, 'policeIncidents(first: 1, filter: { statuses: [REPORTED] })'],
    [Department.POLICE, 'policeIncidents(first: 1)'],
    [Department.CIVIL_AFFAIRS, 'minors(first: 1, filter: { riskLevels: [RED, ORANGE] })'],
    [Department.CIVIL_AFFAIRS, 'minors(first: 1)'],
  ])(`%s %s: no more statements with ${ALIASES} aliases than with one, each answered the same count, the same reads recorded`, async (department, list) => {
    const token = await t.token(department, { user: `aliases-${department}` });
    const root = list.slice(0, list.indexOf('('));
    const run = async (fields: string) => {
      let answer: Awaited<ReturnType<typeof post>> | undefined;
      const sent = await statementsDuring(t, async () => {
        answer = await post(t, token, { query: `{ ${root}: ${list} { ${fields} } }` }, PURPOSE);
      });
      expect(answer!.json.errors).toBeUndefined();
      return { sent: sent.length, data: answer!.json.data[root], reads: (await eventOf(t, answer!.requestId)).reads };
    };
    const one = await run('c0: totalCount');
    const many = await run(aliased(ALIASES));
    expect(one.data.c0).toBeGreaterThan(1);
    expect(many.sent).toBeLessThanOrEqual(one.sent);
    expect(new Set(Object.values(many.data))).toEqual(new Set([one.data.c0]));
    expect(many.reads).toEqual(one.reads);
  });
});
