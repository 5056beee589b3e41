import { createRemoteJWKSet, importSPKI, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import type { KeyObject } from 'node:crypto';
import { HubConfig } from '../config/hub.config';
import { devSecret } from '../config/secrets';
import { INVISIBLE, isRegionCode, isWellFormed } from '../common/validation';
import { ASCII_LOOKALIKE_LETTER } from './ascii-lookalikes';
import { HubErrorCode, HubException, IDENTITY_PROVIDER_RETRY_AFTER_SECONDS, unauthenticated } from '../errors/hub.exception';
import { Department, isDepartment, isRole, Principal, Role } from './principal';

const MAX_VERIFIED = 10_000;
/**
 * Seconds an issuer's clock may run ahead of ours: a token whose `nbf` or `iat` lies at most this
 * far in the future is accepted. `exp` and the maximum token age get no tolerance.
 */
export const CLOCK_TOLERANCE_SECONDS = 30;

type VerifyKey = Uint8Array | KeyObject | JWTVerifyGetKey | Awaited<ReturnType<typeof importSPKI>>;

/**
 * What an auditor cannot see, or cannot tell apart: controls, format characters (zero-width,
 * bidirectional overrides), line separators, every other INVISIBLE character (Hangul fillers,
 * variation selectors, the combining grapheme joiner, the blank braille pattern), private-use and
 * unassigned code points (drawn as the same box), and any space but U+0020.
 */
const UNSEEN_IN_ID = new RegExp(String.raw`[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|${INVISIBLE.source}|(?! )\p{Zs}`, 'u');

/**
 * A subject the audit trail can store as it is and an auditor can read as it is: 1–200
 * characters; no unpaired surrogate and no NUL (Postgres refuses both, and one event that cannot
 * be written fails its whole group commit); nothing UNSEEN_IN_ID, no space at either end or two
 * in a row, and in NFC (`José`, never `Jose` + a combining accent) — each would let two ids look
 * alike to an auditor, or one pass for the hub's own (`hub:`).
 */
const isUserId = (sub: unknown): sub is string =>
  typeof sub === 'string' &&
  sub !== '' &&
  isWellFormed(sub) &&
  Array.from(sub).length <= 200 &&
  !UNSEEN_IN_ID.test(sub) &&
  !/^ | $| {2}/.test(sub) &&
  sub.normalize('NFC') === sub;

/** Scripts whose letters pass for Latin ones (һ, υ, ս, Ь, Ꭵ, Ⲏ) and for each other: an id mixing two of them is a disguise. */
const LOOKALIKE_SCRIPTS = [
  /\p{Script=Greek}/u,
  /\p{Script=Cyrillic}/u,
  /\p{Script=Armenian}/u,
  /\p{Script=Cherokee}/u,
  /\p{Script=Coptic}/u,
];
const LATIN = /\p{Script=Latin}/u;
/**
 * A letter of a script other than Latin and those of HOME: beside Latin, any of them may be a
 * disguise — the five above and the many a hand list missed (Lisu `ꓑ` for P, Canadian syllabics
 * `ᗷ` for B, Tifinagh `ⵔ` for O) alike. Not the turned and reversed commas `ʻ` and `ʼ`, letters
 * Uzbek, Hawaiian and Ukrainian Latin spell with (`Gʻulomov`), drawn as the quotation marks kept.
 */
const FOREIGN_LETTER =
  /(?![\u02BB\u02BC\p{Script=Latin}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}\p{Script=Arabic}\p{Script=Tibetan}\p{Script=Mongolian}\p{Script=Yi}\p{Script=Hebrew}\p{Script=Thai}])\p{L}/u;

/**
 * Letters Unicode gives to no script but those of the word they are written in — kana's prolonged
 * sound mark `ー` (`コーチ`, half-width `ｰ`), its voicing and repeat marks, Bopomofo's tone marks
 * (`ㄨㄤˊ`), Arabic's tatweel `ـ` (`عـلي`) — right after a letter of that word's script, or its
 * combining marks (`عَـلي`, `コ゚ー`): there
 * they are of HOME, not FOREIGN_LETTER. Anywhere else beside Latin they stay foreign: `ｰ` and `ـ`
 * are drawn as a hyphen and an underscore, so `police-中ｰ1` (a Han letter is no kana) or
 * `police-、ｰ1` is refused.
 */
