import { Department } from '../src/auth/principal';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const STREET = '330102001';
const CREATE = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
/** A field of another subgraph (registry) that reads no child: beside it, an education page is planned. */
const BESIDE = 'regions { code }';
const PATHS = ['inProcess/alone', 'inProcess/planned', 'distributed/alone', 'distributed/planned'] as const;

/**
 * Red team 39 (rt39-paths): the same request answered alone (the fast path), beside a field of another
 * subgraph (the planned gateway), in process and distributed: the same status, answer, refusals and event.
 */
describe('the same request on every path (red team 39)', () => {
  const hubs: Record<string, TestHub> = {};
  const referralOf: Record<string, string> = {};
  const childOf: Record<string, string> = {};

  beforeAll(async () => {
    hubs.inProcess = await startTestHub();
    hubs.distributed = await startDistributedTestHub();
    for (const [name, t] of Object.entries(hubs)) {
      const civil = await t.token(CA, { region: STREET });
      const [{ id: child }] = await t.sql(
        `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
          WHERE j.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM education.dropout_report r WHERE r.minor_id = m.id)
          ORDER BY m.id DESC LIMIT 1`,
        [`${STREET}%`],
      );
      const r = await t.gql(civil, CREATE, { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
      expect(r.errors).toBeUndefined();
      referralOf[name] = r.data.createReferral.id;
      childOf[name] = child;
    }
  });
  afterAll(async () => {
    for (const t of Object.values(hubs)) await t.stop();
  });

  const headersOf = (hub: string, purpose: string | null): Record<string, string> =>
    purpose === null ? {} : { 'x-purpose': purpose === 'REFERRAL' ? `REFERRAL; ${referralOf[hub]}` : purpose };

  /** `{ <field> }` on each path as an education officer of the street: its own field's answer, every error as sent, and its event. */
  async function onEveryPath(field: string, purpose: string | null) {
    const answers: Record<string, any> = {};
    for (const path of PATHS) {
      const [hub, how] = path.split('/');
      const t = hubs[hub];
      const r = await post(t, await t.token(ED, { region: STREET }), { query: `{ ${field} ${how === 'planned' ? BESIDE : ''} }` }, headersOf(hub, purpose));
      const e = await eventOf(t, r.requestId);
      answers[path] = {
        status: r.status,
        data: r.json.data == null ? r.json.data : r.json.data.dropoutReports,
        errors: (r.json.errors ?? []).map((x: any) => ({ ...x, message: String(x.message).replace(referralOf[hub], '<referral>') })),
        event: { outcome: e.outcome, errorCodes: e.errorCodes, purpose: e.purpose?.code ?? null, reads: e.reads },
      };
    }
    return answers;
  }

  const withoutLocations = (answers: Record<string, any>) =>
    Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, { ...a, errors: a.errors.map(({ locations: _l, ...rest }: any) => rest) }]));
  const reference = (answers: Record<string, any>) => Object.fromEntries(PATHS.map((k) => [k, answers['inProcess/alone']]));

  // Today's rules, answered alike on every path (status, body but for `locations`, event): a page's
  // nextCursor needs a purpose and is a read of `<Type>.id` of its last record's child; a filtered
  // count needs one; EMPLOYMENT_CHECK refuses both on their paths; a referral's purpose withholds whole
  // an answer naming another child.
  it('answers department pages’ cursors and counts alike alone, planned, in process and distributed, under each purpose', async () => {
    const cases: [string, string | null][] = [
      ['dropoutReports(first: 1) { nextCursor totalCount }', null],
      ['dropoutReports(first: 1) { nextCursor }', 'CASE_HANDLING; rt39'],
      ['dropoutReports(first: 1) { nextCursor }', 'EMPLOYMENT_CHECK; rt39'],
      ['dropoutReports(first: 1) { nextCursor }', 'REFERRAL'],
      ['dropoutReports(first: 1, filter: { statuses: [OPEN] }) { nextCursor totalCount }', 'EMPLOYMENT_CHECK; rt39'],
      ['dropoutReports(first: 1, filter: { statuses: [OPEN] }) { totalCount }', 'REFERRAL'],
      ['dropoutReports(first: 2) { nodes { id minor { id name } } nextCursor }', 'REFERRAL'],
    ];
    for (const [field, purpose] of cases) {
      const answers = withoutLocations(await onEveryPath(field, purpose));
      expect({ field, purpose, answers }).toEqual({ field, purpose, answers: reference(answers) });
    }
  });

  // The fast path (FastPathGateway → InProcessDataSource.executeWhole) answers a field's refusal with
  // `locations` in the client's document; the same request planned (beside another subgraph's field),
  // or distributed, where @apollo/gateway passes a subgraph's errors on, has none. README: the fast
  // path skips "the plan's execution and result re-shaping", the answer unchanged.
  it('answers a page’s cursor refused for want of a purpose with the same error alone in process as on the gateway’s paths', async () => {
    const answers = await onEveryPath('dropoutReports(first: 1) { nextCursor }', null);
    expect(answers['inProcess/planned'].errors).toEqual([expect.objectContaining({ path: ['dropoutReports', 'nextCursor'] })]);
    expect(answers).toEqual(reference(answers));
  });

  // A change under a referral's purpose to another child: the change stands, the answer withheld
  // (403), its reads recorded as refused — alone (education) and with the child's registry fields
  // (planned), in process and distributed alike.
  it('withholds alike on every path the answer of a change to another child under a referral, the change standing', async () => {
    const answers: Record<string, unknown> = {};
    for (const hub of ['inProcess', 'distributed']) {
      const t = hubs[hub];
      const [{ id: m }] = await t.sql(
        `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id WHERE j.grid_code LIKE $1 AND m.id <> $2 ORDER BY m.id LIMIT 1`,
        [`${STREET}%`, childOf[hub]],
      );
      for (const [how, selection] of [['alone', 'id'], ['planned', 'id minor { id name }']]) {
        const school = `rt39 ${hub} ${how}`;
        const query = `mutation($m: ID!, $s: String!) { createSchoolEnrollment(minorId: $m, input: { school: $s, grade: 3, status: ENROLLED, enrolledOn: "2026-09-01" }) { ${selection} } }`;
        const r = await post(t, await t.token(ED, { region: STREET }), { query, variables: { m, s: school } }, headersOf(hub, 'REFERRAL'));
        const events = await eventsOf(t, r.requestId);
        const made = await t.sql(`SELECT minor_id FROM education.school_enrollment WHERE school = $1`, [school]);
        answers[`${hub}/${how}`] = {
          status: r.status,
          data: r.json.data ?? null,
          errors: (r.json.errors ?? []).map((x: any) => [String(x.message).replace(referralOf[hub], '<referral>'), x.extensions?.code]),
          events: events.map((e) => [e.outcome, e.body.errorCodes, (e.body.reads ?? []).map((g: any) => [g.minorIds, Object.values(g.fields)])]),
          made: made.map((row: any) => row.minor_id === m),
        };
      }
    }
    const ran = '(the mutation ran; its answer is withheld)';
    for (const how of ['alone', 'planned']) {
      expect(answers[`distributed/${how}`]).toEqual(answers[`inProcess/${how}`]);
      expect(answers[`inProcess/${how}`]).toMatchObject({ status: 403, data: null, errors: [[expect.stringContaining(ran), 'FORBIDDEN']], made: [true] });
    }
  });
});
