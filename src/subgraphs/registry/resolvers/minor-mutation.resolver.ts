import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { EntityManager } from 'typeorm';
import { addDays, addMonths, ageOn, chinaDay, stepTime, timeAfter } from '../../../common/dates';
import { badInput, HubErrorCode, HubException, notFound } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { Guardian } from '../entities/guardian.entity';
import { MinorCategory } from '../entities/minor-category.entity';
import { Minor } from '../entities/minor.entity';
import { Region } from '../entities/region.entity';
import { RiskAssessment } from '../entities/risk-assessment.entity';
import { Visit } from '../entities/visit.entity';
import { DifficultyCategory, RegionLevel, RiskLevel } from '../registry.enums';
import { isUuid } from '../../../common/uuid';
import { changedFields, refuseStating, updated } from '../../shared/record-writes';
import { assessmentsNewestFirst, GRID_CODE_LENGTH, isMinorAt, jurisdictionPattern } from '../registry.loaders';
import { MAX_GUARDIANS, YOUNGEST_WITH_CATEGORY } from '../registry.constants';
import { optionalLine, optionalText, requireDate, requireLine, requireNotFuture, requirePhone, requireText } from '../../../common/validation';
import { validateMinorIdentity } from '../registry.validation';
import { AssessmentInput, CreateMinorInput, GuardianInput, UpdateMinorInput, VisitInput } from './types/minor.input';
import { childRedEvent, emitNotification, GUARDIANSHIP_FAILURE_CATEGORIES, guardianshipFailureEvent } from '../../workflow/workflow.notify';
import { NotificationKind } from '../../workflow/workflow.enums';
import { notificationRecipients } from '../../workflow/workflow.policy';

/** 分级保护: RED act now, ORANGE weekly, YELLOW monthly, BLUE quarterly. */
export function nextVisitDue(level: RiskLevel, assessedAt: Date): Date {
  switch (level) {
    case RiskLevel.RED:
      return assessedAt;
    case RiskLevel.ORANGE:
      return addDays(assessedAt, 7);
    case RiskLevel.YELLOW:
      return addMonths(assessedAt, 1);
    case RiskLevel.BLUE:
      return addMonths(assessedAt, 3);
  }
}

/**
 * The level the child is followed up at and its next visit due, from the facts whatever order they
 * were written in: the latest assessment's level (of two at one instant, the graver: assessmentsNewestFirst); due by that level's interval from the last visit
 * after that assessment, or from the assessment itself when no visit has followed it. A back-dated
 * assessment or visit that is not the latest changes nothing.
 */
async function followUp(em: EntityManager, minorId: string): Promise<{ latest: RiskAssessment | null; due: Date | null }> {
  const latest = await em.getRepository(RiskAssessment).createQueryBuilder('a').where('a.minor_id = :minorId', { minorId }).orderBy(assessmentsNewestFirst('a')).getOne();
  if (!latest) return { latest: null, due: null };
  const lastVisit = await em.getRepository(Visit).findOne({ where: { minorId }, order: { visitedAt: 'DESC', id: 'ASC' } });
  const from = lastVisit && lastVisit.visitedAt > latest.assessedAt ? lastVisit.visitedAt : latest.assessedAt;
  return { latest, due: nextVisitDue(latest.level, from) };
}

/**
 * Whether the departments of the child's grid were told of the child at the RED it is at: a CHILD_RED
 * naming it there, of a RED assessment no other level has followed since (by date; at one instant
 * the graver counts as the later, as `assessmentsNewestFirst` has it), or sent there once that RED
 * was — once the last other level before it was recorded (a late ORANGE dated inside a RED splits
 * it, and the grid told of the RED split off by a late entry had been told again at the next RED,
 * red team 24), or once anyone had been told of that RED (a notice naming a RED dated since the last
 * other level, in any grid), which is all an assessment recorded before its recording time was kept
 * tells (migration 1795403300000): a late entry dated before that RED names itself, and the grid
 * told so had been told again at the next RED (red team 23). A grid told of a RED that a BLUE ended,
 * which the child left and came back to at RED again, had not been told of this one. Notices and
 * recording times, not assessments' dates, tell the order things were recorded in: an assessment's
 * date may be back-dated (migration 1795403200000 indexes a child's CHILD_REDs).
 */
