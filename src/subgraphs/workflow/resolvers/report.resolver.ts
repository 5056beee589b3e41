import { randomUUID } from 'node:crypto';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Department } from '../../../auth/principal';
import { chinaDay, latestTime, stepTime } from '../../../common/dates';
import { idNumberBirthDate, normalIdNumber, requirePersonIdNumber } from '../../../common/id-number';
import { badInput, forbidden, notFound } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { isRegionCode, optionalLine, optionalText, requireChildhoodTime, requireLine, requirePageSize, requireSomeValues, requireText } from '../../../common/validation';
import { MandatoryReport } from '../entities/mandatory-report.entity';
import { MinorStub } from '../entities/minor.stub';
import { ReportTransition } from '../entities/report-transition.entity';
import { NotificationKind, ReportStatus } from '../workflow.enums';
import { isMinorAt, MINORS_UNDER_AT } from '../../registry/registry.loaders';
import { FilterTests, noteTested } from '../../shared/filter-tests';
import { allSeenBy, asSeenBy, loadedRecordOf, minorInJurisdiction } from '../../shared/jurisdiction';
import { isUuid } from '../../../common/uuid';
import { jurisdiction, workflowLoaders } from '../workflow.loaders';
import { emitNotification } from '../workflow.notify';
import { AFTER, inOrder, type ListOrder, newestFirst, pageAfter, testedOfItsChild } from '../workflow.pages';
import { FileReportInput } from './types/report.input';
import { ReportReceipt } from './types/report-receipt.type';

const { CIVIL_AFFAIRS: CA, POLICE: PO } = Department;
const S = ReportStatus;

/**
 * The state machine and who may take each step: verification (核查) is started by police or civil
 * affairs; only police declare a report unfounded after verifying; civil affairs, which follows
 * up with assistance, closes a handled case.
 */
export const REPORT_TRANSITIONS: readonly { from: ReportStatus; to: ReportStatus; by: readonly Department[] }[] = [
  { from: S.RECEIVED, to: S.VERIFYING, by: [PO, CA] },
  { from: S.VERIFYING, to: S.HANDLED, by: [PO, CA] },
  { from: S.VERIFYING, to: S.UNFOUNDED, by: [PO] },
  { from: S.HANDLED, to: S.CLOSED, by: [CA] },
];

const MAX_PAGE = 500;
const minutes = (at: Date, n: number) => new Date(at.getTime() + n * 60_000);

export const pageSize = (first: number): number => requirePageSize(first, MAX_PAGE);

/** The deadline an overdue report passed, earliest first: the longest overdue first. */
const MOST_OVERDUE: ListOrder = { key: (m) => `CASE ${m}.status WHEN 'RECEIVED' THEN ${m}.verify_due_at ELSE ${m}.handle_due_at END`, direction: 'ASC' };

/** Overdue: verification not started by its deadline, or not handled by its deadline. */
export const isReportOverdue = (r: MandatoryReport, now: Date) =>
  (r.status === S.RECEIVED && r.verifyDueAt < now) || (r.status === S.VERIFYING && r.handleDueAt < now);

/** What a receipt tells of its report. */
const RECEIPT_READ = ['ReportReceipt.status', 'ReportReceipt.receivedAt'];

/** The reports a caller reads: those about places in its jurisdiction. */
const inPlace = (ctx: HubContext, alias: string) => ({ sql: `${alias}.region_code LIKE :jurisdiction`, params: { jurisdiction: jurisdiction(ctx) } });

