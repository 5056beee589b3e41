import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { ageOn, chinaDay } from '../../../common/dates';
import { idNumberBirthDate, requirePersonIdNumber } from '../../../common/id-number';
import { badInput, HubErrorCode, HubException, notFound } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { deadlineOf } from '../../../db/request-deadline';
import { CRIMINAL_RESPONSIBILITY_AGE, requireBarEnd, requireLine, requireText } from '../../../common/validation';
import { BarredPerson } from '../entities/barred-person.entity';
import { EmploymentCheckResult, RescreenResult } from '../entities/employment-check.entity';
import { EmploymentAnswer } from '../workflow.enums';
import { MAX_RESCREEN, personHash, requireRegistryKey, withFixedDuration } from '../workflow.employment';
import { isUuid } from '../../../common/uuid';
import { AFTER, newestFirst, pageAfter } from '../workflow.pages';
import { pageSize } from './report.resolver';
import { BarredPersonInput, EmploymentCheckInput, RescreenCandidateInput } from './types/employment.input';

/**
 * A numeral for the separator rule: any digit (ASCII, full-width, Arabic-Indic, circled, superscript,
 * Roman) and the Chinese numerals a number may be written in (一二、一三号: judgements 12 and 13).
 */
const NUMERAL = String.raw`[\p{N}〇一二三四五六七八九十百千万亿两廿卅壹贰叁肆伍陆柒捌玖拾佰仟]`;
/**
 * Chinese numerals written otherwise, as the one form the key compares: the zero typed as a circle
 * (○, ◯) or as 零, and the traditional capitals (貳 for 贰). Else `一○一一号` (judgement 1011) keyed
 * as `一、一一号` (judgements 1 and 11), and `壹貳壹參號` as `壹貳、壹參號`.
 */
const NUMERAL_FORMS: Readonly<Record<string, string>> = { '○': '〇', '◯': '〇', 零: '〇', 貳: '贰', 參: '叁', 叄: '叁', 陸: '陆', 萬: '万', 億: '亿', 兩: '两' };
/**
 * Han characters a text may hold as another code point than the one typed: the Kangxi radicals (⼀
 * U+2F00 for 一), the CJK compatibility ideographs (U+F9B2 for 零), the Kanbun marks (㆖ for 上), and
 * the enclosed and squared ideographs (㊤ for 上, 🈩 for 一). Taken as their compatibility form first:
 * else dropped as symbols with the punctuation (before NFKC could fold them), `(2010)⼀中` and
 * `(2010)⼆中`, `杭㆖` and `杭㆘`, keyed alike, and `⼀中` apart from `一中`. Not the numerals among
 * them (㉑, ㊀), numbers by themselves (SINGLE): folded first, `㉑㉒号` was `2122号`.
 */
const HAN_VARIANT = /(?!\p{N})[\u2E80-\u2FDF\u3190-\u319F\u3200-\u33FF\uF900-\uFAFF\u{1F200}-\u{1F2FF}\u{2F800}-\u{2FA1F}]/gu;
/**
 * The CJK Radicals Supplement and CJK strokes, which NFKC leaves as they are (all but ⺟ and ⻳) and
 * the key would drop as symbols: `(2010)⻓中` and `(2010)⻩中`, two courts, keyed alike. Refused at
 * listing rather than guessed at (no table in the runtime maps them to their characters).
 */
const RADICAL_OR_STROKE = /[\u2E80-\u2EFF\u31C0-\u31EF]/u;
/**
 * A vulgar fraction (½, ⅒, ↉), which no judgement's number holds: NFKC spells ½ `1⁄2`, and the key,
 * dropping the slash as a symbol, read `½号` as `12号`, another judgement.
 */
const VULGAR_FRACTION = /[\u00BC-\u00BE\u2150-\u215F\u2189]/u;
const NUMERAL_FORM = new RegExp(`[${Object.keys(NUMERAL_FORMS).join('')}]`, 'gu');
const NUMERAL_AT = new RegExp(`^${NUMERAL}`, 'u');
/**
 * A numeral that is a whole number by itself (①, ², Ⅻ): NFKC writes ①② as 12, Ⅺ、Ⅰ as XII. Not the
 * Chinese zero 〇 (a letter number to Unicode), a digit of the number it stands in (一〇一一号 is 1011).
 */
