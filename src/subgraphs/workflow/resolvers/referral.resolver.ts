import { randomUUID } from 'node:crypto';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { isDepartment } from '../../../auth/principal';
import { badInput, forbidden, notFound } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { optionalText, requireSomeValues, requireText } from '../../../common/validation';
import { MinorStub } from '../entities/minor.stub';
import { Referral } from '../entities/referral.entity';
import { NotificationKind, ReferralDirection, ReferralStatus } from '../workflow.enums';
import { isUuid } from '../../../common/uuid';
import { isMinorAt } from '../../registry/registry.loaders';
import { FilterTests, noteTested } from '../../shared/filter-tests';
import { allSeenBy, asSeenBy, heldInJurisdiction, loadedRecordOf, minorInJurisdiction, type Seen } from '../../shared/jurisdiction';
import { jurisdiction, referralVisibility } from '../workflow.loaders';
import { emitNotification } from '../workflow.notify';
import { referralGrantedFields } from '../workflow.policy';
import { AFTER, newestFirst, pageAfter, testedOfItsChild } from '../workflow.pages';
import { latestTime, timeAfter } from '../../../common/dates';
import { pageSize } from './report.resolver';
import { CreateReferralInput } from './types/referral.input';

const hours = (at: Date, n: number) => new Date(at.getTime() + n * 3_600_000);

/** Unanswered past its answer deadline, or accepted and not completed by its completion deadline. */
export const isReferralOverdue = (r: Pick<Referral, 'status' | 'answerDueAt' | 'completeDueAt'>, now: Date) =>
  (r.status === ReferralStatus.PENDING && r.answerDueAt < now) ||
  (r.status === ReferralStatus.ACCEPTED && r.completeDueAt !== null && r.completeDueAt < now);

async function childName(em: EntityManager, minorId: string): Promise<string | undefined> {
  const [child]: { name: string }[] = await em.query(`SELECT name FROM registry.minor WHERE id = $1`, [minorId]);
  return child?.name;
}

