import { buildSchema, getNamedType, GraphQLSchema, isLeafType } from 'graphql';
import { Department } from '../src/auth/principal';
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