async function toldRedHere(em: EntityManager, minor: Minor): Promise<boolean> {
  // By the inbox index (department, region_code): the grid's notifications, not the whole table's.
  const rows: unknown[] = await em.query(
    `WITH other AS (SELECT max(assessed_at) AS at FROM registry.risk_assessment WHERE minor_id = $1 AND level <> $4),
          split AS (SELECT max(a.recorded_at) AS at FROM registry.risk_assessment a, other WHERE a.minor_id = $1 AND a.level <> $4 AND a.assessed_at = other.at)
     SELECT 1 FROM workflow.notification n JOIN registry.risk_assessment told ON told.id = n.subject_id, other, split
      WHERE n.department = ANY($3) AND n.region_code = $2 AND n.kind = 'CHILD_RED' AND n.minor_id = $1
        AND (other.at IS NULL OR told.assessed_at >= other.at OR n.created_at > split.at
             OR EXISTS (SELECT 1 FROM workflow.notification f JOIN registry.risk_assessment fa ON fa.id = f.subject_id
                         WHERE f.minor_id = $1 AND f.kind = 'CHILD_RED' AND f.created_at <= n.created_at AND fa.assessed_at >= other.at))
      LIMIT 1`,
    [minor.id, minor.gridCode, notificationRecipients[NotificationKind.CHILD_RED], RiskLevel.RED],
  );
  return rows.length > 0;
}

/**
 * The latest time of a child's assessments and visits together, read under the child's lock
 * (`lockMinor`), so that one given no time is dated after it (`timeAfter`). Together: the follow-up
 * (`followUp`) and the statistics' "visited since its assessment" compare a visit with the
 * assessment before it, and a visit taken right after an assessment on a gateway behind, dated
 * after the visits only, had come before the assessment — the child counted as not visited.
 */
async function latestFollowUp(em: EntityManager, minorId: string): Promise<Date | null> {
  const [row]: { at: Date | null }[] = await em.query(
    `SELECT greatest((SELECT max(assessed_at) FROM registry.risk_assessment WHERE minor_id = $1), (SELECT max(visited_at) FROM registry.visit WHERE minor_id = $1)) AS at`,
    [minorId],
  );
  return row.at;
}

/** Locks the minor row for the rest of the transaction; outside the jurisdiction, or 18 already, reads as missing. */
async function lockMinor(em: EntityManager, ctx: HubContext, id: string): Promise<Minor> {
  if (!isUuid(id)) throw notFound('Minor');
  const minor = await em
    .getRepository(Minor)
    .createQueryBuilder('m')
    .setLock('pessimistic_write')
    .where('m.id = :id', { id })
    .andWhere('m.grid_code LIKE :jurisdiction', { jurisdiction: jurisdictionPattern(ctx) })
    .andWhere(isMinorAt('m.birth_date', ':now'), { now: ctx.now })
    .getOne();
  if (!minor) throw notFound('Minor');
  // A refusal from here on (an assessment dated before birth) still tells of the child.
  ctx.access.found(minor.id, 'Minor');
  return minor;
}

/**
 * An assessment or visit of a child is not dated before the child was born. The birth date is a
 * day in China (UTC+8), so its first instant there is the bound: a newborn assessed on the day of
 * birth is accepted whatever hour UTC says.
 */
function requireNotBeforeBirth(ctx: HubContext, field: string, at: Date, minor: Minor): void {
  if (at.getTime() < Date.parse(`${minor.birthDate}T00:00:00+08:00`)) refuseStating(ctx, minor.id, 'Minor.birthDate', field, 'must not be before the child was born');
}

async function requireGrid(em: EntityManager, ctx: HubContext, code: string): Promise<string> {
  // Digits only before the database sees it (a NUL in it was a Postgres error, a 500).
  if (String(code).length !== GRID_CODE_LENGTH || !/^\d+$/.test(String(code))) throw badInput('gridCode', 'must be a grid (网格) inside your jurisdiction');
  const grid = await em.getRepository(Region).findOne({ where: { code: String(code) } });
  if (!grid || grid.level !== RegionLevel.GRID || !grid.code.startsWith(ctx.principal.region)) {
    throw badInput('gridCode', 'must be a grid (网格) inside your jurisdiction');
  }
  return grid.code;
}