@Resolver(() => MandatoryReport)
export class ReportResolver {
  @Mutation(() => ReportReceipt, { nullable: true, description: '强制报告: file a report; police and civil affairs are told at once' })
  async fileMandatoryReport(@Arg('input', () => FileReportInput) input: FileReportInput, @Ctx() ctx: HubContext): Promise<ReportReceipt> {
    const fields = {
      observation: requireText('observation', input.observation, 4000),
      location: requireLine('location', input.location, 200),
      reporterUnit: optionalLine('reporterUnit', input.reporterUnit, 100),
      childDescription: optionalText('childDescription', input.childDescription, 500),
      observedAt: requireChildhoodTime('observedAt', input.observedAt, ctx.now),
    };
    const childIdNumber = normalIdNumber(input.childIdNumber) === '' ? null : requirePersonIdNumber('childIdNumber', input.childIdNumber, ctx.now);
    // The number states the child's birth: a report of something seen before it is refused from the
    // number alone, registered or not, so that the refusal tells the filer nothing of the registry.
    if (childIdNumber && chinaDay(fields.observedAt) < idNumberBirthDate(childIdNumber)) {
      throw badInput('observedAt', 'must not be before the birth date the child’s ID number states');
    }
    if (input.childId != null && !isUuid(input.childId)) throw badInput('childId', 'is not a registry id');
    const regionCode = String(input.regionCode ?? '');
    if (!isRegionCode(regionCode)) throw badInput('regionCode', 'a region code is 6, 9, 12 or 15 digits');
    const deadlines = ctx.config.workflow.reportDeadlines[input.urgency];
    return ctx.db.transaction(async (em) => {
      const [region] = await em.query(`SELECT code FROM registry.region WHERE code = $1`, [regionCode]);
      if (!region) throw badInput('regionCode', 'is not a region of the hub');
      // The child is linked when the registry knows it as a minor (someone who has turned 18 is no
      // registered child: the report then names none, as for an unregistered number; the number
      // stays on it); the reporter is never told whether it did
      // (that would make the report form an oracle on the registry). The link reaches only readers
      // whose jurisdiction covers the child: `minor` and `asSeenBy` below, and the notification only
      // when the child lives in the report's region, whose officers are the ones told (emitNotification).
      // Whether the child lives in the report's region comes with it, so that a registered number
      // costs no statement more than an unknown one (the filing's time would tell the reporter).
      // Given both, the id and the number must name the same child, or none is linked: preferring
      // either, a report naming a child of the filer's street by one and any value by the other
      // linked the street's child only when that value was no registered child's, which the filer
      // reads back (`MandatoryReport.minor`, the notification) — an oracle on every id and number.
      const [child]: { id: string; name: string; grid_code: string; in_region: boolean }[] = input.childId || childIdNumber
        ? await em.query(
            `SELECT id, name, grid_code, grid_code LIKE $4 AS in_region FROM registry.minor
              WHERE (id = $1 OR id_number = $2) AND ($1 IS NULL OR id = $1) AND ($2 IS NULL OR id_number = $2)
                AND ${isMinorAt('birth_date', '$3')} LIMIT 1`,
            [input.childId ?? null, childIdNumber, ctx.now, `${regionCode}%`],
          )
        : [];
      const report = em.getRepository(MandatoryReport).create({
        id: randomUUID(),
        reporterId: ctx.principal.userId,
        reporterDepartment: ctx.principal.department,
        ...fields,
        harmType: input.harmType,
        regionCode,
        minorId: child?.id ?? null,
        childIdNumber,
        urgency: input.urgency,
        status: S.RECEIVED,
        receivedAt: ctx.now,
        verifyDueAt: minutes(ctx.now, deadlines.verifyMinutes),
        handleDueAt: minutes(ctx.now, deadlines.handleMinutes),
        updatedAt: ctx.now,
      });
      await em.getRepository(MandatoryReport).insert(report);
      await emitNotification(em, ctx, {
        kind: NotificationKind.MANDATORY_REPORT,
        regionCode,
        minorId: child?.id ?? null,
        childInRegion: child?.in_region ?? false,
        subjectId: report.id,
        fields: {
          'MandatoryReport.harmType': report.harmType,
          'MandatoryReport.urgency': report.urgency,
          'MandatoryReport.location': report.location,
          'MandatoryReport.observedAt': report.observedAt,
          'MandatoryReport.verifyDueAt': report.verifyDueAt,
          'Minor.name': child?.name,
        },
        dedupeKey: `MANDATORY_REPORT:${report.id}`,
      });
      // The audit names the linked child on the change when the child is in the filer's own
      // jurisdiction: the filer's event is read by the auditors of that jurisdiction, to whom the
      // name of a child elsewhere would answer the question the filer is never answered.
      if (child && child.grid_code.startsWith(ctx.principal.region)) ctx.access.belongsTo(report.id, child.id);
      return { id: report.id, status: report.status, receivedAt: report.receivedAt };
    });
  }

