import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 34 (rt34-wf): docs/workflows.md against src/subgraphs/workflow/ — the barred-person
 * registry (src/subgraphs/workflow/resolvers/employment.resolver.ts), on the template's empty
 * registry. Its judgement-number findings are in employment.redteam28.
 */
const { POLICE: PO } = Department;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;

describe('workflows.md claims (rt34-wf)', () => {
  let t: TestHub;
  let police: string;

  beforeAll(async () => {
    t = await startTestHub();
    police = await t.token(PO, { user: 'rt34-police' });
  });
  afterAll(() => t?.stop());

  // docs/workflows.md: "A listing, a check or a re-screening of a number … is refused …, before anything is
  // recorded", and "The first check, re-screening or listing records an HMAC of a fixed text under the
  // key". addBarredPerson checks the name only after requireRegistryKey has committed the key of an
  // empty registry: a listing refused BAD_USER_INPUT leaves the registry bound to whatever HUB_AUDIT_KEY
  // the hub runs with (a mistyped one then refuses the right one for good), though nothing was listed.
  it('a listing refused for its name records no registry key', async () => {
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person`))[0].n).toBe(0);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person_key`))[0].n).toBe(0);
    const r = await t.gql(police, ADD, { input: { idNumber: buildIdNumber('330102', '1975-03-04', 263), name: '  ', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初1号' } });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person_key`))[0].n).toBe(0);
  });
});