const SINGLE = String.raw`(?!〇)[\p{No}\p{Nl}]`;
/**
 * A numeral not written in digits (一, 〇, Ⅻ): where digits meet one, two numbers meet. The year of an
 * older number runs into a court named by a numeral (`2010一中刑初字`, the 一中 court), which brackets
 * part: `(2010)一中` and `2010一中` are one judgement.
 */
const NOT_DIGIT = String.raw`(?!\p{Nd})${NUMERAL}`;

/** The code point ending at `at` (the one before it), a surrogate pair read whole. */
const pointBefore = (text: string, at: number): string => {
  const low = text.charCodeAt(at - 1);
  return low >= 0xdc00 && low <= 0xdfff && at >= 2 ? text.slice(at - 2, at) : text.slice(Math.max(at - 1, 0), at);
};

/**
 * A judgement's number (案号) as compared, not as shown: courts and clerks write one number with
 * full-width or ASCII brackets and digits (`（2024）浙0102刑初123号`, `(2024)浙0102刑初123号`), with
 * the brackets of older numbers (`〔2015〕`, `【2015】`, `〖2015〗`) or none, with or without spaces, an
 * ordinal 第, zeros before the number, the traditional 號, a full stop after. Between two numerals any
 * run of other characters is one separator, and so is an ordinal 第, for they part numbers (`123-1号`
 * is not `1231号`, nor `12、13号` or `12、第13号` `1213号`, nor `45～46号` `4546号`, nor `〔2024〕第123号`
 * `2024123号`, nor `١٢-١٣号` `١٢١٣号`, nor `一二、一三号` `一二一三号`, the zero as 〇, ○ or 零 and traditional capitals read as one form); a numeral that is a number by
 * itself (①②, 1², ⅪⅠ) is parted from the next before compatibility forms are folded (NFKC), which
 * would join them; elsewhere only letters and digits are kept (the year's four digits are followed by
 * the court's code, which opens with a letter): white space, punctuation and symbols dropped, `<2024>`
 * and `＜2024＞` are brackets too, and so is what NFKC spells out of one character (`⑴` as `(1)`, `㈠`
 * as `(一)`); zeros before each number of the 号 dropped. Two judgements keyed alike are one to the
 * registry: a listing of the second is refused, a revocation takes both.
 */
