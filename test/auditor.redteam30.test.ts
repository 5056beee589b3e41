import { Department, Role } from '../src/auth/principal';
import { post } from './support/audit-helpers';
import { exchange } from './support/raw-socket';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const STREET_A = '330102001';

/**
 * Red team 30 (rt30-audit): what data officers use — the trail's queries, the purpose header, the
 * chain's verification and the events behind them — through the public endpoint.
 */
describe('the data officer’s trail (red team 30)', () => {
  let t: TestHub;
  let auditorA: string;
  let childA: string;

  beforeAll(async () => {
    t = await startTestHub();
    auditorA = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'rt30-auditor-a' });
    [{ id: childA }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET_A}%`]);
  });
  afterAll(() => t?.stop());

  const eventsOfUser = async (user: string) => {
    await t.hub.audit.drain();
    return t.sql(`SELECT outcome FROM audit.event WHERE user_id = $1 ORDER BY seq`, [user]);
  };

  // README, Audit trail: "Every request to /graphql, refused ones included, leaves an event". A
  // request with an `Expect` other than 100-continue is read whole by the parser, token, purpose and
  // document included; Node answered it 417 Expectation Failed itself (no 'checkExpectation'
  // listener), so neither the compiled read nor Express saw it and the trail held nothing of it. The
  // hub now ignores the expectation (RFC 9110 §10.1.1) and serves and audits the request as any other.
  it('serves and records a request with an unknown Expect, with its caller', async () => {
    const user = 'rt30-expect';
    const officer = await t.token(Department.POLICE, { region: STREET_A, user });
    const body = JSON.stringify({ query: `query($id: ID!) { minor(id: $id) { name idNumber } }`, variables: { id: childA } });
    const request = [
      'POST /graphql HTTP/1.1',
      `Host: 127.0.0.1:${t.hub.port}`,
      `Authorization: Bearer ${officer}`,
      'Content-Type: application/json',
      'x-purpose: CASE_HANDLING; 2026-0042',
      'Expect: inspect',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n');
    const answer = (await exchange(t.hub.port, [request])).toString('utf8');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    const [name] = await t.sql(`SELECT name FROM registry.minor WHERE id = $1`, [childA]);
    expect(answer).toContain(JSON.stringify(name.name));
    expect(await eventsOfUser(user)).toEqual([{ outcome: 'SUCCESS' }]);
  });

  // Pin. README, Example queries: the documented forms of `x-purpose` are accepted and recorded as
  // declared (the reference trimmed, percent-encoded text decoded); malformed ones are refused
  // BAD_USER_INPUT on `x-purpose` (HTTP 400) and recorded with no purpose.
  it('pin: accepts and records the documented purpose forms, refuses malformed ones typed', async () => {
    const officer = await t.token(Department.POLICE, { region: STREET_A, user: 'rt30-purposes' });
    const read = { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childA } };
    const seen = [];
    for (const header of ['CASE_HANDLING; 2026-0042', 'SCREENING', 'CASE_HANDLING; 2026-%E6%B0%91-0042', 'FOO', 'CASE_HANDLING; 2026, SCREENING', 'CASE_HANDLING; a%E2%80%8Bb']) {
      const r = await post(t, officer, read, { 'x-purpose': header });
      await t.hub.audit.drain();
      const [event] = await t.sql(`SELECT outcome, body::jsonb -> 'purpose' AS purpose FROM audit.event WHERE request_id = $1`, [r.requestId]);
      seen.push([header, r.status, r.json.errors?.map((e: any) => [e.extensions.code, e.extensions.field]) ?? [], event.outcome, event.purpose]);
    }
    expect(seen).toEqual([
      ['CASE_HANDLING; 2026-0042', 200, [], 'SUCCESS', { code: 'CASE_HANDLING', reference: '2026-0042' }],
      ['SCREENING', 200, [], 'SUCCESS', { code: 'SCREENING' }],
      ['CASE_HANDLING; 2026-%E6%B0%91-0042', 200, [], 'SUCCESS', { code: 'CASE_HANDLING', reference: '2026-民-0042' }],
      ['FOO', 400, [['BAD_USER_INPUT', 'x-purpose']], 'INVALID', null],
      ['CASE_HANDLING; 2026, SCREENING', 400, [['BAD_USER_INPUT', 'x-purpose']], 'INVALID', null],
      ['CASE_HANDLING; a%E2%80%8Bb', 400, [['BAD_USER_INPUT', 'x-purpose']], 'INVALID', null],
    ]);
    // The data officer of the street finds these reads in the child's history, and their own look-up there too.
    const other = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'rt30-auditor-b' });
    const HISTORY = `query($id: ID!) { minorAccessHistory(minorId: $id, first: 10) { userId purpose { code reference } outcome fields { field access } } }`;
    expect((await t.gql(auditorA, HISTORY, { id: childA }, {})).errors).toBeUndefined();
    const history = (await t.gql(other, HISTORY, { id: childA }, {})).data.minorAccessHistory;
    expect(history.slice(0, 4)).toEqual([
      { userId: 'rt30-auditor-a', purpose: null, outcome: 'SUCCESS', fields: [{ field: 'Query.minorAccessHistory', access: 'ALLOW' }] },
      { userId: 'rt30-purposes', purpose: { code: 'CASE_HANDLING', reference: '2026-民-0042' }, outcome: 'SUCCESS', fields: [{ field: 'Minor.name', access: 'ALLOW' }] },
      { userId: 'rt30-purposes', purpose: { code: 'SCREENING', reference: null }, outcome: 'SUCCESS', fields: [{ field: 'Minor.name', access: 'ALLOW' }] },
      { userId: 'rt30-purposes', purpose: { code: 'CASE_HANDLING', reference: '2026-0042' }, outcome: 'SUCCESS', fields: [{ field: 'Minor.name', access: 'ALLOW' }] },
    ]);
  });
});