/** Registry writes, for CIVIL_AFFAIRS officers (the policy table says who). Each is one transaction. */
@Resolver()
export class MinorMutationResolver {
  @Mutation(() => Minor, { nullable: true, description: '建档 — register a minor' })
  createMinor(@Arg('input', () => CreateMinorInput) input: CreateMinorInput, @Ctx() ctx: HubContext): Promise<Minor> {
    const identity = validateMinorIdentity(input, ctx.now);
    const fields = {
      name: requireLine('name', input.name, 50),
      householdRegistration: requireLine('householdRegistration', input.householdRegistration, 200),
      currentAddress: requireLine('currentAddress', input.currentAddress, 200),
      school: optionalLine('school', input.school, 100),
    };
    const id = randomUUID();
    const registered = ctx.db.transaction(async (em) => {
      const gridCode = await requireGrid(em, ctx, input.gridCode);
      const minor = em.getRepository(Minor).create({
        id,
        ...identity,
        ...fields,
        gridCode,
        riskLevel: null,
        nextVisitDue: null,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      });
      // The ID number's unique index decides, not a look-up before the insert: two registrations of
      // one child at once both passed such a look-up, and the loser's unique violation surfaced as an
      // internal error. ON CONFLICT DO NOTHING (the id is fresh, so only the ID number can conflict)
      // leaves the transaction usable and every loser gets the same plain refusal.
      const inserted = await em.createQueryBuilder().insert().into(Minor).values(minor).orIgnore().returning(['id']).execute();
      if (inserted.raw.length === 0) {
        // The refusal tells the caller that a child with this number is registered, wherever the
        // child lives: recorded as a read of that child's ID number, as `minorByIdNumber` records
        // its match, so that its history and the MANY_CHILDREN flag show whoever tries numbers.
        const [registered]: { id: string }[] = await em.query(`SELECT id FROM registry.minor WHERE id_number = $1`, [minor.idNumber]);
        if (registered) refuseStating(ctx, registered.id, 'Minor.idNumber', 'idNumber', 'is already registered');
        throw badInput('idNumber', 'is already registered');
      }
      return minor;
    });
    // A registration in doubt (its COMMIT's reply lost and not settled) leaves the event no change,
    // yet the child may be registered, and its history must show it; one settled as rolled back
    // registered no one, and names no child.
    return registered.catch((e: unknown) => {
      if (e instanceof HubException && e.extensions.code === HubErrorCode.COMMIT_OUTCOME_UNKNOWN) ctx.access.found(id, 'Minor');
      throw e;
    });
  }

