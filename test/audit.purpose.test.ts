import { buildSchema, getNamedType, GraphQLSchema, isLeafType } from 'graphql';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { checkPurposeFreeMutations } from '../src/audit/purpose';
import { buildFederatedSchema } from '../src/schema/build-federated-schema';
import { CHILD_RECORD_TYPES } from '../src/subgraphs';
import { registrySubgraph } from '../src/subgraphs/registry';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Every mutation needs a declared purpose unless its slice declares it purpose-free: a change to a
 * child's record need not answer with the record (removeGuardian answers with an id).
 */
describe('the purpose rule for mutations', () => {
  let t: TestHub;
  let civil: string;
  let schema: GraphQLSchema;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    // The composed schema the gateway serves: every subgraph's mutations.
    schema = buildSchema(t.hub.supergraphSdl, { assumeValidSDL: true });
  });
  afterAll(() => t.stop());

  /** The mutations of the supergraph that are not refused for want of a purpose, each sent without one. */
  async function purposeFree(): Promise<string[]> {
    const free: string[] = [];
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      for (const field of Object.values(schema.getMutationType()!.getFields())) {
        // Every argument a variable left unset: the purpose rule runs before the variables are read.
        const vars = field.args.map((a) => `$${a.name}: ${a.type}`).join(', ');
        const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
        const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
        const query = `mutation${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
        const r = await post(t, civil, { query }, {});
        const refused = r.status === 400 && r.json.errors?.[0]?.extensions?.field === 'x-purpose';
        if (!refused) free.push(field.name);
      }
    } finally {
      log.mockRestore();
    }
    return free;
  }

  it('refuses every mutation without a purpose but those declared purpose-free, which change no child’s record or need none by the README', async () => {
    expect((await purposeFree()).sort()).toEqual(
      ['addBarredPerson', 'deactivateWebhook', 'employmentCheck', 'employmentRescreen', 'fileMandatoryReport', 'registerWebhook', 'removeBarredPerson'].sort(),
    );
  });

  it('refuses removeGuardian without a purpose, removing nothing, and audits the refusal', async () => {
    const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const added = await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "李四" }) { id } }`, { id: minorId });
    const gid = added.data.addGuardian.id;
    const REMOVE = { query: `mutation($g: ID!) { removeGuardian(guardianId: $g) }`, variables: { g: gid } };
    const refused = await post(t, civil, REMOVE, {});
    expect([refused.status, refused.json.data, refused.json.errors[0].extensions]).toEqual([400, undefined, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
    expect(await t.sql(`SELECT id FROM registry.guardian WHERE id = $1`, [gid])).toEqual([{ id: gid }]);
    const event = await eventOf(t, refused.requestId);
    expect([event.operationType, event.errorCodes, event.changes]).toEqual(['mutation', ['BAD_USER_INPUT'], []]);

    const done = await post(t, civil, REMOVE, { 'x-purpose': 'CASE_HANDLING; 2026-0042' });
    expect(done.json.data.removeGuardian).toBe(gid);
    expect((await eventOf(t, done.requestId)).purpose).toEqual({ code: 'CASE_HANDLING', reference: '2026-0042' });
  });

  // A pre-employment check is about the adult applying: under it any officer had read any child's file.
  it('refuses EMPLOYMENT_CHECK for reading or changing a child’s data, on the fast path too, and keeps it for the check itself', async () => {
    const police = await t.token(Department.POLICE, { user: 'purpose-employment' });
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
    const READ = { query: `query($id: ID!) { minor(id: $id) { name riskLevel } }`, variables: { id } };
    const PAGE = { query: `{ minors(first: 2) { edges { node { name } } } }` };
    const UPDATE = { query: `mutation($id: ID!) { updateMinor(id: $id, input: { school: "第九实验小学" }) { id } }`, variables: { id } };
    for (const [token, body] of [[police, READ], [police, PAGE], [civil, UPDATE]] as const) {
      const refused = await post(t, token, body, { 'x-purpose': 'EMPLOYMENT_CHECK; 2026-0042' });
      expect([refused.status, refused.json.data, refused.json.errors[0].extensions]).toEqual([400, undefined, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
      const event = await eventOf(t, refused.requestId);
      expect([event.purpose, event.errorCodes, event.reads, event.changes]).toEqual([{ code: 'EMPLOYMENT_CHECK', reference: '2026-0042' }, ['BAD_USER_INPUT'], [], []]);
    }
    expect((await t.sql(`SELECT school FROM registry.minor WHERE id = $1`, [id]))[0].school).not.toBe('第九实验小学');
    const read = await post(t, police, READ, { 'x-purpose': 'CASE_HANDLING; 2026-0042' });
    expect(read.json.data.minor.name).toEqual(expect.any(String));

    const employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'purpose-kindergarten' });
    const check = await post(
      t,
      employer,
      { query: `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`, variables: { input: { idNumber: buildIdNumber('330102', '1990-01-01', 21), name: '王某', authorizationReference: 'AUTH-1' } } },
      { 'x-purpose': 'EMPLOYMENT_CHECK; AUTH-1' },
    );
    expect([check.status, check.json.errors, check.json.data.employmentCheck.answer]).toEqual([200, undefined, 'CLEAR']);
  });

  // Red team 33: the purpose rule refused EMPLOYMENT_CHECK only where the plugin's `needsPurpose` holds; a
  // count of children selected by their records (`minors(filter:…) { totalCount }`), which needs a
  // purpose on its own path (minor-connection.resolver.ts countOf: `if (!ctx.purpose)`), is answered
  // under EMPLOYMENT_CHECK: how many RED children the officer's area holds. So are a department record
  // page's `totalCount` and `nextCursor` under a filter (record-page.ts: `if (!ctx.purpose)`).
  it('refuses EMPLOYMENT_CHECK for a count of children selected by their records, and a filtered record page’s count and cursor', async () => {
    const officer = await t.token(Department.POLICE, { user: 'purpose-counts' });
    const outcome = [];
    for (const query of [
      `{ minors(first: 1, filter: { riskLevels: [RED] }) { totalCount } }`,
      `{ policeIncidents(first: 5, filter: { occurredWithinDays: 366 }) { totalCount nextCursor } }`,
    ]) {
      const unpurposed = await post(t, officer, { query }, {});
      expect(unpurposed.json.errors?.[0]?.extensions?.field).toBe('x-purpose');
      const r = await post(t, officer, { query }, { 'x-purpose': 'EMPLOYMENT_CHECK' });
      const served = Object.values(r.json.data ?? {}).flatMap((page) => Object.values((page ?? {}) as object)).filter((v) => v !== null);
      outcome.push([query, served, (r.json.errors ?? []).map((e: { extensions: { field?: string } }) => e.extensions.field)[0]]);
    }
    expect(outcome).toEqual(outcome.map(([query]) => [query, [], 'x-purpose']));
  });

  it('needs a purpose for a mutation reached through a fragment on Mutation, and none for __typename alone', async () => {
    const viaFragment = await post(t, civil, { query: `mutation($g: ID!) { ...M } fragment M on Mutation { removeGuardian(guardianId: $g) }`, variables: { g: '00000000-0000-4000-8000-000000000000' } }, {});
    expect([viaFragment.status, viaFragment.json.errors[0].extensions.field]).toEqual([400, 'x-purpose']);
    const typename = await post(t, civil, { query: `mutation { __typename }` }, {});
    expect(typename.json).toEqual({ data: { __typename: 'Mutation' } });
  });
});

describe('the start-up check of purpose-free mutations', () => {
  it('refuses a name that is no mutation of the slice, and a mutation that returns a child-record type', async () => {
    const schema = await buildFederatedSchema(registrySubgraph);
    expect(() => checkPurposeFreeMutations('registry', schema, ['removeGuardian'], CHILD_RECORD_TYPES)).not.toThrow();
    expect(() => checkPurposeFreeMutations('registry', schema, ['removeGuardians'], CHILD_RECORD_TYPES)).toThrow(/no such mutation/);
    expect(() => checkPurposeFreeMutations('registry', schema, ['addGuardian'], CHILD_RECORD_TYPES)).toThrow(/returns Guardian/);
  });
});
