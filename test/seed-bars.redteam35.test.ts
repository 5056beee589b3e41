import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 35 (rt35-seed): a regression review of today's demo-seed commits (cbbbdf0, 08dbab1,
 * a36a174) and of the barred-person registry's judgement key (d1844f6).
 */
const { POLICE: PO, JUSTICE: JU } = Department;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "判决撤销") }`;

describe('demo data: sub-records within their records (rt35-seed)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  // After a36a174's cap, the sub-records still follow their parents and statuses their dates.
  it('visits, follow-ups and persuasion actions fall within their records, and the latest is the one named', async () => {
    const [r] = await t.sql(`
      SELECT (SELECT count(*)::int FROM womens_federation.care_plan p
               WHERE p.last_visit_on IS DISTINCT FROM (SELECT max(v.visited_on) FROM womens_federation.care_visit v WHERE v.plan_id = p.id)
                  OR EXISTS (SELECT 1 FROM womens_federation.care_visit v WHERE v.plan_id = p.id AND v.visited_on < p.started_on)) AS plans,
             (SELECT count(*)::int FROM youth_league.prevention_case p
               WHERE p.last_follow_up_on IS DISTINCT FROM (SELECT max(f.followed_up_on) FROM youth_league.follow_up f WHERE f.case_id = p.id)
                  OR EXISTS (SELECT 1 FROM youth_league.follow_up f WHERE f.case_id = p.id AND f.followed_up_on < p.opened_on)) AS cases,
             (SELECT count(*)::int FROM education.persuasion_action a JOIN education.dropout_report d ON d.id = a.report_id
               WHERE a.acted_on < d.reported_on OR a.acted_on > coalesce(d.closed_on, current_date)) AS actions,
             (SELECT count(*)::int FROM justice.community_correction c, (SELECT min(created_at)::date AS d FROM registry.minor) a
               WHERE c.ends_on <= c.started_on OR (c.status = 'ACTIVE') <> (c.ends_on >= a.d)) AS corrections`);
    expect(r).toEqual({ plans: 0, cases: 0, actions: 0, corrections: 0 });
  });
});

describe('bars: the judgement key of other zeros and numerals (rt35-seed)', () => {
  let t: TestHub;
  let police: string;
  let seq = 211;
  const person = () => buildIdNumber('330102', '1976-05-06', (seq++ % 499) * 2 + 1);
  const list = (idNumber: string, judgementReference: string) =>
    t.gql(police, ADD, { input: { idNumber, name: '张某', offence: 'ABUSE', judgementReference } });

  beforeAll(async () => {
    t = await startTestHub();
    police = await t.token(PO, { user: 'rt35-police' });
  });
  afterAll(() => t?.stop());

  // 〇 is often typed as ○ (U+25CB WHITE CIRCLE, a symbol), as in 二○二四年. judgementKey
  // (employment.resolver.ts:46-57) keeps 〇 as a digit since d1844f6 but takes ○ for a separator
  // between 一 and 一: `一○一一号` (judgement 1011) keys as `一-一一号`, alike `一○、一一号` and
  // `一、一一号` (judgements 1 and 11) — the bug d1844f6 fixed for 〇, back with its look-alike.
  it('lists 一○、一一号 beside 一○一一号 for one person, as 一〇、一一号 beside 一〇一一号', async () => {
    const idNumber = person();
    expect((await list(idNumber, '(2024)浙0102刑初一○一一号')).errors).toBeUndefined();
    const second = await list(idNumber, '(2024)浙0102刑初一○、一一号');
    expect(second.errors).toBeUndefined();
    expect(second.data?.addBarredPerson?.judgementReference).toBe('(2024)浙0102刑初一○、一一号');
  });

  // The dangerous face of it: revoking the bar of judgements 1 and 11 revokes the person's bar of
  // judgement 1011 (a same-key "copy"), and every employer is then answered CLEAR about a person
  // still barred by it.
  it('a revocation of 一、一一号 leaves the bar of 一○一一号 in force', async () => {
    const idNumber = person();
    const kept = await list(idNumber, '(2024)浙0102刑初一○一一号');
    expect(kept.errors).toBeUndefined();
    const [{ id_number_hash }] = await t.sql(`SELECT id_number_hash FROM workflow.barred_person WHERE id = $1`, [kept.data.addBarredPerson.id]);
    // As a release before judgement numbers were compared listed it (a listing now is refused as the same judgement).
    const [other] = await t.sql(
      `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_by_department, created_by_region, created_at)
       VALUES (gen_random_uuid(), $1, '张某', 'ABUSE', '(2024)浙0102刑初一、一一号', NULL, 'rt35-justice', 'JUSTICE', '330102', now()) RETURNING id`,
      [id_number_hash],
    );
    const justice = await t.token(JU, { user: 'rt35-justice' });
    expect((await t.gql(justice, REMOVE, { id: other.id })).errors).toBeUndefined();
    const [row] = await t.sql(`SELECT revoked_at FROM workflow.barred_person WHERE id = $1`, [kept.data.addBarredPerson.id]);
    expect(row.revoked_at).toBeNull();
  });

  // NUMERAL listed the simplified capital numerals 贰 叁 陆 but not the traditional 貳 參 陸 (nor
  // 萬 兩 廿), though the key folds the traditional 號: `壹貳、壹參號` (judgements 12 and 13) keys as
  // `壹貳壹參号`, the judgement 1213 — "Chinese numerals alike (nor 一二、一三号 一二一三号)".
  it('lists 壹貳、壹參號 beside 壹貳壹參號 for one person, as 壹贰、壹叁号 beside 壹贰壹叁号', async () => {
    const idNumber = person();
    expect((await list(idNumber, '(2024)浙0102刑初壹貳壹參號')).errors).toBeUndefined();
    const second = await list(idNumber, '(2024)浙0102刑初壹貳、壹參號');
    expect(second.errors).toBeUndefined();
    expect(second.data?.addBarredPerson?.judgementReference).toBe('(2024)浙0102刑初壹貳、壹參號');
  });
});