const judgementKey = (reference: string): string =>
  reference
    .replace(HAN_VARIANT, (c) => c.normalize('NFKC'))
    .replace(/[\uFF01-\uFF5E]/gu, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(NUMERAL_FORM, (c) => NUMERAL_FORMS[c])
    .replace(new RegExp(`第(?=[^\\p{L}\\p{N}]*${NUMERAL})`, 'gu'), ' ')
    .replace(new RegExp(`(?<=${SINGLE})(?=${NUMERAL})|(?<=${NUMERAL})(?=${SINGLE})|(?<=\\p{Nd})(?=${NOT_DIGIT})|(?<=${NOT_DIGIT})(?=\\p{Nd})`, 'gu'), ' ')
    .replace(/[^\p{L}\p{N}]+/gu, (run: string, at: number, whole: string) =>
      NUMERAL_AT.test(pointBefore(whole, at)) && NUMERAL_AT.test(whole.slice(at + run.length, at + run.length + 2)) ? '-' : '',
    )
    .normalize('NFKC')
    // What NFKC spelt out of one character: `⑴` is `(1)`, `⒈` `1.`, `㈠` `(一)`.
    .replace(/[^\p{L}\p{N}-]+/gu, '')
    .replace(/號/gu, '号')
    .replace(/[\d-]+(?=号)/gu, (numbers) => numbers.replace(/(^|-)0+(?=\d)/g, '$1'))
    .toLowerCase();

/**
 * Serialises one employer's checks so that concurrent requests cannot overrun the limit. An
 * employer is its user id within the department that issued it: the same `sub` from another
 * department is someone else, with quotas of its own.
 */
async function lockEmployer(em: EntityManager, ctx: HubContext): Promise<void> {
  await em.query(`SELECT pg_advisory_xact_lock(hashtext('employment-check:' || $1 || ':' || $2))`, [ctx.principal.department, ctx.principal.userId]);
}

/**
 * Serialises the registry's writes with the checks that answer from it: a check (or re-screening)
 * holds it shared until it commits, a listing or revocation exclusively. A write dated before a
 * check that answered without it (on a gateway behind, or committed after the check had read the
 * registry) read as the registry barring a person the hub had answered CLEAR about, or revoked
 * before it answered RESTRICTED; under the lock a write comes after the checks before it, and is
 * dated after the latest (LATEST_CHECK_SQL).
 */
async function lockRegistry(em: EntityManager, mode: 'check' | 'write'): Promise<void> {
  await em.query(`SELECT ${mode === 'check' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(hashtext('employment-registry'))`);
}

/**
 * A millisecond after the latest check, no earlier than which a listing or revocation is dated: a
 * check counts a write dated at its own instant (CHECKED_AT_SQL), so a write dated at the check's
 * read as one it had answered from (migration 1795403400000 keeps it one index probe).
 */
const LATEST_CHECK_SQL = `(SELECT max(checked_at) + interval '1 millisecond' FROM workflow.employment_check)`;

/**
 * The time a check is dated (`$1` the request's now): now, or the registry's latest listing or
 * revocation if that is later. `ctx.now` is the clock of the gateway that took the check, and a
 * listing or a revocation taken on one ahead (distributed mode accepts 15 s) had been dated after the
 * check that answered from it: RESTRICTED before the bar was listed, CLEAR before it was revoked.
 * The registry's latest, not the candidate's: a check dated past now must not tell that this person
 * was listed, or revoked, a moment ago. Read in the statement that looks the candidate up, so both
 * come from one snapshot (migration 1795403100000 keeps each maximum one index probe).
 */
const CHECKED_AT_SQL = `SELECT GREATEST($1::timestamptz, (SELECT max(created_at) FROM workflow.barred_person), (SELECT max(revoked_at) FROM workflow.barred_person)) AS at`;

/**
 * A bar in force on the day in China the check is dated (`c.at`): not revoked (the condition of the
 * partial unique index on the hash, so the look-up stays one index probe) and not ended (a bar with
 * no end date is for life).
 */
const RESTRICTED_SQL = `revoked_at IS NULL AND (restricted_until IS NULL OR restricted_until >= (c.at AT TIME ZONE INTERVAL '+08:00')::date)`;

@Resolver()
export class EmploymentResolver {
  @Mutation(() => EmploymentCheckResult, {
    nullable: true,
    description: '入职查询: CLEAR or RESTRICTED, never why. Rate-limited per employer; every answer takes the same time.',
  })
  employmentCheck(@Arg('input', () => EmploymentCheckInput) input: EmploymentCheckInput, @Ctx() ctx: HubContext): Promise<EmploymentCheckResult> {
    const startedAt = performance.now();
    const { workflow } = ctx.config;
    // A refused input waits the same time as an answer ("whatever the answer or refusal").
    return withFixedDuration(startedAt, workflow.employmentCheckMinMs, deadlineOf(ctx.db), async () => {
      const idNumber = requirePersonIdNumber('input.idNumber', input.idNumber, ctx.now);
      requireLine('input.name', input.name, 50);
      const authorizationReference = requireLine('input.authorizationReference', input.authorizationReference, 100);
      await requireRegistryKey(ctx.config, ctx.db);
      return ctx.db.transaction(async (em) => {
        await lockEmployer(em, ctx);
        await lockRegistry(em, 'check');
        const [{ n }] = await em.query(
          `SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = $1 AND employer_department = $2 AND batch_id IS NULL AND checked_at > $3`,
          [ctx.principal.userId, ctx.principal.department, new Date(ctx.now.getTime() - 3_600_000)],
        );
        if (n >= workflow.employmentChecksPerHour) {
          throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `At most ${workflow.employmentChecksPerHour} checks per hour`);
        }
        const hash = personHash(ctx.config, idNumber);
        // The same single indexed look-up for every candidate, listed or not.
        const [{ at, listed }]: { at: Date; listed: boolean }[] = await em.query(
          `WITH c AS (${CHECKED_AT_SQL}) SELECT c.at, EXISTS (SELECT 1 FROM workflow.barred_person WHERE id_number_hash = $2 AND ${RESTRICTED_SQL}) AS listed FROM c`,
          [ctx.now, hash],
        );
        const checkId = randomUUID();
        const result = { id: checkId, checkId, answer: listed ? EmploymentAnswer.RESTRICTED : EmploymentAnswer.CLEAR, checkedAt: at };
        await em.query(
          `INSERT INTO workflow.employment_check (id, employer_id, employer_department, employer_region, candidate_hash, authorization_reference, answer, checked_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [result.checkId, ctx.principal.userId, ctx.principal.department, ctx.principal.region, hash, authorizationReference, result.answer, at],
        );
        return result;
      });
    });
  }

  @Mutation(() => RescreenResult, {
    nullable: true,
    description: `Annual re-screening of current staff (at most ${MAX_RESCREEN}) in one operation; limited per employer per year`,
  })
  employmentRescreen(
    @Arg('candidates', () => [RescreenCandidateInput]) candidates: RescreenCandidateInput[],
    @Arg('authorizationReference') authorizationReference: string,
    @Ctx() ctx: HubContext,
  ): Promise<RescreenResult> {
    const startedAt = performance.now();
    const { workflow } = ctx.config;
    return withFixedDuration(startedAt, workflow.employmentCheckMinMs, deadlineOf(ctx.db), async () => {
      if (!candidates.length || candidates.length > MAX_RESCREEN) throw badInput('candidates', `must list 1 to ${MAX_RESCREEN} people`);
      const reference = requireLine('authorizationReference', authorizationReference, 100);
      const hashes = candidates.map((c, i) => {
        requireLine(`candidates[${i}].name`, c.name, 50);
        return personHash(ctx.config, requirePersonIdNumber(`candidates[${i}].idNumber`, c.idNumber, ctx.now));
      });
      await requireRegistryKey(ctx.config, ctx.db);
      return ctx.db.transaction(async (em) => {
        await lockEmployer(em, ctx);
        await lockRegistry(em, 'check');
        const [{ n }] = await em.query(
          `SELECT count(DISTINCT batch_id)::int AS n FROM workflow.employment_check WHERE employer_id = $1 AND employer_department = $2 AND batch_id IS NOT NULL AND checked_at > $3`,
          [ctx.principal.userId, ctx.principal.department, new Date(ctx.now.getTime() - 365 * 86_400_000)],
        );
        if (n >= workflow.rescreensPerYear) throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `At most ${workflow.rescreensPerYear} re-screenings per year`);
        const [{ at, listed }]: { at: Date; listed: string[] }[] = await em.query(
          `WITH c AS (${CHECKED_AT_SQL})
           SELECT c.at, ARRAY(SELECT id_number_hash::text FROM workflow.barred_person WHERE id_number_hash = ANY($2::bpchar[]) AND ${RESTRICTED_SQL}) AS listed FROM c`,
          [ctx.now, hashes],
        );
        const restricted = new Set(listed);
        const answers = hashes.map((h, index) => ({ index, answer: restricted.has(h) ? EmploymentAnswer.RESTRICTED : EmploymentAnswer.CLEAR }));
        const batchId = randomUUID();
        await em.query(
          `INSERT INTO workflow.employment_check (id, employer_id, employer_department, employer_region, candidate_hash, authorization_reference, answer, batch_id, checked_at)
           SELECT gen_random_uuid(), $1, $2, $3, h, $4, a, $5, $6 FROM unnest($7::text[], $8::text[]) AS c(h, a)`,
          [ctx.principal.userId, ctx.principal.department, ctx.principal.region, reference, batchId, at, hashes, answers.map((a) => a.answer)],
        );
        return { id: batchId, batchId, checkedAt: at, answers };
      });
    });
  }

  @Query(() => [BarredPerson], { nullable: true, description: '从业限制 registry, newest first: the bars not revoked, or with includeRevoked all of them' })
  async barredPersons(
    @Ctx() ctx: HubContext,
    @Arg('first', () => Int, { defaultValue: 100 }) first = 100,
    @Arg('includeRevoked', () => Boolean, { defaultValue: false, description: 'Also the revoked bars, with who revoked them and why' }) includeRevoked = false,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<BarredPerson[]> {
    const listed = (alias: string) => ({ sql: includeRevoked ? 'TRUE' : `${alias}.revoked_at IS NULL`, params: {} });
    return pageAfter(await newestFirst(ctx.db.getRepository(BarredPerson), 'created_at', listed, pageSize(first), after), after);
  }

  @Mutation(() => BarredPerson, { nullable: true, description: 'Lists a person barred from work with minors' })
  async addBarredPerson(@Arg('input', () => BarredPersonInput) input: BarredPersonInput, @Ctx() ctx: HubContext): Promise<BarredPerson> {
    const idNumber = requirePersonIdNumber('input.idNumber', input.idNumber, ctx.now);
    // A bar follows a judgement, and no one is judged before 12, the youngest age of criminal
    // responsibility (刑法 art. 17): such a number is a child's, mistyped or not, and a listing would
    // answer RESTRICTED about that child to every employer asking.
    if (ageOn(idNumberBirthDate(idNumber), ctx.now) < CRIMINAL_RESPONSIBILITY_AGE) {
      throw badInput('input.idNumber', `belongs to a person under ${CRIMINAL_RESPONSIBILITY_AGE} today, too young to have been judged`);
    }
    const until = input.restrictedUntil === undefined || input.restrictedUntil === null ? null : requireBarEnd('input.restrictedUntil', input.restrictedUntil, ctx.now);
    // A bar that has already ended answers CLEAR from the start: a mistyped year would void it.
    if (until !== null && until < chinaDay(ctx.now)) throw badInput('input.restrictedUntil', 'must not be in the past');
    const judgementReference = requireLine('input.judgementReference', input.judgementReference, 200);
    const key = judgementKey(judgementReference);
    // `——` or `（）` keyed as '' and matched every other such reference of the person.
    if (!key) throw badInput('input.judgementReference', 'names no judgement: it has no letter or digit');
    if (RADICAL_OR_STROKE.test(judgementReference)) {
      throw badInput('input.judgementReference', 'holds a CJK radical or stroke (as PDF text may): write the character itself (长, not ⻓)');
    }
    if (VULGAR_FRACTION.test(judgementReference)) throw badInput('input.judgementReference', 'holds a fraction (½): a judgement’s number has none');
    const name = requireLine('input.name', input.name, 50);
    // After every input is checked: the first listing records the registry's key, a refused one nothing.
    await requireRegistryKey(ctx.config, ctx.db);
    const person: BarredPerson = {
      id: randomUUID(),
      idNumberHash: personHash(ctx.config, idNumber),
      name,
      offence: input.offence,
      judgementReference,
      restrictedUntil: until,
      createdBy: ctx.principal.userId,
      createdByDepartment: ctx.principal.department,
      createdByRegion: ctx.principal.region,
      createdAt: ctx.now,
      revokedAt: null,
      revokedBy: null,
      revokedByDepartment: null,
      revokedByRegion: null,
      revocationReason: null,
    };
    // A judgement is listed once per person (a revoked bar does not count), and a person may be under
    // several: a bar that has ended, or one listed first with an early end, must not keep a later
    // judgement's bar out. One judgement is one however its number is spelt (judgementKey): police
    // writing `(2024)浙0102刑初123号` and justice `（2024）浙0102刑初123号` had listed it twice, and
    // the revocation of one left the person RESTRICTED by the other. The person's bars are few, and
    // compared here under the registry's write lock, which every listing takes alone; the partial
    // unique index on the reference as written still decides between a listing of a replica of an
    // earlier release and this one. In a transaction: a COMMIT whose reply is lost is settled there
    // (src/db/commit-outcome.ts), where a statement sent alone would be answered as rolled back
    // though it may have committed.
    // Listed anew after a revocation of the same judgement, never before it: that may have been taken
    // on a clock ahead of this one (as `stepTime`), and the two bars read as in force together. The
    // person's bars are locked first: a revocation under way is waited for, and read once committed.
    const inserted: { created_at: Date }[] = await ctx.db.transaction(async (em) => {
      await lockRegistry(em, 'write');
      const bars: { judgement_reference: string; revoked_at: Date | null }[] = await em.query(
        `SELECT judgement_reference, revoked_at FROM workflow.barred_person WHERE id_number_hash = $1 FOR UPDATE`,
        [person.idNumberHash],
      );
      const same = bars.filter((bar) => judgementKey(bar.judgement_reference) === key);
      if (same.some((bar) => bar.revoked_at === null)) return [];
      const lastRevoked = same.reduce<Date | null>((latest, bar) => (latest !== null && latest >= bar.revoked_at! ? latest : bar.revoked_at), null);
      return em.query(
        `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_by_department, created_by_region, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, GREATEST($10::timestamptz, $11::timestamptz, ${LATEST_CHECK_SQL}))
         ON CONFLICT (id_number_hash, judgement_reference) WHERE revoked_at IS NULL DO NOTHING RETURNING created_at`,
        [person.id, person.idNumberHash, person.name, person.offence, person.judgementReference, person.restrictedUntil, person.createdBy, person.createdByDepartment, person.createdByRegion, person.createdAt, lastRevoked],
      );
    });
    if (!inserted.length) throw badInput('input.judgementReference', 'is already listed for this person (revoke that bar to list it anew)');
    return { ...person, createdAt: inserted[0].created_at };
  }

  @Mutation(() => ID, {
    nullable: true,
    description: 'Revokes a bar (e.g. a judgement overturned): it no longer restricts, and its row is kept with who revoked it, when and why; returns its id',
  })
  async removeBarredPerson(
    @Arg('id', () => ID) id: string,
    @Arg('reason', { description: 'Why the bar is revoked (e.g. the decision that overturned the judgement)' }) reason: string,
    @Ctx() ctx: HubContext,
  ): Promise<string> {
    const revocationReason = requireText('reason', reason, 2000);
    // In one transaction, so nothing half-written; a bar already revoked is not found, like an unknown id.
    // The answer (and the audit's change) names the bar by its stored id, not as the caller spelt it:
    // a UUID in capitals would not match the bar's id anywhere else. In a transaction of the request's
    // data source, as every write: a subgraph's commits nothing past the gateway's deadline
    // (src/db/request-deadline.ts), and a query builder of its own would have committed regardless.
    const revoked: string[] = isUuid(id)
      ? await ctx.db.transaction(async (em) => {
          await lockRegistry(em, 'write');
          const [bar]: { id: string; id_number_hash: string; judgement_reference: string }[] = await em.query(
            `SELECT id, id_number_hash, judgement_reference FROM workflow.barred_person WHERE id = $1 AND revoked_at IS NULL`,
            [id],
          );
          if (!bar) return [];
          // The same judgement's other bars of the person go with it: listed before judgement numbers
          // were compared folded (release 2a3e9bf), a copy spelt otherwise kept the person RESTRICTED
          // once the judgement was overturned and its bar revoked.
          // A reference with no letter or digit (listed before such were refused) names no judgement: no copies.
          const key = judgementKey(bar.judgement_reference);
          const copies: { id: string; judgement_reference: string }[] = key
            ? await em.query(`SELECT id, judgement_reference FROM workflow.barred_person WHERE id_number_hash = $1 AND revoked_at IS NULL AND id <> $2`, [
                bar.id_number_hash,
                bar.id,
              ])
            : [];
          const ids = [bar.id, ...copies.filter((c) => judgementKey(c.judgement_reference) === key).map((c) => c.id)];
          await em
            .createQueryBuilder()
            .update(BarredPerson)
            .set({
              // Never before the bar was listed: `ctx.now` is the clock of the gateway that took this
              // request, and the listing's may have run seconds ahead (distributed mode accepts 15 s);
              // a bar read as revoked before it was listed is a trail out of order (as `stepTime`).
              // Nor before a check that answered RESTRICTED from it (lockRegistry).
              revokedAt: () => `GREATEST(created_at, :revokedAt, ${LATEST_CHECK_SQL})`,
              revokedBy: ctx.principal.userId,
              revokedByDepartment: ctx.principal.department,
              revokedByRegion: ctx.principal.region,
              revocationReason,
            })
            .where('id IN (:...ids)', { ids })
            .setParameter('revokedAt', ctx.now)
            .execute();
          return ids;
        })
      : [];
    if (!revoked.length) throw notFound('BarredPerson');
    for (const copy of revoked.slice(1)) ctx.access.changed({ fields: ['id', 'reason'], id: copy, minorId: null, mutation: 'removeBarredPerson' });
    return revoked[0];
  }
}
