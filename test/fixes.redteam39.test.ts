import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { statusForUser } from './support/audit-helpers';
import { errorCodes, startTestHub, type TestHub } from './support/test-hub';

jest.setTimeout(180_000);

/**
 * Red team 39: the fixes of round 38 — look-alikes drawn as ASCII in user ids (f78e753
 * DRAWN_AS_ASCII), judgement numbers refusing CJK radicals and strokes (f78e753 RADICAL_OR_STROKE).
 */

const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;

/** What a response refused, as [code, field, message]. */
const refusals = (json: any) => (json?.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field ?? null, e.message]);

describe('fixes of red team 38 (redteam39)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  // f78e753 refuses the box-drawing block (U+2500–U+257F) and three white circles (○ ◯ ◦) by code point,
  // but the same glyphs sit in other blocks: the scan lines ⎺⎻⎼⎽ and ⏤ (Miscellaneous Technical) are a
  // horizontal stroke a letter wide, drawn as `-` like ─; ⎸ ⎹ (LEFT/RIGHT VERTICAL BOX LINE), ⏐ and ❘
  // are the bar │ is, drawn as `l`; ◌ ⚪ ⚬ ⭘ ◎ are the white circle ○ is, drawn as `o`; ➖ is a minus;
  // ▁ (Block Elements, beside the box-drawing block) is an underscore, ✕ an `x` (× itself is refused).
  it('refuses a user id drawing a hyphen, an l or an o with a line or circle symbol outside the box-drawing block', async () => {
    // Pinned: the ones f78e753 lists are refused, and names with symbols of their own stay.
    expect({
      boxLine: await statusForUser(t, 'police\u2500officer-1'),
      whiteCircle: await statusForUser(t, 'p\u25CBlice-officer-1'),
      korean: await statusForUser(t, 'kim-김민준'),
      emoji: await statusForUser(t, '小明👍🏽'),
    }).toEqual({ boxLine: 401, whiteCircle: 401, korean: 200, emoji: 200 });
    expect({
      scanLine: await statusForUser(t, 'police\u23BCofficer\u23BC1'),
      straightness: await statusForUser(t, 'police\u23E4officer-1'),
      heavyMinus: await statusForUser(t, 'police\u2796officer-1'),
      leftBoxLine: await statusForUser(t, 'po\u23B8ice-officer-1'),
      verticalLineExtension: await statusForUser(t, 'po\u23D0ice-officer-1'),
      lightVerticalBar: await statusForUser(t, 'po\u2758ice-officer-1'),
      dottedCircle: await statusForUser(t, 'p\u25CClice-officer-1'),
      mediumWhiteCircle: await statusForUser(t, 'p\u26AAlice-officer-1'),
      mediumSmallWhiteCircle: await statusForUser(t, 'p\u26AClice-officer-1'),
      heavyCircle: await statusForUser(t, 'p\u2B58lice-officer-1'),
      bullseye: await statusForUser(t, 'p\u25CElice-officer-1'),
      lowerEighthBlock: await statusForUser(t, 'police\u2581officer-1'),
      multiplicationX: await statusForUser(t, 'police-bo\u2715-1'),
    }).toEqual({
      scanLine: 401,
      straightness: 401,
      heavyMinus: 401,
      leftBoxLine: 401,
      verticalLineExtension: 401,
      lightVerticalBar: 401,
      dottedCircle: 401,
      mediumWhiteCircle: 401,
      mediumSmallWhiteCircle: 401,
      heavyCircle: 401,
      bullseye: 401,
      lowerEighthBlock: 401,
      multiplicationX: 401,
    });
  });

  // The CJK strokes f78e753 refuses in a judgement number (`㇐` U+31D0, a horizontal stroke) pass in a
  // user id beside Latin, drawn as the `-` the hub's ids are written with, as ᅳ and ㅡ were.
  it('refuses a user id with a CJK stroke standing beside Latin for a hyphen or an l', async () => {
    expect({
      horizontal: await statusForUser(t, 'police\u31D0officer\u31D01'),
      vertical: await statusForUser(t, 'po\u31D1ice-officer-1'),
    }).toEqual({ horizontal: 401, vertical: 401 });
  });

  // judgementKey drops symbols before NFKC; f78e753 refuses the radicals and strokes NFKC leaves, but
  // the Kanbun annotation marks (㆖ U+3196 上, ㆘ U+3198 下) and the circled ideographs (㊤ U+32A4 上,
  // ㊦ U+32A6 下) are symbols (So) with a compatibility mapping: dropped before NFKC could fold them,
  // `(2010)杭㆖刑初字第12号` (the 杭上 court) keyed as `(2010)杭刑初字12号`, one with 杭下's judgement.
  describe('judgement numbers written with an annotation mark or a circled ideograph', () => {
    const list = (token: string, idNumber: string, judgementReference: string) =>
      t.gql(token, ADD, { input: { idNumber, name: '王某', offence: 'SEXUAL_HARM', judgementReference } });

    it('does not take another court’s judgement as already listed when numbers hold ㆖ and ㆘ (Kanbun marks for 上 and 下)', async () => {
      const police = await t.token(Department.POLICE, { user: 'rt39-police' });
      const person = buildIdNumber('110102', '1976-05-06', 391);
      const marked = await list(police, person, '(2010)杭\u3196刑初字第12号');
      const otherCourt = await list(police, person, '(2010)杭\u3198刑初字第12号');
      // Either the marked number is refused (as ⻓ is) or 杭下's judgement is a judgement of its own.
      expect(errorCodes(marked).length === 0 ? refusals(otherCourt) : []).toEqual([]);
    });

    it('does not take another court’s judgement as already listed when numbers hold ㊤ and ㊦ (circled 上 and 下)', async () => {
      const police = await t.token(Department.POLICE, { user: 'rt39-police' });
      const person = buildIdNumber('110102', '1976-05-06', 393);
      const marked = await list(police, person, '(2010)杭\u32A4刑初字第12号');
      const otherCourt = await list(police, person, '(2010)杭\u32A6刑初字第12号');
      expect(errorCodes(marked).length === 0 ? refusals(otherCourt) : []).toEqual([]);
    });
  });
});
