import { statusForUser } from './support/audit-helpers';
import { startTestHub, type TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 40 (rt40a): the fixes of rounds 36–39 (eb7f93b..18b02a4) — user-id look-alikes
 * (7cf2504/f78e753 DRAWN_AS_ASCII, JAMO_OR_STROKE); its judgement-number tests are in employment.redteam28.
 * The EMPLOYMENT_CHECK refusals, nextCursor, sub-millisecond times and categories' ages held.
 */
describe('fixes of red teams 36–39 (redteam40)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe('user ids drawn as the hub’s ASCII ids', () => {
    // 7cf2504/f78e753 refuse `㇐` (CJK stroke), `ㅡ`/`ᅳ` (jamo) and `ㅣ` beside Latin as drawn as `-` and
    // `l`, and ⏐ ❘ │ anywhere as drawn as `l`. The same strokes are written by other code points the
    // rules never look at: the Han character 一 (U+4E00) and the Bopomofo letter ㄧ (U+3127) are the
    // very horizontal stroke ㇐/ㅡ are: `police一officer一1` is drawn as the default `police-officer-1`.
    it('refuses a user id with a Han or Bopomofo stroke standing alone between Latin letters for a hyphen', async () => {
      expect({
        // Pinned: the stroke and jamo refused since f78e753, and names with 一 in a Chinese word.
        cjkStroke: await statusForUser(t, 'police\u31D0officer\u31D01'),
        jamo: await statusForUser(t, 'police\u3161officer\u31611'),
        tanaka: await statusForUser(t, 'tanaka-一郎'),
        li: await statusForUser(t, 'li-一鸣'),
      }).toEqual({ cjkStroke: 401, jamo: 401, tanaka: 200, li: 200 });
      expect({
        hanOne: await statusForUser(t, 'police\u4E00officer\u4E001'),
        bopomofoI: await statusForUser(t, 'police\u3127officer\u31271'),
      }).toEqual({ hanOne: 401, bopomofoI: 401 });
    });

    // 𝄀 (U+1D100 MUSICAL SYMBOL SINGLE BARLINE) and ¦ (U+00A6 BROKEN BAR) are the bar ⏐ is, 𝄖 (U+1D116
    // MUSICAL SYMBOL ONE-LINE STAFF) the line ⎼ is: symbols (So) of blocks DRAWN_AS_ASCII does not list.
    it('refuses a user id drawing an l with a bar symbol outside the blocks DRAWN_AS_ASCII names', async () => {
      expect({
        // Pinned: ⏐ (Miscellaneous Technical) refused since 7cf2504.
        verticalLineExtension: await statusForUser(t, 'po\u23D0ice-officer-1'),
      }).toEqual({ verticalLineExtension: 401 });
      expect({
        musicalBarline: await statusForUser(t, 'po\u{1D100}ice-officer-1'),
        brokenBar: await statusForUser(t, 'po\u00A6ice-officer-1'),
        musicalOneLineStaff: await statusForUser(t, 'police\u{1D116}officer-1'),
      }).toEqual({ musicalBarline: 401, brokenBar: 401, musicalOneLineStaff: 401 });
    });

    // JAMO_OR_STROKE is judged only where a Latin letter stands (`LATIN.test`), but ASCII digits and
    // the hyphen are no Latin letters: a staff number `10086-1` is drawn again, with ㅡ (U+3161), ᅳ
    // (U+1173) or ㇐ (U+31D0) for its hyphen, by an id that carries no Latin at all — while the hyphen
    // U+2010 in its place is refused (COMMON_SIGN).
    it('refuses a user id with a jamo or a CJK stroke for the hyphen of a staff number, as it refuses U+2010 there', async () => {
      expect({ plain: await statusForUser(t, '10086-1'), hyphenU2010: await statusForUser(t, '10086\u20101') }).toEqual({ plain: 200, hyphenU2010: 401 });
      expect({
        compatibilityJamo: await statusForUser(t, '10086\u31611'),
        conjoiningJamo: await statusForUser(t, '10086\u11731'),
        cjkStroke: await statusForUser(t, '10086\u31D01'),
      }).toEqual({ compatibilityJamo: 401, conjoiningJamo: 401, cjkStroke: 401 });
    });

    // README (src/auth/README.md): `张三‐1` (U+2010) is refused as passing for `张三-1`. JAMO_OR_STROKE
    // only looks beside Latin, so the stroke ㇐ and the jamo ㅡ — which no Chinese name is written with
    // ("a Chinese one in characters") and no Korean one ("in syllables") — pass for that hyphen
    // beside Han or Hangul syllables.
    it('refuses a user id with a CJK stroke, a lone jamo or a kana length mark drawn as a hyphen after a Chinese or Korean name', async () => {
      expect({ hyphen: await statusForUser(t, '张三\u20101'), korean: await statusForUser(t, 'kim-김민준') }).toEqual({ hyphen: 401, korean: 200 });
      expect({
        strokeAfterHan: await statusForUser(t, '张三\u31D01'),
        jamoAfterHan: await statusForUser(t, '张三\u31611'),
        jamoAfterHangul: await statusForUser(t, '김민준\u31611'),
        // The kana prolonged sound marks, `drawn as a hyphen` (token.service KANA_MARKS), after a Han
        // letter: no kana word, yet refused only when Latin stands beside (`police-中ｰ1`).
        halfWidthKanaMarkAfterHan: await statusForUser(t, '张三\uFF701'),
        kanaMarkAfterHan: await statusForUser(t, '张三\u30FC1'),
      }).toEqual({ strokeAfterHan: 401, jamoAfterHan: 401, jamoAfterHangul: 401, halfWidthKanaMarkAfterHan: 401, kanaMarkAfterHan: 401 });
    });
  });
});