const KANA_MARKS = '\u3031-\u3035\u303C\u30FC\uFF70\uFF9E\uFF9F';
/**
 * A letter of one of `scripts`, not any character of them: they hold digits, punctuation and
 * symbols too (Arabic's `١`, `۔`, `۞`; kana's `㋐`; Bopomofo's `˪`), after which a mark is no word's.
 */
const letterOf = (...scripts: string[]): string => String.raw`(?=[${scripts.map((s) => String.raw`\p{Script=${s}}`).join('')}])\p{L}`;
const TONE_MARKS = '\u02C7\u02C9-\u02CB';
/**
 * The Arabic letters that join nothing on their left (alef, dal, ra, waw, ta marbuta and their kin,
 * hamza): a tatweel after one stretches no join and stands alone, drawn as an underscore
 * (`police-اـ1`, alef being drawn as the `١` STRAY_SIGN refuses). Nor does one before no Arabic letter.
 */
const JOINS_NO_LEFT = '\u0621-\u0625\u0627\u0629\u062F-\u0632\u0648\u0671-\u0677\u0688-\u0699\u06C0\u06C3-\u06CB\u06CD\u06CF\u06D2\u06D3\u06D5\u06EE\u06EF';
const IN_A_WORD_OF_ITS_SCRIPT = new RegExp(
  String.raw`(?<=${letterOf('Hiragana', 'Katakana')}[\p{M}${KANA_MARKS}]*)[${KANA_MARKS}]|(?<=${letterOf('Bopomofo')}[\p{M}${TONE_MARKS}]*)[${TONE_MARKS}]|(?<=(?![${JOINS_NO_LEFT}])${letterOf('Arabic')}[\p{M}\u0640]*)\u0640(?=[\p{M}\u0640]*${letterOf('Arabic')})`,
  'gu',
);

/**
 * A mark, digit, punctuation mark or symbol of a script of its own (not Latin, not Common or
 * Inherited): Devanagari's visarga `ः`, Tibetan's rnam bcad `ཿ` and Hebrew's sof pasuq `׃` pass for a
 * colon (`policeः1` for `police:1`), Arabic's `١` for a one (`张三١`) — unless in a word of its own
 * script (SIGN_IN_A_WORD_OF_ITS_SCRIPT): after a letter of another, `police-中ः1` passed for `police-中:1`.
 */
const OWN_SIGN = /(?![\p{L}\p{Script=Common}\p{Script=Inherited}\p{Script=Latin}])[\p{M}\p{N}\p{P}\p{S}]/u;
/**
 * The scripts whose letters are allowed beside Latin (FOREIGN_LETTER), kana as one: a sign of one
 * of them right after a letter of it, or after its signs and combining marks (`ali-علي١`, `ali-عَلي١٢`).
 */
const WORD_SCRIPTS = [['Han'], ['Hiragana', 'Katakana'], ['Hangul'], ['Bopomofo'], ['Arabic'], ['Tibetan'], ['Mongolian'], ['Yi'], ['Hebrew'], ['Thai']];
const SIGN_IN_A_WORD_OF_ITS_SCRIPT = new RegExp(
  WORD_SCRIPTS.map((scripts) => {
    const of = scripts.map((x) => String.raw`\p{Script=${x}}`).join('');
    return String.raw`(?<=${letterOf(...scripts)}(?:(?=[${of}\p{Script=Inherited}])[\p{M}\p{N}\p{P}\p{S}])*)(?=[${of}])[\p{M}\p{N}\p{P}\p{S}]`;
  }).join('|'),
  'gu',
);
const isStraySign = (sub: string) => OWN_SIGN.test(sub.replace(SIGN_IN_A_WORD_OF_ITS_SCRIPT, ''));

/**
 * A digit, dash, connector, other punctuation mark, or mathematical, modifier or currency symbol that
 * is no ASCII one, yet of no script (Common): the hyphen U+2010, the minus U+2212 and the modifier minus `˗` are drawn as `-`
 * (`police‐officer‐1` for the default `police-officer-1`, `张三‐1` for `张三-1`), the ratio `∶` and
 * `⁚` as a colon, `․` as a full stop, the low quotation mark `‚` as a comma. Quotation marks and
 * brackets stay (`O’Brien`, `李明（民政）`), other symbols (emoji, and their skin tones, which Unicode
 * counts as modifier symbols: `小明👍🏽`) pass for no ASCII character, and WORD_PUNCTUATION.
 */