  @Mutation(() => Minor, { nullable: true })
  updateMinor(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateMinorInput) input: UpdateMinorInput,
    @Ctx() ctx: HubContext,
  ): Promise<Minor> {
    // The input is checked before the child is looked up and locked, as every other write's: a
    // refusal it earns whatever the child is does not wait on a lock, nor answer NOT_FOUND first.
    const given: Partial<Pick<Minor, 'name' | 'currentAddress' | 'householdRegistration' | 'school' | 'gridCode'>> = {};
    if (input.name != null) given.name = requireLine('name', input.name, 50);
    if (input.currentAddress != null) given.currentAddress = requireLine('currentAddress', input.currentAddress, 200);
    if (input.householdRegistration != null) {
      given.householdRegistration = requireLine('householdRegistration', input.householdRegistration, 200);
    }
    if (input.school !== undefined) given.school = optionalLine('school', input.school, 100);
    return ctx.db.transaction(async (em) => {
      // The grid too: whether it is one of the caller's depends on the caller and the code alone.
      if (input.gridCode != null) given.gridCode = await requireGrid(em, ctx, input.gridCode);
      const minor = await lockMinor(em, ctx, id);
      // The values the record already holds (or none given) change nothing, not even updatedAt; the
      // event names the fields changed, not those given null (left as they are).
      const changed = changedFields(minor, given);
      if (!changed.length) return ctx.access.unchanged(minor);
      Object.assign(minor, given);
      minor.updatedAt = stepTime(ctx.now, minor.updatedAt);
      return updated(ctx, await em.getRepository(Minor).save(minor), changed);
    });
  }

  @Mutation(() => Guardian, { nullable: true })
  addGuardian(
    @Arg('minorId', () => ID) minorId: string,
    @Arg('input', () => GuardianInput) input: GuardianInput,
    @Ctx() ctx: HubContext,
  ): Promise<Guardian> {
    const fields = {
      relationship: input.relationship,
      name: requireLine('name', input.name, 50),
      phone: requirePhone('phone', input.phone),
      address: optionalLine('address', input.address, 200),
      situation: input.situation,
      situationNote: optionalText('situationNote', input.situationNote, 500),
    };
    return ctx.db.transaction(async (em) => {
      const minor = await lockMinor(em, ctx, minorId);
      // Counted under the child's lock: concurrent additions are counted one after the other.
      if ((await em.getRepository(Guardian).countBy({ minorId: minor.id })) >= MAX_GUARDIANS) {
        refuseStating(ctx, minor.id, 'Minor.guardians', 'minorId', `the child already has ${MAX_GUARDIANS} guardians, the most recorded`);
      }
      const guardian = await em.getRepository(Guardian).save(em.getRepository(Guardian).create({ id: randomUUID(), minorId: minor.id, ...fields }));
      await em.getRepository(Minor).update(minor.id, { updatedAt: stepTime(ctx.now, minor.updatedAt) });
      return guardian;
    });
  }

  @Mutation(() => ID, { nullable: true, description: 'Returns the removed guardian’s id' })
  removeGuardian(@Arg('guardianId', () => ID) guardianId: string, @Ctx() ctx: HubContext): Promise<string> {
    return ctx.db.transaction(async (em) => {
      // The guardian and its child's lock in one look-up, the child's jurisdiction and age in it: a
      // guardian found first and its child checked after cost a statement more when the child was
      // not the caller's (moved away, turned 18) than for an unknown id, and the time told that the
      // guardian existed. A lock not granted in time is an error, not an answer about the guardian.
      const [guardian]: { id: string; minor_id: string }[] = isUuid(guardianId)
        ? await em.query(
            `SELECT g.id, g.minor_id FROM registry.guardian g JOIN registry.minor m ON m.id = g.minor_id
              WHERE g.id = $1 AND m.grid_code LIKE $2 AND ${isMinorAt('m.birth_date', '$3')} FOR UPDATE OF m`,
            [guardianId, jurisdictionPattern(ctx), ctx.now],
          )
        : [];
      if (!guardian) throw notFound('Guardian');
      ctx.access.found(guardian.minor_id, 'Minor');
      // The guardian's row was read as it stood before the child's lock was granted: a concurrent
      // removal of the same guardian may have committed since. Only the call whose delete removed the
      // row succeeded (and is audited as a change); the others answer as for an unknown id.
      const { affected } = await em.getRepository(Guardian).delete({ id: guardian.id, minorId: guardian.minor_id });
      if (!affected) throw notFound('Guardian');
      await em.query(`UPDATE registry.minor SET updated_at = GREATEST(updated_at, $2) WHERE id = $1`, [guardian.minor_id, ctx.now]);
      ctx.access.belongsTo(guardian.id, guardian.minor_id);
      return guardian.id;
    });
  }

  @Mutation(() => Minor, { nullable: true })
  addCategory(
    @Arg('minorId', () => ID) minorId: string,
    @Arg('category', () => DifficultyCategory) category: DifficultyCategory,
    @Ctx() ctx: HubContext,
    @Arg('identifiedAt', () => String, { nullable: true, description: 'YYYY-MM-DD, defaults to today' }) identifiedAt?: string,
  ): Promise<Minor> {
    if (category === DifficultyCategory.NEEDS_SUPPORT) throw badInput('category', 'NEEDS_SUPPORT is not a category');
    // A date that exists (2025-02-30 does not) and is not in the future; omitted: today.
    const identified = identifiedAt == null ? chinaDay(ctx.now) : requireDate('identifiedAt', identifiedAt, ctx.now);
    return ctx.db.transaction(async (em) => {
      const minor = await lockMinor(em, ctx, minorId);
      if (identified < minor.birthDate) refuseStating(ctx, minor.id, 'Minor.birthDate', 'identifiedAt', 'must not be before the child was born');
      const youngest = YOUNGEST_WITH_CATEGORY[category];
      if (youngest !== undefined && ageOn(minor.birthDate, new Date(`${identified}T00:00:00Z`)) < youngest) {
        refuseStating(ctx, minor.id, 'Minor.birthDate', 'category', `${category} is of no child under ${youngest} on the day identified`);
      }
      // A category the child already has is kept as it was identified (ON CONFLICT DO NOTHING):
      // RETURNING gives a row only when this call stored one. Without one the call changed nothing.
      const inserted = await em
        .createQueryBuilder()
        .insert()
        .into(MinorCategory)
        .values({ minorId: minor.id, category, identifiedAt: identified })
        .orIgnore()
        .returning(['category'])
        .execute();
      if (!inserted.raw.length) return ctx.access.unchanged(minor);
      // Just after the record's last step when the clock is behind it: a notice told by that step (a
      // CHILD_RED) would otherwise be listed above this later one.
      const at = timeAfter(ctx.now, minor.updatedAt);
      // 信息通报 (workflow): a guardianship-failure case is told to the departments with jurisdiction,
      // once, when it is recorded, at the step's time; the stored row's date is the one given here.
      if (GUARDIANSHIP_FAILURE_CATEGORIES.has(category)) await emitNotification(em, { policy: ctx.policy, now: at }, guardianshipFailureEvent(minor, category, identified));
      minor.updatedAt = at;
      return em.getRepository(Minor).save(minor);
    });
  }

  @Mutation(() => Minor, { nullable: true })
  removeCategory(
    @Arg('minorId', () => ID) minorId: string,
    @Arg('category', () => DifficultyCategory) category: DifficultyCategory,
    @Ctx() ctx: HubContext,
  ): Promise<Minor> {
    if (category === DifficultyCategory.NEEDS_SUPPORT) throw badInput('category', 'NEEDS_SUPPORT is not a category');
    return ctx.db.transaction(async (em) => {
      const minor = await lockMinor(em, ctx, minorId);
      const { affected } = await em.getRepository(MinorCategory).delete({ minorId: minor.id, category });
      if (!affected) refuseStating(ctx, minor.id, 'Minor.categories', 'category', 'the minor does not have this category');
      minor.updatedAt = stepTime(ctx.now, minor.updatedAt);
      return em.getRepository(Minor).save(minor);
    });
  }

  @Mutation(() => RiskAssessment, { nullable: true, description: 'Records an assessment; the next visit falls due by its level' })
  recordAssessment(
    @Arg('minorId', () => ID) minorId: string,
    @Arg('input', () => AssessmentInput) input: AssessmentInput,
    @Ctx() ctx: HubContext,
  ): Promise<RiskAssessment> {
    const reasons = requireText('reasons', input.reasons, 2000);
    const given = input.assessedAt == null ? null : requireNotFuture('assessedAt', input.assessedAt, ctx.now);
    return ctx.db.transaction(async (em) => {
      const minor = await lockMinor(em, ctx, minorId);
      const assessedAt = given ?? timeAfter(ctx.now, await latestFollowUp(em, minor.id));
      requireNotBeforeBirth(ctx, 'assessedAt', assessedAt, minor);
      // Just after the record's last step when the clock is behind it, as addCategory: a notice that
      // step told (a GUARDIANSHIP_FAILURE) would otherwise be listed above the CHILD_RED below.
      const at = timeAfter(given ? ctx.now : assessedAt, minor.updatedAt);
      const assessment = em.getRepository(RiskAssessment).create({
        id: randomUUID(),
        minorId: minor.id,
        level: input.level,
        reasons,
        assessor: ctx.principal.userId,
        assessedAt,
        nextVisitDue: nextVisitDue(input.level, assessedAt),
        recordedAt: at,
      });
      await em.getRepository(RiskAssessment).save(assessment);
      const { latest, due } = await followUp(em, minor.id);
      await em.getRepository(Minor).update(minor.id, { riskLevel: latest!.level, nextVisitDue: due, updatedAt: at });
      // 信息通报 (workflow): a child newly at RED is told to the departments with jurisdiction. Newly
      // to them: a RED child who moved here was told to the grid it lived in, and its next RED
      // assessment, here, had told no one, leaving this grid's departments unaware of a RED child.
      // The event names this assessment, the RED one made here: a late entry dated before the RED
      // the child was at had named that one, already told to the old grid, and the notification's
      // key (one per assessment) then dropped it, so the new grid was never told.
      if (assessment.level === RiskLevel.RED && latest!.level === RiskLevel.RED && (minor.riskLevel !== RiskLevel.RED || !(await toldRedHere(em, minor)))) {
        // Told at the step's time: the assessment's when it was given none (it may be dated just after another).
        await emitNotification(em, { policy: ctx.policy, now: at }, childRedEvent(minor, assessment));
      }
      return assessment;
    });
  }

  @Mutation(() => Visit, { nullable: true, description: 'Records a visit; the next one falls due by the current risk level' })
  recordVisit(
    @Arg('minorId', () => ID) minorId: string,
    @Arg('input', () => VisitInput) input: VisitInput,
    @Ctx() ctx: HubContext,
  ): Promise<Visit> {
    const notes = requireText('notes', input.notes, 2000);
    const given = input.visitedAt == null ? null : requireNotFuture('visitedAt', input.visitedAt, ctx.now);
    return ctx.db.transaction(async (em) => {
      const minor = await lockMinor(em, ctx, minorId);
      const visitedAt = given ?? timeAfter(ctx.now, await latestFollowUp(em, minor.id));
      requireNotBeforeBirth(ctx, 'visitedAt', visitedAt, minor);
      const visit = await em
        .getRepository(Visit)
        .save(em.getRepository(Visit).create({ id: randomUUID(), minorId: minor.id, visitedAt, visitor: ctx.principal.userId, notes }));
      minor.nextVisitDue = (await followUp(em, minor.id)).due;
      // Stamped at the visit's own time when it was given none, as an update of the record.
      minor.updatedAt = stepTime(given ? ctx.now : visitedAt, minor.updatedAt);
      await em.getRepository(Minor).save(minor);
      return visit;
    });
  }
}
