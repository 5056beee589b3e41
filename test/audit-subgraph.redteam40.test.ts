import { Department, Role } from '../src/auth/principal';
import { eventsOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const STREET_A = '330102001';
const READ = `query($id: ID!) { minor(id: $id) { name } }`;

/**
 * Red team 40 (rt40-c): the audit trail as data officers use it — the purpose header each event
 * records, and the auditor's look-ups — through the public endpoint.
 */
describe('the audit trail as data officers use it (red team 40)', () => {
  let t: TestHub;
  let auditor: string;
  let child: string;

  beforeAll(async () => {
    t = await startTestHub();
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'rt40c-auditor' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET_A}%`]);
  });
  afterAll(() => t?.stop());

  /** The read of one child under `x-purpose: header`, its answer and its one event. */
  async function readUnder(header: string, user: string) {
    const officer = await t.token(Department.POLICE, { region: STREET_A, user });
    const r = await post(t, officer, { query: READ, variables: { id: child } }, { 'x-purpose': header });
    const events = await eventsOf(t, r.requestId);
    expect(events).toHaveLength(1);
    return { status: r.status, codes: (r.json.errors ?? []).map((e: any) => e.extensions?.code), data: r.json.data ?? null, event: events[0].body };
  }

  // README, Example queries / Audit trail: the purpose is one of the codes, recorded "as declared".
  // parsePurpose (src/audit/purpose.ts:27) upper-cases the code with String.prototype.toUpperCase,
  // whose Unicode case mappings turn letters that are no part of any code into ASCII ones: `ß`
  // (a single Latin-1 byte, 0xDF, no encoding needed) becomes `SS`, `ſ` (U+017F, long s) `S`, `ı`
  // (U+0131, dotless i) `I`. `aßistance`, `ſcreening` and `screenıng` are none of the codes, yet
  // each is served and recorded as ASSISTANCE or SCREENING: the trail says the officer declared a
  // code the header never held, and a proxy or log matching the header to the codes disagrees with it.
  it.each([
    ['aßistance (ß, sent as its Latin-1 byte)', 'aßistance'],
    ['ſcreening (U+017F long s, percent-encoded)', '%C5%BFcreening'],
    ['screenıng (U+0131 dotless i, percent-encoded)', 'screen%C4%B1ng'],
    // Pin: how the hub answers and records any code that is none of the seven.
    ['SCREENINGS (none of the codes, in ASCII)', 'SCREENINGS'],
  ])('refuses a purpose code that is none of the seven, though some upper-case into one: %s', async (_name, header) => {
    const { status, codes, data, event } = await readUnder(header, 'rt40c-purpose-unicode');
    expect({ status, codes, data, purpose: event.purpose, outcome: event.outcome, reads: event.reads }).toEqual({
      status: 400,
      codes: ['BAD_USER_INPUT'],
      data: null,
      purpose: null,
      outcome: 'INVALID',
      reads: [],
    });
  });

  // Pin (guards the fix above): ASCII in any case, surrounding spaces and a percent-encoded
  // reference are the documented forms, recorded as the code and the decoded reference.
  it.each([
    ['case_handling', { code: 'CASE_HANDLING' }],
    [' Screening ; 2026-0042 ', { code: 'SCREENING', reference: '2026-0042' }],
    ['ASSISTANCE; %E6%B0%91-0042', { code: 'ASSISTANCE', reference: '民-0042' }],
  ])('pin: records the documented form %j as its code', async (header, purpose) => {
    const { status, codes, event } = await readUnder(header, 'rt40c-purpose-ascii');
    expect({ status, codes, purpose: event.purpose, outcome: event.outcome }).toEqual({ status: 200, codes: [], purpose, outcome: 'SUCCESS' });
  });

  // Pin: the read above is in the child's history as the auditor sees it, with its declared code.
  it('pin: minorAccessHistory lists the officer’s read with the purpose as recorded', async () => {
    const { event } = await readUnder('SUPERVISION; rt40c', 'rt40c-history');
    const h = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m, first: 5) { requestId userId purpose { code reference } fields { field access } } }`, { m: child }, {});
    expect(h.errors).toBeUndefined();
    expect(h.data.minorAccessHistory.find((x: any) => x.requestId === event.requestId)).toEqual({
      requestId: event.requestId,
      userId: 'rt40c-history',
      purpose: { code: 'SUPERVISION', reference: 'rt40c' },
      fields: [{ field: 'Minor.name', access: 'ALLOW' }],
    });
  });
});