const COMMON_SIGN = /(?=\p{Script=Common})(?![\u0000-\u007f\u{1F3FB}-\u{1F3FF}])(?:[\p{N}\p{Pd}\p{Pc}\p{Po}\p{Sm}\p{Sk}\p{Sc}]|[\u201A\u201E])/u;
/**
 * The punctuation a Han, kana, Hangul or Bopomofo word is typed with — `、`, `。`, `・`, the name
 * separator `·` (`阿卜杜拉·买买提`) and the full-width forms (`李明：民政`) — right after a letter of it
 * or its punctuation (`tanaka-ジョン・スミス`, `li-北京、上海`), and the Arabic comma, semicolon and
 * question mark right after an Arabic letter: drawn in a word of those scripts, not as ASCII's.
 */
const CJK_PUNCTUATION = '\u00B7\u3001\u3002\u30FB\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65';
const WORD_PUNCTUATION = new RegExp(
  String.raw`(?<=${letterOf('Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo')}[\p{M}${KANA_MARKS}${CJK_PUNCTUATION}]*)[${CJK_PUNCTUATION}]|(?<=${letterOf('Arabic')}\p{M}*)[\u060C\u061B\u061F]`,
  'gu',
);
const isCommonSign = (sub: string) => COMMON_SIGN.test(sub.replace(WORD_PUNCTUATION, ''));

/**
 * Letters that pass for ASCII characters where no script is mixed: a Latin one (`pᴏlice`,
 * `teacher-ǀi`, `policeǃ`), a word of another script all of whose letters do beside anything but
 * spaces and words of such scripts (`јое-1` for `joe-1`, `teacher-اi` for `teacher-li`, `张јое`,
 * `张三ː1` for `张三:1`) — a name in one such script alone stays (`Тарас`, `Сара Иванова`), though
 * `јое` alone is drawn as `joe` —, or a mark on an ASCII letter or a dotless `ı` or `ȷ`, which NFC
 * leaves only where no letter has it (`poli\u0307ce`: `i` drawn with its dot once; `Fọlákẹ́`'s tone
 * on `ẹ` stays). Han, kana, Hangul and Bopomofo words are not looked at: none of their letters but
 * `〇`, `丿`, `丶` and `ノ` is drawn as ASCII, and those are common in names (`山ノ内`).
 */