  @Query(() => [ReportReceipt], { nullable: true, description: 'The caller’s own reports, newest first: status only' })
  async myReports(
    @Ctx() ctx: HubContext,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<ReportReceipt[]> {
    // A user id is only unique inside the department that issued it: the same `sub` in another
    // department's token is someone else, and must not follow the filer's reports.
    const own = (alias: string) => ({
      sql: `${alias}.reporter_id = :reporter AND ${alias}.reporter_department = :department`,
      params: { reporter: ctx.principal.userId, department: ctx.principal.department },
    });
    const rows = pageAfter(await newestFirst(ctx.db.getRepository(MandatoryReport), 'received_at', own, pageSize(first), after), after);
    // A report about a child of the filer's jurisdiction is that child's in the trail, filed
    // (`belongsTo`) and read back alike: its status is what became of a report about the child.
    // Asked whether any is linked or not, so that the time taken tells the filer nothing.
    if (rows.length) {
      // A receipt names no child to its filer, linked or not: under a purpose bound to one child it
      // is another child's, every one alike, or the answer withheld for the linked ones alone tells
      // the filer which report named a registered child (and so whether a guessed ID number was its).
      ctx.access.servedUnnamedChild();
      const linked = rows.flatMap((r) => (r.minorId ? [r.minorId] : []));
      // Children only: one who has turned 18 is answered for as no child, here as everywhere.
      const here: { minor_id: string }[] = await ctx.db.query(MINORS_UNDER_AT, [linked, jurisdiction(ctx), ctx.now]);
      for (const { minor_id } of here) for (const field of RECEIPT_READ) ctx.access.read(minor_id, field, ctx.policy.access(ctx.subject, field));
    }
    return rows.map((r) => ({ id: r.id, status: r.status, receivedAt: r.receivedAt }));
  }

  @Query(() => [MandatoryReport], { nullable: true, description: 'Reports about places in the caller’s jurisdiction, newest first' })
  async mandatoryReports(
    @Ctx() ctx: HubContext,
    @Arg('status', () => [ReportStatus], { nullable: true }) status?: ReportStatus[],
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<MandatoryReport[]> {
    const tests = new FilterTests(ctx);
    if (status != null) tests.check('MandatoryReport.status', 'status');
    const statuses = status == null ? null : requireSomeValues('status', status);
    const rule = (alias: string) => {
      const { sql, params } = inPlace(ctx, alias);
      return { sql: `${sql}${statuses ? ` AND ${alias}.status = ANY(:status)` : ''}`, params: { ...params, status: statuses } };
    };
    const rows = await allSeenBy(
      ctx,
      await newestFirst(ctx.db.getRepository(MandatoryReport), 'received_at', rule, pageSize(first), after, testedOfItsChild(ctx, (alias) => inPlace(ctx, alias), tests.tested)),
    );
    // The `after` item's child too: its being accepted is a test of it, as its refusal is (AFTER).
    for (const r of rows) noteTested(ctx, r.minorId, tests.tested);
    return pageAfter(rows, after);
  }

  @Query(() => MandatoryReport, { nullable: true })
  async mandatoryReport(@Arg('id', () => ID) id: string, @Ctx() ctx: HubContext): Promise<MandatoryReport | null> {
    if (!isUuid(id)) return null;
    const report = await ctx.db
      .getRepository(MandatoryReport)
      .createQueryBuilder('m')
      .where('m.id = :id', { id })
      .andWhere('m.region_code LIKE :jurisdiction', { jurisdiction: jurisdiction(ctx) })
      .getOne();
    return report && asSeenBy(ctx, report);
  }

  @Query(() => [MandatoryReport], { nullable: true, description: 'Reports past their verification or handling deadline, most overdue first' })
  async overdueReports(
    @Ctx() ctx: HubContext,
    @Arg('first', () => Int, { defaultValue: 100 }) first = 100,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<MandatoryReport[]> {
    // Each report listed is known to be RECEIVED past its verification deadline, or VERIFYING past
    // its handling deadline, whatever is selected: a read of the status and of that deadline.
    const [received, verifying] = [new FilterTests(ctx), new FilterTests(ctx)];
    received.check('MandatoryReport.status', 'overdueReports');
    received.check('MandatoryReport.verifyDueAt', 'overdueReports');
    verifying.check('MandatoryReport.status', 'overdueReports');
    verifying.check('MandatoryReport.handleDueAt', 'overdueReports');
    const overdue = (alias: string) => {
      const { sql, params } = inPlace(ctx, alias);
      return {
        sql: `${sql} AND ((${alias}.status = 'RECEIVED' AND ${alias}.verify_due_at < :now) OR (${alias}.status = 'VERIFYING' AND ${alias}.handle_due_at < :now))`,
        params: { ...params, now: ctx.now },
      };
    };
    const rows = await allSeenBy(
      ctx,
      // Refused, it is neither: both tests were made of it.
      await inOrder(ctx.db.getRepository(MandatoryReport), MOST_OVERDUE, overdue, pageSize(first), after, testedOfItsChild(ctx, (alias) => inPlace(ctx, alias), [...received.tested, ...verifying.tested])),
    );
    // The `after` report's child too: its being accepted is a test of it (AFTER).
    for (const r of rows) noteTested(ctx, r.minorId, (r.status === S.RECEIVED ? received : verifying).tested);
    return pageAfter(rows, after);
  }

  @Mutation(() => MandatoryReport, { nullable: true, description: 'One step of the state machine, with a note; the time is now' })
  async transitionReport(
    @Arg('id', () => ID) id: string,
    @Arg('to', () => ReportStatus) to: ReportStatus,
    @Arg('note') note: string,
    @Ctx() ctx: HubContext,
  ): Promise<MandatoryReport> {
    const text = requireText('note', note, 2000);
    const stepped = await ctx.db.transaction(async (em) => {
      const report = isUuid(id)
        ? await em
            .getRepository(MandatoryReport)
            .createQueryBuilder('m')
            .setLock('pessimistic_write')
            .where('m.id = :id', { id })
            .andWhere('m.region_code LIKE :jurisdiction', { jurisdiction: jurisdiction(ctx) })
            .getOne()
        : null;
      if (!report) throw notFound('MandatoryReport');
      const loaded = await loadedRecordOf(em, ctx, 'MandatoryReport', report.minorId);
      const step = REPORT_TRANSITIONS.find((t) => t.from === report.status && t.to === to);
      if (!step || !step.by.includes(ctx.principal.department)) loaded.refusalStates('MandatoryReport.status');
      if (!step) throw badInput('to', `a ${report.status} report cannot become ${to}`);
      if (!step.by.includes(ctx.principal.department)) throw forbidden(`${report.status} → ${to} is taken by ${step.by.join(' or ')}`);
      // Never before the step before it (or the filing: `updatedAt`), nor the escalation of a lapse:
      // `ctx.now` is read before this row lock is waited for, on the clock of the gateway that took
      // the request (another's, or the job's, may run seconds ahead), and a step recorded earlier
      // than what it follows reads out of order — verified before it was escalated as unverified.
      const at = stepTime(ctx.now, latestTime(report.updatedAt, report.verifyEscalatedAt, report.handleEscalatedAt));
      await em.getRepository(ReportTransition).insert({
        id: randomUUID(),
        reportId: report.id,
        minorId: report.minorId,
        fromStatus: report.status,
        toStatus: to,
        officerId: ctx.principal.userId,
        department: ctx.principal.department,
        note: text,
        at,
      });
      report.status = to;
      report.updatedAt = at;
      // A handled report about a registered child asks civil affairs, who assess, to reassess the
      // child: the escalation job sends it (workflow.jobs.ts), not this step. Reading the child and
      // writing the request here made the step cost more when the report named a registered child,
      // and a filer may name any ID number — stepping the report told them whether it was a child
      // registered outside their jurisdiction, which every read of the report hides from them. So
      // the step writes the same statement whether or not the report names a child.
      await em.query(`UPDATE workflow.mandatory_report SET status = $2, updated_at = $3, reassessment_due = reassessment_due OR ($4 AND minor_id IS NOT NULL) WHERE id = $1`, [
        report.id,
        to,
        at,
        to === S.HANDLED,
      ]);
      return report;
    });
    return asSeenBy(ctx, stepped);
  }

  @FieldResolver(() => MinorStub, { nullable: true, description: 'The registered child, when the report could be linked and the child is in the caller’s jurisdiction' })
  async minor(@Root() report: MandatoryReport, @Ctx() ctx: HubContext): Promise<MinorStub | null> {
    return report.minorId ? minorInJurisdiction(ctx, report.minorId) : null;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: 'Past its verification or handling deadline' })
  overdue(@Root() report: MandatoryReport, @Ctx() ctx: HubContext): boolean {
    return isReportOverdue(report, ctx.now);
  }

  @FieldResolver(() => [ReportTransition], { nullable: true, description: 'Every step, oldest first' })
  async transitions(@Root() report: MandatoryReport, @Ctx() ctx: HubContext): Promise<ReportTransition[]> {
    const steps = await workflowLoaders(ctx).transitionsByReport.load(report.id);
    // A step names the child its report names to this reader (`asSeenBy` above).
    return report.minorId ? steps : steps.map((s) => (s.minorId ? { ...s, minorId: null } : s));
  }
}
