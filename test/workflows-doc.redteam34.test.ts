import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 34 (rt34-wf): docs/workflows.md against src/subgraphs/workflow/ — the barred-person
 * registry (src/subgraphs/workflow/resolvers/employment.resolver.ts). The first test needs the
 * template's empty registry: it runs first.
 */
const { POLICE: PO, JUSTICE: JU } = Department;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "判决撤销") }`;

describe('workflows.md claims (rt34-wf)', () => {
  let t: TestHub;
  let police: string;
  let seq = 131;
  const person = () => buildIdNumber('330102', '1975-03-04', (seq++ % 499) * 2 + 1);

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
    const r = await t.gql(police, ADD, { input: { idNumber: person(), name: '  ', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初1号' } });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person_key`))[0].n).toBe(0);
  });

  // docs/workflows.md: "a separator between two numerals parts numbers, whichever it is, … digits of any
  // script and Chinese numerals alike (… nor `一二、一三号` `一二一三号`)", and "a numeral that is a number
  // by itself is one (`①②号` is not `12号`)". The code's "number by itself" is any \p{No} or \p{Nl}
  // character (judgementKey, SINGLE), and the Chinese zero 〇 (U+3007) is \p{Nl}: so 〇 is parted from
  // the numerals beside it as ① is, and `一〇一一号` (judgement 1011) keys as `一〇、一一号` (judgements
  // 10 and 11), as `一二一三号` would not as `一二、一三号`. The second judgement is refused as listed.
  it('lists 一〇、一一号 beside 一〇一一号 for one person, as 一二、一三号 beside 一二一三号', async () => {
    const idNumber = person();
    const list = (judgementReference: string) =>
      t.gql(police, ADD, { input: { idNumber, name: '张某', offence: 'ABUSE', judgementReference } });
    // The same rule with 二 in place of 〇: two judgements, both listed.
    const control = person();
    for (const judgementReference of ['(2024)浙0102刑初一二一三号', '(2024)浙0102刑初一二、一三号']) {
      const r = await t.gql(police, ADD, { input: { idNumber: control, name: '李某', offence: 'ABUSE', judgementReference } });
      expect(r.errors).toBeUndefined();
    }
    expect((await list('(2024)浙0102刑初一〇一一号')).errors).toBeUndefined();
    const second = await list('(2024)浙0102刑初一〇、一一号');
    expect(second.errors).toBeUndefined();
    expect(second.data?.addBarredPerson?.judgementReference).toBe('(2024)浙0102刑初一〇、一一号');
  });

  // The other face of it: revoking the bar of judgement 1011 takes with it the person's bar of
  // judgements 10 and 11 ("A revocation takes with it the person's other bars in force of the same
  // judgement"), listed before the comparison, so the person is answered CLEAR though still barred.
  it('a revocation of 一〇一一号 leaves a bar of 一〇、一一号 in force', async () => {
    const idNumber = person();
    const first = await t.gql(police, ADD, { input: { idNumber, name: '王某', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初一〇一一号' } });
    expect(first.errors).toBeUndefined();
    const id = first.data.addBarredPerson.id;
    // As a release before judgement numbers were compared (or a replica of one) listed it: the same person, judgements 10 and 11.
    const [{ id_number_hash }] = await t.sql(`SELECT id_number_hash FROM workflow.barred_person WHERE id = $1`, [id]);
    const [other] = await t.sql(
      `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_by_department, created_by_region, created_at)
       VALUES (gen_random_uuid(), $1, '王某', 'ABUSE', '(2024)浙0102刑初一〇、一一号', NULL, 'rt34-justice', 'JUSTICE', '330102', now()) RETURNING id`,
      [id_number_hash],
    );
    const justice = await t.token(JU, { user: 'rt34-justice' });
    expect((await t.gql(justice, REMOVE, { id })).errors).toBeUndefined();
    const [row] = await t.sql(`SELECT revoked_at FROM workflow.barred_person WHERE id = $1`, [other.id]);
    expect(row.revoked_at).toBeNull();
  });
});