const LOOKALIKE_WORD = /(?:(?![\p{Script=Latin}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}])\p{L}\p{M}*)+/gu;
const BESIDE_A_LOOKALIKE_WORD = /[\u0021-\u007e\p{Script=Latin}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u;
const passesForAscii = (sub: string): boolean =>
  Array.from(sub).some((c) => LATIN.test(c) && ASCII_LOOKALIKE_LETTER.test(c)) ||
  (BESIDE_A_LOOKALIKE_WORD.test(sub) &&
    (sub.match(LOOKALIKE_WORD) ?? []).some((word) => Array.from(word.replace(/\p{M}/gu, '')).every((c) => ASCII_LOOKALIKE_LETTER.test(c)))) ||
  /[\u0000-\u007f\u0131\u0237]\p{M}/u.test(sub);

/**
 * A compatibility form of ASCII letters or digits: a character whose NFKC form is those —
 * mathematical letters and digits (`𝗉𝗈𝗅𝗂𝖼𝖾-𝗈𝖿𝖿𝗂𝖼𝖾𝗋-𝟣` is `police-officer-1` drawn again), full-width
 * ones (`ｐｏｌｉｃｅ`, `张三１`), superscripts, ligatures (`ﬁ`). In any id, Latin beside or not. Not
 * full-width punctuation, which Chinese is typed with (`李明（民政）`): COMMON_SIGN judges that.
 */
/**
 * Characters no name is written with that are drawn as ASCII, in any id: the half-width Hangul
 * letters and symbols (U+FFA0–U+FFEE, legacy terminal forms: `ￚ` a stroke, drawn as `-`, `ﾷ` and `￮`
 * circles, drawn as `o`, `￨` a bar, drawn as `l`); the Kangxi radicals and the CJK Radicals Supplement
 * (`⼀` for `一`, a stroke drawn as `-`); and every symbol of no script (the broken bar `¦`, the musical
 * barline `𝄀` and staff line `𝄖`, `〓`) but emoji and flags outside the blocks of lines, shapes and
 * signs — Miscellaneous Technical (`⎼`, `⏐`), box drawing, block elements and geometric shapes (`─`,
 * `▁`, `○`, `◌`), miscellaneous symbols and dingbats (`⚪`, `❘`, `✕`), miscellaneous symbols and arrows
 * (`⭘`) and their extensions (`🞅`, `🭹`): a hand list of the ones drawn as `-`, `l`, `o` or `x` always
 * missed some, and an id needs none. Emoji stay (`小明👍🏽`); mathematical symbols are COMMON_SIGN's.
 * And Hangul jamo alone — compatibility (`ㅡ`, `ㅣ`, `ㅇ`), conjoining (`ᅳ`, `ᅵ`, `ᄋ`) and their
 * extensions — and CJK strokes (`㇐`, `㇑`), drawn as `-`, `l` and `o`, Latin beside or not
 * (`10086ㅡ1`, `张三㇐1`): a Korean name is written in syllables (`kim-김민준`), a Chinese one in characters.
 */
const DRAWN_AS_ASCII =
  /[\uFFA0-\uFFEE\u2E80-\u2FDF]|(?=\p{So})(?=\p{Script=Common})(?:[\u2300-\u23FF\u2500-\u27BF\u2B00-\u2BFF\u{1F780}-\u{1F7FF}\u{1FB00}-\u{1FBFF}]|(?![\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}]).)/u;
const JAMO_OR_STROKE = /[\u1100-\u11FF\u3131-\u318E\uA960-\uA97F\uD7B0-\uD7FF\u31C0-\u31EF]/u;
/**
 * Kana's marks, Bopomofo's tone marks and Arabic's tatweel outside a word of their script
 * (IN_A_WORD_OF_ITS_SCRIPT), in any id: `张三ー1` and `张三ｰ1` pass for `张三-1` as `police-中ｰ1` did.
 */
const SCRIPT_MARK = new RegExp(`[${KANA_MARKS}${TONE_MARKS}\u0640]`, 'u');
/**
 * The Han, kana and Bopomofo letters drawn as a stroke, a bar or a ring (`一`, `丨`, `丿`, `丶`, `〇`,
 * `工`, `ㄧ`, `ノ`, `エ`, `ニ` and half-width `ﾉ`, `ｴ`, `ﾆ`) standing alone — no letter of those scripts
 * or Hangul beside, nor a kana mark, `・` or a bracket — in an id holding ASCII or Latin:
 * `police一officer一1` is drawn as `police-officer-1`. In a word they stay (`tanaka-一郎`, `山ノ内`,
 * `nina-ニーナ`, `张伟(一)`).
 */