@Resolver(() => Referral)
export class ReferralResolver {
  @Query(() => [Referral], { nullable: true, description: 'Referrals the caller’s department sent or received (civil affairs: all), newest first' })
  async referrals(
    @Ctx() ctx: HubContext,
    @Arg('direction', () => ReferralDirection, { defaultValue: ReferralDirection.ALL }) direction: ReferralDirection,
    @Arg('status', () => [ReferralStatus], { nullable: true }) status?: ReferralStatus[],
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<Seen<Referral>[]> {
    const tests = new FilterTests(ctx);
    if (direction === ReferralDirection.SENT) tests.check('Referral.fromDepartment', 'direction');
    if (direction === ReferralDirection.RECEIVED) tests.check('Referral.toDepartment', 'direction');
    if (status != null) tests.check('Referral.status', 'status');
    const statuses = status == null ? null : requireSomeValues('status', status);
    const rule = (alias: string) => {
      const v = referralVisibility(ctx, alias);
      const sql = [v.sql];
      if (direction === ReferralDirection.SENT) sql.push(`${alias}.from_department = :me`);
      if (direction === ReferralDirection.RECEIVED) sql.push(`${alias}.to_department = :me`);
      if (statuses) sql.push(`${alias}.status = ANY(:status)`);
      return { sql: sql.join(' AND '), params: { ...v.params, me: ctx.principal.department, status: statuses } };
    };
    const rows = await allSeenBy(
      ctx,
      await newestFirst(ctx.db.getRepository(Referral), 'created_at', rule, pageSize(first), after, testedOfItsChild(ctx, (alias) => referralVisibility(ctx, alias), tests.tested)),
    );
    // The `after` item's child too: its being accepted is a test of it, as its refusal is (AFTER).
    for (const r of rows) noteTested(ctx, r.minorId, tests.tested);
    return pageAfter(rows, after);
  }

  @Query(() => Referral, { nullable: true })
  async referral(@Arg('id', () => ID) id: string, @Ctx() ctx: HubContext): Promise<Seen<Referral> | null> {
    if (!isUuid(id)) return null;
    const v = referralVisibility(ctx);
    const referral = await ctx.db.getRepository(Referral).createQueryBuilder('r').where('r.id = :id', { id }).andWhere(v.sql, v.params).getOne();
    return referral && asSeenBy(ctx, referral);
  }

  @Mutation(() => Referral, { nullable: true, description: 'Refers a child’s need to another department, addressed to the referrer’s region' })
  async createReferral(@Arg('input', () => CreateReferralInput) input: CreateReferralInput, @Ctx() ctx: HubContext): Promise<Seen<Referral>> {
    const need = requireText('need', input.need, 2000);
    const toDepartment = input.toDepartment;
    if (!isDepartment(toDepartment)) throw badInput('toDepartment', 'is not a department');
    if (toDepartment === ctx.principal.department) throw badInput('toDepartment', 'must be another department');
    if (!isUuid(input.minorId)) throw notFound('Minor');
    const referral = await ctx.db.transaction(async (em) => {
      // Held until the referral commits (a move locks the child FOR UPDATE): a move committed in
      // between had the referral stored for a child who had left, its notice naming no child.
      const [child]: { id: string; name: string }[] = await em.query(
        `SELECT id, name FROM registry.minor WHERE id = $1 AND grid_code LIKE $2 AND ${isMinorAt('birth_date', '$3')} FOR KEY SHARE`,
        [input.minorId, jurisdiction(ctx), ctx.now],
      );
      if (!child) throw notFound('Minor');
      heldInJurisdiction(ctx, child.id);
      // Found, as a department record's create records (createRecord): the commit's outcome may be unknown.
      ctx.access.found(child.id, 'Referral');
      const referral = em.getRepository(Referral).create({
        id: randomUUID(),
        minorId: child.id,
        type: input.type,
        need,
        fromDepartment: ctx.principal.department,
        fromUser: ctx.principal.userId,
        toDepartment,
        regionCode: ctx.principal.region,
        status: ReferralStatus.PENDING,
        createdAt: ctx.now,
        answerDueAt: hours(ctx.now, ctx.config.workflow.referralAnswerHours),
        completeDueAt: null,
        answeredAt: null,
        answeredBy: null,
        answerReason: null,
        completedAt: null,
        completedBy: null,
        outcome: null,
        closedAt: null,
        escalatedAt: null,
        escalationRegion: null,
      });
      await em.getRepository(Referral).insert(referral);
      await emitNotification(em, ctx, {
        kind: NotificationKind.REFERRAL_RECEIVED,
        regionCode: referral.regionCode,
        minorId: referral.minorId,
        subjectId: referral.id,
        to: [referral.toDepartment],
        fields: {
          'Referral.type': referral.type,
          'Referral.need': referral.need,
          'Referral.fromDepartment': referral.fromDepartment,
          'Referral.answerDueAt': referral.answerDueAt,
          'Minor.name': child.name,
        },
        dedupeKey: `REFERRAL_RECEIVED:${referral.id}`,
      });
      return referral;
    });
    // As the caller is answered it and its event records it: naming the child, held in the caller's jurisdiction to the commit.
    return asSeenBy(ctx, referral);
  }

  @Mutation(() => Referral, { nullable: true, description: 'The receiving department takes the need on; the completion deadline starts' })
  acceptReferral(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: HubContext,
    @Arg('note', () => String, { nullable: true }) note?: string,
  ): Promise<Seen<Referral>> {
    const text = optionalText('note', note, 2000);
    return this.answer(ctx, id, ReferralStatus.PENDING, (r, at) => {
      r.status = ReferralStatus.ACCEPTED;
      r.answeredAt = at;
      r.answeredBy = ctx.principal.userId;
      r.answerReason = text;
      r.completeDueAt = new Date(at.getTime() + ctx.config.workflow.referralCompleteDays * 86_400_000);
    });
  }

  @Mutation(() => Referral, { nullable: true, description: 'The receiving department declines, with a reason; the grant ends' })
  declineReferral(@Arg('id', () => ID) id: string, @Arg('reason') reason: string, @Ctx() ctx: HubContext): Promise<Seen<Referral>> {
    const text = requireText('reason', reason, 2000);
    return this.answer(ctx, id, ReferralStatus.PENDING, (r, at) => {
      r.status = ReferralStatus.DECLINED;
      r.answeredAt = at;
      r.answeredBy = ctx.principal.userId;
      r.answerReason = text;
      r.closedAt = at;
    });
  }

  @Mutation(() => Referral, { nullable: true, description: 'The need was met: the outcome flows back to the referrer; the grant ends' })
  completeReferral(@Arg('id', () => ID) id: string, @Arg('outcome') outcome: string, @Ctx() ctx: HubContext): Promise<Seen<Referral>> {
    const text = requireText('outcome', outcome, 4000);
    return this.answer(ctx, id, ReferralStatus.ACCEPTED, (r, at) => {
      r.status = ReferralStatus.COMPLETED;
      r.completedAt = at;
      r.completedBy = ctx.principal.userId;
      r.outcome = text;
      r.closedAt = at;
    });
  }

  /**
   * A step by the receiving department, from the one status it may be taken in; tells the referrer.
   * A referral whose child moved out of the region it was addressed to is still answered (the loop
   * is closed), without naming the child (`emitNotification`, `asSeenBy`). Its time, and its notice's,
   * is after the step it follows (`timeAfter`).
   */
  private async answer(ctx: HubContext, id: string, from: ReferralStatus, apply: (r: Referral, at: Date) => void): Promise<Seen<Referral>> {
    const answered = await ctx.db.transaction(async (em) => {
      const v = referralVisibility(ctx);
      const referral = isUuid(id)
        ? await em.getRepository(Referral).createQueryBuilder('r').setLock('pessimistic_write').where('r.id = :id', { id }).andWhere(v.sql, v.params).getOne()
        : null;
      if (!referral) throw notFound('Referral');
      // Held to the commit, wherever it lives: a move committed between the answer's look-up of the
      // child and its notice's had the answer name the child and the notice name none.
      await em.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR KEY SHARE`, [referral.minorId]);
      const loaded = await loadedRecordOf(em, ctx, 'Referral', referral.minorId);
      if (referral.toDepartment !== ctx.principal.department) {
        // Civil affairs sees every referral of its jurisdiction: the refusal tells it whom the
        // referral was not addressed to, a fact of the referral as its status is below.
        loaded.refusalStates('Referral.toDepartment');
        throw forbidden('Only the receiving department answers a referral');
      }
      if (referral.status !== from) {
        loaded.refusalStates('Referral.status');
        throw badInput('id', `the referral is ${referral.status}, not ${from}`);
      }
      // Just after the step before (or the job's escalation of its lapse) when the clock is behind it:
      // the notices of two steps at one instant are listed in the order of their random ids, and the
      // acceptance was as often the newest; one dated before its escalation read as answered in time.
      const at = timeAfter(ctx.now, latestTime(referral.answeredAt ?? referral.createdAt, referral.escalatedAt));
      apply(referral, at);
      await em.getRepository(Referral).save(referral);
      // Told at the step's time: a notice dated before the step it tells is listed below older news.
      await emitNotification(em, { policy: ctx.policy, now: at }, {
        kind: NotificationKind.REFERRAL_OUTCOME,
        regionCode: referral.regionCode,
        minorId: referral.minorId,
        subjectId: referral.id,
        to: [referral.fromDepartment],
        fields: {
          'Referral.type': referral.type,
          'Referral.toDepartment': referral.toDepartment,
          'Referral.status': referral.status,
          'Referral.answerReason': referral.answerReason,
          'Referral.outcome': referral.outcome,
          'Minor.name': await childName(em, referral.minorId),
        },
        dedupeKey: `REFERRAL_OUTCOME:${referral.id}:${referral.status}`,
      });
      return referral;
    });
    return asSeenBy(ctx, answered);
  }

  @FieldResolver(() => MinorStub, { nullable: true, description: 'The child, when the child is in the caller’s jurisdiction' })
  async minor(@Root() referral: Seen<Referral>, @Ctx() ctx: HubContext): Promise<MinorStub | null> {
    return referral.minorId ? minorInJurisdiction(ctx, referral.minorId) : null;
  }

  @FieldResolver(() => [String], {
    nullable: true,
    description: '`Type.field`s the referral opens to the receiving department while it is open (PENDING or ACCEPTED): those of its type the referring department reads exactly and the receiving department can reach. Listed whatever its status: a declined or completed referral opens nothing, and this tells what it opened',
  })
  grantedFields(@Root() referral: Seen<Referral>, @Ctx() ctx: HubContext): readonly string[] {
    return referralGrantedFields(ctx.policy, referral);
  }

  @FieldResolver(() => Boolean, { nullable: true, description: 'Past its answer or completion deadline' })
  overdue(@Root() referral: Seen<Referral>, @Ctx() ctx: HubContext): boolean {
    return isReferralOverdue(referral, ctx.now);
  }
}
