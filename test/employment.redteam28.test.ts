import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red teams 28 (rt28-employ), 33 (rt33-employment) and 36–38 (judgement numbers): the pre-employment check (入职查询) and the
 * barred-person registry (从业限制), workflow 5 of DOMAIN.md, docs/workflows.md "Pre-employment check";
 * the judgement key.
 */
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`;

describe('barred-person registry: one judgement listed once per person (rt28-employ)', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  let employer: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    police = await t.token(Department.POLICE, { user: 'rt28-police' });
    justice = await t.token(Department.JUSTICE, { user: 'rt28-justice' });
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'rt28-kindergarten' });
  });
  afterAll(() => t?.stop());

  const list = (token: string, idNumber: string, judgementReference: string, offence = 'SEXUAL_HARM') =>
    t.gql(token, ADD, { input: { idNumber, name: '张某', offence, judgementReference } });
  // A bar an earlier release let in (the registry's own listing refuses it now): the person's row copied.
  const legacyCopy = async (barId: string, reference: string, offence = 'ABUSE') =>
    (
      await t.sql(
        `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_by_department, created_by_region, created_at)
         SELECT gen_random_uuid(), id_number_hash, name, $3, $2, restricted_until, created_by, created_by_department, created_by_region, created_at FROM workflow.barred_person WHERE id = $1 RETURNING id`,
        [barId, reference, offence],
      )
    )[0].id as string;

  // Bug: the partial unique index (id_number_hash, judgement_reference) WHERE revoked_at IS NULL
  // compares the reference as typed, composed to NFC only (requireLine). A 案号 is written with
  // full-width brackets and digits as often as with ASCII ones — the court's own form is
  // "（2024）浙0102刑初123号" — and NFC keeps them apart: police list "(2024)浙0102刑初123号",
  // justice lists "（2024）浙0102刑初123号" (or with a space, or full-width digits) and the one
  // judgement is in force four times over for one person, which docs/workflows.md says cannot be.
  it('refuses the same judgement of the same person written with full-width brackets, full-width digits or a space', async () => {
    const person = buildIdNumber('330102', '1980-05-04', 123);
    expect(errorCodes(await list(police, person, '(2024)浙0102刑初123号'))).toEqual([]);
    for (const spelling of ['（2024）浙0102刑初123号', '（２０２４）浙０１０２刑初１２３号', '(2024) 浙0102刑初123号']) {
      const again = await list(justice, person, spelling);
      expect([spelling, errorCodes(again), again.errors?.[0]?.extensions?.field]).toEqual([spelling, ['BAD_USER_INPUT'], 'input.judgementReference']);
    }
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE revoked_at IS NULL AND judgement_reference LIKE '%刑初%'`);
    expect(n).toBe(1);
  });

  // The consequence: the judgement is overturned, police revoke the bar it rests on, and the
  // person is still answered RESTRICTED to every employer, from the copy listed under the other
  // spelling of the same judgement.
  it('answers CLEAR once the bar of an overturned judgement is revoked, whoever tried to list it again in another spelling', async () => {
    const person = buildIdNumber('330102', '1979-03-02', 245);
    const first = await list(police, person, '(2023)浙0102刑初77号');
    expect(errorCodes(first)).toEqual([]);
    await list(justice, person, '（2023）浙0102刑初77号');
    expect(errorCodes(await t.gql(police, REMOVE, { id: first.data.addBarredPerson.id }))).toEqual([]);
    const r = await t.gql(employer, CHECK, { input: { idNumber: person, name: '张某', authorizationReference: 'AUTH-rt28' } }, {});
    expect(errorCodes(r)).toEqual([]);
    expect(r.data.employmentCheck.answer).toBe('CLEAR');
  });

  const check = async (idNumber: string) => {
    const r = await t.gql(employer, CHECK, { input: { idNumber, name: '张某', authorizationReference: 'AUTH-rt33' } }, {});
    expect(errorCodes(r)).toEqual([]);
    return r.data.employmentCheck.answer as string;
  };

  // Red team 33 (rt33-employment), from here on. Bug (worst): judgementKey drops the separator between a digit and a letter first, and only then
  // drops an ordinal 第 before a number: `12、第13号` (judgements 12 and 13, the second written with
  // its ordinal — docs/workflows.md: a separator between two digits parts numbers, 12、13号 is not
  // 1213号; 第 before the number is only a spelling) becomes `12第13号`, then `1213号`: the key of
  // judgement 1213. Listed first, judgement 1213 keeps the other judgements out ("already listed");
  // once 1213 is overturned and revoked the person is answered CLEAR, though barred by 12 and 13.
  it('keeps 12、第13号 and 123-第1号 apart from 1213号 and 1231号: revoking the one leaves the other in force', async () => {
    const cases = [
      [801, '(2024)浙0102刑初1213号', '(2024)浙0102刑初12、第13号'],
      [802, '(2024)浙0102刑初1231号', '(2024)浙0102刑初123-第1号'],
    ] as const;
    const outcome = [];
    for (const [sequence, first, other] of cases) {
      const person = buildIdNumber('330102', '1978-06-07', sequence);
      const listed = await list(police, person, first);
      expect(errorCodes(listed)).toEqual([]);
      const again = await list(justice, person, other);
      expect(errorCodes(await t.gql(police, REMOVE, { id: listed.data.addBarredPerson.id }))).toEqual([]);
      outcome.push([other, errorCodes(again), await check(person)]);
    }
    expect(outcome).toEqual([
      ['(2024)浙0102刑初12、第13号', [], 'RESTRICTED'],
      ['(2024)浙0102刑初123-第1号', [], 'RESTRICTED'],
    ]);
  });

  // Bug: a decision's number (公安 行政处罚决定书, a 违法 record that bars under 未成年人保护法 art. 62)
  // puts the year in brackets right before the number: `杭公上行罚决字〔2024〕第123号`. The bracket
  // between two digits becomes '-' (`2024-123号`), but written with its ordinal the bracket lies between
  // a digit and 第 and is dropped, so 第 removed joins year and number (`2024123号`); zeros before the
  // number follow '-' and are kept (`2024-00123号`). One decision, three keys: listed three times, and its
  // revocation leaves the person RESTRICTED by the copies.
  it('lists a decision once however its number is spelt: 〔2024〕第123号, 〔2024〕123号, 〔2024〕00123号', async () => {
    const person = buildIdNumber('330102', '1979-08-09', 803);
    const first = await list(police, person, '杭公上行罚决字〔2024〕第123号');
    expect(errorCodes(first)).toEqual([]);
    const spellings = [];
    for (const spelt of ['杭公上行罚决字〔2024〕123号', '杭公上行罚决字〔2024〕00123号', '杭公上行罚决字(2024)第0123號']) {
      spellings.push([spelt, errorCodes(await list(justice, person, spelt))]);
    }
    expect(errorCodes(await t.gql(police, REMOVE, { id: first.data.addBarredPerson.id }))).toEqual([]);
    expect([spellings, await check(person)]).toEqual([
      [
        ['杭公上行罚决字〔2024〕123号', ['BAD_USER_INPUT']],
        ['杭公上行罚决字〔2024〕00123号', ['BAD_USER_INPUT']],
        ['杭公上行罚决字(2024)第0123號', ['BAD_USER_INPUT']],
      ],
      'CLEAR',
    ]);
  });

  // Bug: judgementKey keeps letters and digits only, so a reference with neither — `——`, `/`, `（）`, a
  // symbol — keys to '' and every such reference is one judgement: listed as `——` (requireLine takes any
  // visible text), the person's next bar written `／` is refused "already listed" though it names
  // nothing listed. A judgement's number always holds digits; a reference keyed to nothing names no
  // judgement and should be refused when listed (BAD_USER_INPUT on input.judgementReference).
  it('refuses a judgement reference with no letter or digit: it names no judgement, and every such reference keyed alike', async () => {
    const person = buildIdNumber('330102', '1977-04-05', 804);
    const refused = [];
    for (const spelt of ['——', '／', '（）']) {
      const r = await list(police, person, spelt);
      refused.push([spelt, errorCodes(r), r.errors?.[0]?.extensions?.field]);
    }
    expect(refused).toEqual([
      ['——', ['BAD_USER_INPUT'], 'input.judgementReference'],
      ['／', ['BAD_USER_INPUT'], 'input.judgementReference'],
      ['（）', ['BAD_USER_INPUT'], 'input.judgementReference'],
    ]);
  });

  // Pin (passes): a barred person is RESTRICTED whatever the spelling of the ID number a check gives
  // (a small x, spaces around it, the ideographic space); a number in full-width digits is refused,
  // never answered CLEAR.
  it('pin: answers RESTRICTED for any spelling of a barred ID number, refuses full-width digits', async () => {
    let sequence = 805;
    while (!buildIdNumber('330102', '1976-02-03', sequence).endsWith('X')) sequence += 1;
    const person = buildIdNumber('330102', '1976-02-03', sequence);
    expect(errorCodes(await list(police, person.toLowerCase(), '(2022)浙0102刑初55号'))).toEqual([]);
    const answers = [];
    for (const spelt of [person, person.toLowerCase(), ` ${person}\u3000`, `\t${person.toLowerCase()} `]) answers.push(await check(spelt));
    expect(answers).toEqual(['RESTRICTED', 'RESTRICTED', 'RESTRICTED', 'RESTRICTED']);
    const wide = person.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const r = await t.gql(employer, CHECK, { input: { idNumber: wide, name: '张某', authorizationReference: 'AUTH-rt33' } }, {});
    expect([errorCodes(r), r.data?.employmentCheck ?? null]).toEqual([['BAD_USER_INPUT'], null]);
  });

  // Owner item: bars listed before judgement numbers were compared folded (release 2a3e9bf) may hold one
  // judgement twice, spelt otherwise. Revoking one left the person RESTRICTED by the other.
  it('revokes the judgement\'s other bars of the person with it, and audits each', async () => {
    const person = buildIdNumber('330102', '1975-07-08', 911);
    const listed = await t.gql(police, ADD, { input: { idNumber: person, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2019)浙0102刑初88号' } });
    expect(errorCodes(listed)).toEqual([]);
    const barId: string = listed.data.addBarredPerson.id;
    // The copies an earlier release let in: the same judgement spelt otherwise; and another judgement.
    const same = await legacyCopy(barId, '（2019）浙0102刑初第088號');
    const other = await legacyCopy(barId, '(2019)浙0102刑初89号');
    const removed = await post(t, police, { query: REMOVE, variables: { id: barId } }, {});
    expect(removed.json).toEqual({ data: { removeBarredPerson: barId } });
    const rows = await t.sql(`SELECT id, revoked_at IS NOT NULL AS revoked FROM workflow.barred_person WHERE id = ANY($1)`, [[barId, same, other]]);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.revoked]))).toEqual({ [barId]: true, [same]: true, [other]: false });
    const event = await eventOf(t, removed.requestId);
    expect(event.changes.map((c: { id: string }) => c.id).sort()).toEqual([barId, same].sort());
    // Still barred by the other judgement; CLEAR once that is revoked too.
    expect(await check(person)).toBe('RESTRICTED');
    expect(errorCodes(await t.gql(police, REMOVE, { id: other }))).toEqual([]);
    expect(await check(person)).toBe('CLEAR');
  });

  // Red team 33 (rt33-today). Bug: judgementKey's separator rule tests `\d`, ASCII only, while it keeps every \p{N} digit and
  // NFKC folds circled digits, superscripts and Roman numerals: the separator between two
  // Arabic-Indic (or Chinese) numbers is dropped, `١٢-١٣号` (judgements 12 and 13) keys as `١٢١٣号`
  // (judgement 1213), `Ⅺ、Ⅰ号` as `Ⅻ号`, `①②号` as `12号`, `1²号` as `12号`. Listed first, one keeps the
  // other out ("already listed"); a legacy pair is revoked together (ba6dbe1): the judgement that was
  // overturned takes the other with it, and a barred person is answered CLEAR.
  it('revoking one judgement leaves a different judgement that keys alike in force (RESTRICTED)', async () => {
    const pairs = [
      [901, '(2024)浙0102刑初١٢١٣号', '(2024)浙0102刑初١٢-١٣号'],
      [902, '(2024)浙0102刑初Ⅻ号', '(2024)浙0102刑初Ⅺ、Ⅰ号'],
      [903, '(2024)浙0102刑初12号', '(2024)浙0102刑初①②号'],
      [904, '(2024)浙0102刑初一二一三号', '(2024)浙0102刑初一二、一三号'],
      // Red teams 34 and 35: the Chinese zero is a digit of its number however written, and a
      // traditional capital a numeral as its simplified one.
      [906, '(2024)浙0102刑初一〇一一号', '(2024)浙0102刑初一〇、一一号'],
      [907, '(2024)浙0102刑初一○一一号', '(2024)浙0102刑初一、一一号'],
      [908, '(2024)浙0102刑初壹貳壹參號', '(2024)浙0102刑初壹貳、壹參號'],
    ] as const;
    const outcome = [];
    for (const [sequence, first, other] of pairs) {
      const person = buildIdNumber('330102', '1978-06-07', sequence);
      const listed = await list(police, person, first);
      expect(errorCodes(listed)).toEqual([]);
      const barId: string = listed.data.addBarredPerson.id;
      const second = await list(justice, person, other, 'ABUSE');
      if (errorCodes(second).length) await legacyCopy(barId, other);
      expect(errorCodes(await t.gql(police, REMOVE, { id: barId }))).toEqual([]);
      outcome.push([other, errorCodes(second), await check(person)]);
    }
    expect(outcome).toEqual(pairs.map(([, , other]) => [other, [], 'RESTRICTED']));
  });

  // Bug: a legacy reference with no letter or digit (`——`, `／`: judgement number unknown when listed,
  // before 2629d7f refused such references) keys to ''. 2629d7f says such a reference names no
  // judgement, yet ba6dbe1 compares keys: revoking one such bar revokes every other such bar of the
  // person, whatever its offence, and the person is answered CLEAR.
  it('revoking a legacy bar whose reference names no judgement leaves the person’s other such bar in force', async () => {
    const person = buildIdNumber('330102', '1977-03-04', 905);
    const listed = await list(police, person, '(2018)浙0102刑初7号');
    expect(errorCodes(listed)).toEqual([]);
    const barId: string = listed.data.addBarredPerson.id;
    await t.sql(`UPDATE workflow.barred_person SET judgement_reference = '——' WHERE id = $1`, [barId]);
    const other = await legacyCopy(barId, '／', 'ABUSE');
    expect(errorCodes(await t.gql(police, REMOVE, { id: barId }))).toEqual([]);
    const rows = await t.sql(`SELECT revoked_at IS NOT NULL AS revoked FROM workflow.barred_person WHERE id = $1`, [other]);
    expect([rows, await check(person)]).toEqual([[{ revoked: false }], 'RESTRICTED']);
  });
  /** What a response refused, as [code, field]. */
  const refusals = (r: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => (r.errors ?? []).map((e) => [e.extensions?.code, e.extensions?.field ?? null]);

  // Red team 36: judgementKey turned a run of brackets between two numerals into a separator and
  // dropped it elsewhere, on the assumption that the year is followed by a court code opening with a
  // letter. Older judgement numbers name the court by a Chinese numeral — `(2010)一中刑初字第1234号`,
  // Beijing's No. 1 Intermediate Court — and there the bracket lies between the year's 0 and 一:
  // keyed `2010-一中…`, the same number without brackets `2010一中…`. Listed twice for one person, and
  // once overturned and its bar revoked, the copy kept the person RESTRICTED to every employer.
  it('lists (2010)一中刑初字第1234号 once whether or not its year is bracketed, and its revocation clears the person', async () => {
    // Held: a court code opening with a letter is one judgement with or without brackets.
    const other = buildIdNumber('330102', '1975-04-03', 362);
    expect(errorCodes(await list(police, other, '(2024)浙0102刑初123号'))).toEqual([]);
    expect(errorCodes(await list(justice, other, '2024浙0102刑初123号'))).toEqual(['BAD_USER_INPUT']);
    const person = buildIdNumber('110102', '1975-04-03', 361);
    const first = await list(police, person, '(2010)一中刑初字第1234号');
    expect(errorCodes(first)).toEqual([]);
    const again = await list(justice, person, '2010一中刑初字第1234号');
    expect(errorCodes(await t.gql(police, REMOVE, { id: first.data.addBarredPerson.id }))).toEqual([]);
    expect([refusals(again), await check(person)]).toEqual([[['BAD_USER_INPUT', 'input.judgementReference']], 'CLEAR']);
  });

  // Red team 37: the key dropped every run of characters that are neither letters nor numbers before
  // it folded compatibility forms (NFKC). Numbers copied out of a PDF come with Kangxi radicals — `⼀`
  // (U+2F00), `⼆` (U+2F06), symbols NFKC folds to 一 and 二 — and `(2010)⼀中刑初字第1234号` (the No. 1
  // court) and `(2010)⼆中…` (No. 2) both keyed as `2010中刑初字1234号`, as did `第⼀⼆三四号` and
  // `第⼆⼀三四号` (1234 and 2134): the second court's bar refused as already listed.
  it('lists two judgements of two courts, or of two numbers, written with Kangxi radicals, as two bars', async () => {
    const person = buildIdNumber('110102', '1976-05-06', 371);
    expect(errorCodes(await list(police, person, '(2010)⼀中刑初字第1234号'))).toEqual([]);
    const otherCourt = await list(justice, person, '(2010)⼆中刑初字第1234号');
    expect(errorCodes(await list(police, person, '(2011)一中刑初字第⼀⼆三四号'))).toEqual([]);
    const otherNumber = await list(justice, person, '(2011)一中刑初字第⼆⼀三四号');
    expect([refusals(otherCourt), refusals(otherNumber)]).toEqual([[], []]);
  });

  // The same the other way: typed and pasted with `⼀` (drawn alike), one judgement keyed twice.
  it('lists (2010)一中刑初字第1234号 once however its 一 is encoded, and its revocation clears the person', async () => {
    const person = buildIdNumber('110102', '1976-05-06', 372);
    const first = await list(police, person, '(2010)一中刑初字第1234号');
    expect(errorCodes(first)).toEqual([]);
    const again = await list(justice, person, '(2010)⼀中刑初字第1234号');
    expect(errorCodes(await t.gql(police, REMOVE, { id: first.data.addBarredPerson.id }))).toEqual([]);
    expect([refusals(again), await check(person)]).toEqual([[['BAD_USER_INPUT', 'input.judgementReference']], 'CLEAR']);
  });

  // Red team 38: of the CJK Radicals Supplement (U+2E80–U+2EFF) NFKC folds only ⺟ and ⻳; the
  // simplified-form radicals a PDF holds for common characters — ⻓ for 长, ⻩ for 黄 — stayed symbols
  // and were dropped: `(2010)⻓中…` and `(2010)⻩中…`, two courts, keyed alike, and `⻓中` apart from
  // `长中`. Such a number is refused, not guessed at; written with its characters it is listed.
  it('refuses a judgement number written with a CJK Radicals Supplement form or a stroke, and lists it written with its characters', async () => {
    const person = buildIdNumber('110102', '1976-05-06', 383);
    const first = await list(police, person, '(2010)长中刑初字第1234号');
    expect({
      radical: refusals(await list(justice, person, '(2010)\u2ED3中刑初字第1234号')),
      otherRadical: refusals(await list(justice, person, '(2010)\u2EE9中刑初字第1234号')),
      stroke: refusals(await list(justice, person, '(2010)\u31D0中刑初字第1234号')),
      characters: refusals(await list(justice, person, '(2010)黄中刑初字第1234号')),
      listed: refusals(first),
    }).toEqual({
      radical: [['BAD_USER_INPUT', 'input.judgementReference']],
      otherRadical: [['BAD_USER_INPUT', 'input.judgementReference']],
      stroke: [['BAD_USER_INPUT', 'input.judgementReference']],
      characters: [],
      listed: [],
    });
  });

  // Red teams 40 and 41: enclosed and bracketed numbers.
  // 7cf2504 folds HAN_VARIANT (U+3200–U+33FF among them) with NFKC before anything else. That block
  // holds the circled numbers 21–50 (㉑ U+3251 … ㊿ U+32BF), numbers by themselves (\p{No}) which
  // SINGLE parts as it parts ①②: folded first they are plain digits, so `㉑㉒号` (21 and 22, as
  // `①②号` is 1 and 2, docs/workflows.md) is keyed `2122号` — before 7cf2504 it was `21-22号` —
  // and judgement 2122 of the same person is taken as already listed (a revocation takes both).
  it('keys circled numbers past 20 apart from the digits they fold to, as it keys ①② apart from 12', async () => {
    // Pinned: ①② is not 12.
    const pinned = buildIdNumber('110102', '1975-03-04', 401);
    expect(refusals(await list(police, pinned, '(2024)浙0102刑初12号'))).toEqual([]);
    expect(refusals(await list(police, pinned, '(2024)浙0102刑初①②号'))).toEqual([]);
    const person = buildIdNumber('110102', '1975-03-04', 403);
    expect(refusals(await list(police, person, '(2024)浙0102刑初2122号'))).toEqual([]);
    expect(refusals(await list(police, person, '(2024)浙0102刑初㉑㉒号'))).toEqual([]);
  });

  // The circled ideographs ㊀ ㊁ (U+3280, U+3281) are numbers by themselves too (\p{No}, each 1 and 2,
  // as ①②): folded first they are `一二` (12), and the judgement 一二号 of the person is taken as
  // listed. Before 7cf2504 they were parted (`一-二号`).
  it('keys circled ideograph numerals apart from the Chinese number they fold to', async () => {
    const person = buildIdNumber('110102', '1975-03-04', 405);
    expect(refusals(await list(police, person, '(2024)浙0102刑初一二号'))).toEqual([]);
    expect(refusals(await list(police, person, '(2024)浙0102刑初\u3280\u3281号'))).toEqual([]);
  });

  // Red team 41: bf1b790 made HAN_VARIANT skip \p{N}, so ㈠ (U+3220 PARENTHESIZED IDEOGRAPH ONE, in the
  // enclosed CJK block) is folded only by the final NFKC, after punctuation was dropped: its
  // brackets stay in the key (`…刑初(一)号`), while `(一)` written out is keyed `…刑初一号`. One
  // judgement, two keys: listed twice for one person, and revoking one leaves the person
  // RESTRICTED by the other. Before bf1b790 both keyed `…刑初一号`.
  it('keys a parenthesized ideograph number as the numeral written in brackets', async () => {
    const person = buildIdNumber('110102', '1975-03-04', 411);
    expect(refusals(await list(police, person, '(2024)浙0102刑初(一)号'))).toEqual([]);
    expect(refusals(await list(police, person, '(2024)浙0102刑初\u3220号'))).toEqual([['BAD_USER_INPUT', 'input.judgementReference']]);
  });

  // Older, of the same cause: a parenthesized digit ⑴ (U+2474) is never in HAN_VARIANT and is folded
  // last too: `⑴号` is keyed `(1)号`, apart from `1号` and `(1)号` written out.
  it('keys a parenthesized digit as the digit', async () => {
    const person = buildIdNumber('110102', '1975-03-04', 429);
    expect(refusals(await list(police, person, '(2024)浙0102刑初1号'))).toEqual([]);
    expect(refusals(await list(police, person, '(2024)浙0102刑初\u2474号'))).toEqual([['BAD_USER_INPUT', 'input.judgementReference']]);
  });
});