const EAST_ASIAN_WORD = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}${KANA_MARKS}\u30FB()（）`;
const LONE_STROKE = new RegExp(`(?<![${EAST_ASIAN_WORD}])[一丨丿丶〇工ㄧノエニﾉｴﾆ](?![${EAST_ASIAN_WORD}])`, 'u');
const ASCII_OR_LATIN = /[\u0021-\u007e\p{Script=Latin}]/u;
const isDrawnAsAscii = (sub: string) =>
  DRAWN_AS_ASCII.test(sub) ||
  JAMO_OR_STROKE.test(sub) ||
  SCRIPT_MARK.test(sub.replace(IN_A_WORD_OF_ITS_SCRIPT, '')) ||
  (ASCII_OR_LATIN.test(sub) && LONE_STROKE.test(sub));

const isAsciiCompatibility = (sub: string) => Array.from(sub).some((c) => c > '\u007f' && /^[A-Za-z0-9]+$/.test(c.normalize('NFKC')));

/**
 * What ids here are written in: ASCII, the letters of Latin-1 and Latin Extended-A (`Huß`, and
 * Vietnamese or Turkish once their marks are dropped), and those of Han, kana, Hangul and Bopomofo,
 * and of the scripts names in China and its neighbours are written in besides (Arabic for Uyghur,
 * Tibetan, Mongolian, Yi, Hebrew, Thai), none of whose letters passes for h, u or b.
 * Any other character may pass for h, u or b — a symbol (`∪`), a letter of another script (`ᗷ`,
 * `ሀ`, `һ`) or of Latin past Extended-A (`ɓ`, `ʜ`) — and a hand list of them always missed some.
 */
const HOME = /^(?:[\u0000-\u007f]|(?=\p{L})[\u00c0-\u017f\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}\p{Script=Arabic}\p{Script=Tibetan}\p{Script=Mongolian}\p{Script=Yi}\p{Script=Hebrew}\p{Script=Thai}])$/u;
/** The letters of HOME that pass for ones of `hub`: ħ (Unicode's confusables), and 凵 and the Bopomofo ㄩ made from it, drawn as a U. */
const HOME_LOOKALIKE: Record<string, string> = { ħ: 'h', 凵: 'u', ㄩ: 'u' };
/** Non-spacing marks and invisible characters, dropped before looking: `h\u034Fub:` reads as `hub:`. */
const UNSEEN = new RegExp(String.raw`[\p{Mn}\p{Me}]|${INVISIBLE.source}`, 'gu');

/**
 * What may follow `hub` in a word (`hubert`, `hubei-1`, `hubøe`, `Иванов`): an ASCII letter,
 * digit or hyphen, a letter of Latin-1 or Latin Extended-A, or a cased letter of a script other
 * than Latin. Not any letter or digit: uncased letters include ones drawn as a colon (`ː`, `ꓽ`),
 * a dot (`ᐧ`, `ꞏ`, `ㆍ`), a `!` (`ǃ`) or a `'` (`י`); other digits, a dot (`٠`); Latin's cased
 * letters past Extended-A, a `'` (`ꞌ`) or a `?` (`ɂ`). The cased letters of other scripts drawn as
 * punctuation (Cherokee `Ꭾ` a `?`, Coptic `Ⳇ` a `/`) are of LOOKALIKE_SCRIPTS, refused beside
 * Latin. So an id opening with three characters outside HOME and going on in a script without
 * case (Arabic, Hebrew, Thai, Tibetan…) is refused, as is one of just three such characters.
 */
const WORD_GOES_ON = /^(?:[a-z0-9-]|(?=\p{L})[\u00c0-\u017f]|(?!\p{Script=Latin})\p{LC})$/u;

/**
 * Whether an id reads as `hub` then anything but more of a word (or nothing): with compatibility
 * forms and case folded and marks dropped, each of its first three characters is the letter of
 * `hub`, its lookalike in HOME or anything outside HOME, and the fourth is not WORD_GOES_ON — so a
 * colon in any of its many spellings (`⁚`, `᛬`, `꞉`, `ः`), or any punctuation that could stand for
 * one, is refused.
 */
const readsAsHub = (sub: string): boolean => {
  const seen = Array.from(sub.normalize('NFKD').toLowerCase().normalize('NFKD').replace(UNSEEN, ''));
  const passes = (c: string | undefined, letter: string) =>
    c !== undefined && (c === letter || HOME_LOOKALIKE[c] === letter || !HOME.test(c));
  return passes(seen[0], 'h') && passes(seen[1], 'u') && passes(seen[2], 'b') && !WORD_GOES_ON.test(seen[3] ?? '');
};

/**
 * Whether a user id is, or could pass for, one of the hub's own: reads as `hub:` in any case,
 * width or lookalike spelling (`ʜᴜʙ:`, `h\u034Fub:`, `hub꞉`, `huɓ⁚`), or mixes letters of two
 * scripts that look alike (`һub:` with a Cyrillic һ, `officer-lі`, `ꓑolice-1` with a Lisu ꓑ). A
 * token may carry neither.
 */
const isSystemLookalike = (sub: string): boolean => {
  if (readsAsHub(sub) || isAsciiCompatibility(sub) || passesForAscii(sub) || isDrawnAsAscii(sub)) return true;
  if ([LATIN, ...LOOKALIKE_SCRIPTS].filter((script) => script.test(sub)).length > 1) return true;
  const foreign = FOREIGN_LETTER.test(sub) && FOREIGN_LETTER.test(sub.replace(IN_A_WORD_OF_ITS_SCRIPT, ''));
  if (LATIN.test(sub) && foreign) return true;
  // A script's own signs are judged where every letter is of Latin or HOME's scripts: a word of
  // another script has signs of its own (Devanagari's vowel signs), and beside Latin it is refused
  // above. Signs of no script are judged in every id (`Иван‐1` for `Иван-1`).
  return isCommonSign(sub) || (!foreign && isStraySign(sub));
};

/** A subject a client token may carry: a user id (isUserId) that is not, and could not pass for, one of the hub's own. */
export const isTokenSubject = (sub: unknown): sub is string => isUserId(sub) && !isSystemLookalike(sub);

/**
 * User ids of the hub's own work in the trail (`hub:webhook-delivery`): no token may carry one, so
 * that an event under such an id is the hub's, and a person cannot pass their reads off as it.
 */
export const SYSTEM_USER_PREFIX = 'hub:';

/**
 * When each verified caller's token stops being valid (epoch ms), by the frozen principal verify()
 * hands out for it: a request is authenticated at its headers and served once its body is in, which
 * the client times — a token that expired in between is refused then too (HttpAudit.instant).
 */
const EXPIRIES = new WeakMap<Principal, number>();

/** Whether the token `principal` was verified from has expired by now (false for a principal not from a client token). */
export const tokenExpired = (principal: Principal): boolean => (EXPIRIES.get(principal) ?? Infinity) <= Date.now();

/** How long a fetched key set of the identity provider is used before it is fetched again: a key it no longer lists is refused from then on. */
export const KEY_SET_MAX_AGE_SECONDS = 600;
/** The least time between two fetches for a key the set lacks (a token naming an unknown `kid`), so that made-up kids cannot make the hub hammer the provider. */
export const KEY_SET_COOLDOWN_SECONDS = 30;
/** How long after a failed fetch of the key set tokens that need it are answered IDENTITY_PROVIDER_UNAVAILABLE without fetching again: what the answer's `Retry-After` says. */
export const KEY_SET_RETRY_SECONDS = IDENTITY_PROVIDER_RETRY_AFTER_SECONDS;

const keySetUnavailable = () =>
  new HubException(HubErrorCode.IDENTITY_PROVIDER_UNAVAILABLE, 'The identity provider’s keys could not be fetched to check the token; try again shortly');

/**
 * The identity provider's key set (HUB_JWKS_URL), every fetch of it decided here, not by jose (its
 * cache never goes stale nor cools down, `Infinity`): jose's failed fetch surfaced as the token's
 * fault — 401 "Invalid token", audited UNAUTHENTICATED as if forged — for every caller once the set
 * was ten minutes old, and was tried again by every request, through the provider's own outage.
 * A set that cannot be fetched again is not used past its age: a key removed from it (one that
 * leaked) would go on being accepted for as long as the provider is down.
 */
function remoteKeySet(url: URL): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { cacheMaxAge: Infinity, cooldownDuration: Infinity });
  let loadedAt = -Infinity;
  let failedAt = -Infinity;
  const reload = async () => {
    if (Date.now() - failedAt < KEY_SET_RETRY_SECONDS * 1000) throw keySetUnavailable();
    try {
      await remote.reload();
      loadedAt = Date.now();
    } catch (e) {
      failedAt = Date.now();
      console.error(`identity provider's key set not fetched (${url.origin}): ${(e as Error).message}`);
      throw keySetUnavailable();
    }
  };
  return async (header, token) => {
    if (Date.now() - loadedAt >= KEY_SET_MAX_AGE_SECONDS * 1000) await reload();
    try {
      return await remote(header, token);
    } catch (e) {
      // A key the provider has just published: fetched once the cooldown has passed.
      if ((e as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || Date.now() - loadedAt < KEY_SET_COOLDOWN_SECONDS * 1000) throw e;
      await reload();
      return remote(header, token);
    }
  };
}

/**
 * Verifies client bearer tokens. Dev: HS256 with the generated secret. Production: the
 * department identity provider's public key or JWKS. `alg: none` and every algorithm not listed
 * are refused by jose itself. Every token must say when it was issued (`iat`), and is refused
 * once older than HUB_TOKEN_MAX_AGE_SECONDS, whatever its `exp`.
 */
export class TokenService {
  /**
   * Tokens already verified, until their expiry (at most a minute): a machine client sends the
   * same token with every request, and signature checks were a measurable share of a look-up.
   * Keyed by the exact token text, so only a token that passed verification is ever found here.
   */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  private constructor(
    private readonly key: VerifyKey,
    private readonly algorithms: string[],
    private readonly config: HubConfig,
  ) {}

  static async create(config: HubConfig): Promise<TokenService> {
    if (config.jwt.jwksUrl) {
      return new TokenService(remoteKeySet(new URL(config.jwt.jwksUrl)), config.jwt.algorithms, config);
    }
    if (config.jwt.publicKeyPem) {
      const alg = config.jwt.algorithms[0];
      return new TokenService(await importSPKI(config.jwt.publicKeyPem, alg), config.jwt.algorithms, config);
    }
    return new TokenService(new TextEncoder().encode(devSecret(config.dataDir, 'jwt-secret')), ['HS256'], config);
  }

  /**
   * Throws UNAUTHENTICATED for anything but a valid, unexpired token with well-formed claims, or
   * IDENTITY_PROVIDER_UNAVAILABLE when the key to check it by could not be fetched.
   */
  async verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthenticated('Missing bearer token');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    const token = match[1];
    const hit = this.verified.get(token);
    if (hit && hit.until > Date.now()) return hit.principal;
    let payload;
    try {
      ({ payload } = await this.verifySignedBy(token));
    } catch (e) {
      if (e instanceof HubException) throw e;
      const expired = (e as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw unauthenticated(expired ? 'Token expired' : 'Invalid token');
    }
    // jose applies its tolerance to every check; expiry and age get none.
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = Math.min(payload.exp as number, (payload.iat as number) + this.config.jwt.maxTokenAgeSeconds);
    if (expiresAt <= now) throw unauthenticated('Token expired');
    const { sub, department, role, region } = payload as Record<string, unknown>;
    if (!isTokenSubject(sub) || !isDepartment(department) || !isRole(role) || !isRegionCode(region)) {
      throw unauthenticated('Token claims must carry sub, department, role and region');
    }
    // Frozen: the same object now serves every request bearing this token.
    const principal: Principal = Object.freeze({ userId: sub, department, role, region });
    EXPIRIES.set(principal, expiresAt * 1000);
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(token, { principal, until: Math.min(expiresAt * 1000, Date.now() + 60_000) });
    return principal;
  }

  /**
   * A token whose header names no key (`kid` is optional) while the provider's set holds several
   * of its type — as while the provider rolls its key — matches them all: jose leaves trying each
   * to its caller, and such tokens were refused as forged.
   */
  private async verifySignedBy(token: string) {
    const options = {
      algorithms: this.algorithms,
      issuer: this.config.jwt.issuer,
      audience: this.config.jwt.audience,
      requiredClaims: ['sub', 'exp', 'iat'],
      maxTokenAge: this.config.jwt.maxTokenAgeSeconds,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    };
    try {
      return await jwtVerify(token, this.key as never, options);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw e;
      for await (const key of e as unknown as AsyncIterable<KeyObject>) {
        try {
          return await jwtVerify(token, key, options);
        } catch (other) {
          if ((other as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw other;
        }
      }
      throw e;
    }
  }
}

export interface DevTokenRequest {
  department: Department;
  role: Role;
  region: string;
  userId: string;
  /** Seconds until expiry; negative values make an already-expired token (tests). */
  expiresIn?: number;
}

/** Signs a dev token with the secret in the data directory (what `npm run token` prints). */
export async function signDevToken(config: HubConfig, req: DevTokenRequest): Promise<string> {
  const secret = new TextEncoder().encode(devSecret(config.dataDir, 'jwt-secret'));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ department: req.department, role: req.role, region: req.region })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(req.userId)
    .setIssuer(config.jwt.issuer)
    .setAudience(config.jwt.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (req.expiresIn ?? 8 * 3600))
    .sign(secret);
}
