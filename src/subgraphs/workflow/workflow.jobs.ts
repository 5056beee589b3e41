import type { DataSource, EntityManager } from 'typeorm';
import type { AuditSink } from '../../audit/audit.writer';
import { Department } from '../../auth/principal';
import type { HubConfig } from '../../config/hub.config';
import { stepTime, timeAfter } from '../../common/dates';
import { isDatabaseTimeout, isLockNotAvailable, loggableError } from '../../errors/hub.exception';
import { isConnectionLoss, isUnreachable } from '../../db/lost-session';
import type { Policy } from '../../policy/policy';
import { hubClock } from '../../server/hub.context';
import { RiskLevel } from '../registry/registry.enums';
import { isMinorAt } from '../registry/registry.loaders';
import { overdueVisitRows, visitOverdueKey } from './resolvers/visit-sla.resolver';
import { NotificationKind, ReferralStatus, ReportStatus } from './workflow.enums';
import { emitNotification, Emitter } from './workflow.notify';
import { notificationRecipients } from './workflow.policy';
import { withShortLockWait } from './workflow.locks';
import { deliverWebhooks } from './workflow.webhooks';

export interface EscalationSummary {
  referrals: number;
  redNotifications: number;
  /** Mandatory reports past their verification or handling deadline. */
  reports: number;
  overdueVisits: number;
  reassessments: number;
  /** Items whose transaction failed, logged and left for the next pass (`eachItem`). */
  failed: number;
}

const BATCH = 500;

/**
 * One item of a step, in a transaction of its own. An item that fails is logged and left for the
 * next pass, and the step goes on with the next: thrown on, one record a step could not handle (a
 * constraint, a payload no notification could be made of) failed the pass at every tick, and with
 * it every item and step after it — RED escalations included — for as long as the record stayed.
 * So is one whose row another session holds locked past JOB_LOCK_WAIT_MS (workflow.locks; a registry write on the
 * child, a webhook's deactivation failing its deliveries): waited for until the statement timeout,
 * which tells that the database is not answering, it ended the pass, at every pass for as long as
 * the lock was held. That timeout still ends the pass — each item would wait it out in turn.
 * Resolves to what `work` returns once committed, or undefined.
 */
function itemsOf(ds: DataSource, summary: EscalationSummary) {
  return async <T>(step: string, id: string, work: (em: EntityManager) => Promise<T>): Promise<T | undefined> => {
    try {
      return await withShortLockWait(ds, work);
    } catch (e) {
      const held = isLockNotAvailable(e);
      if (!held && (isDatabaseTimeout(e) || isConnectionLoss(e) || isUnreachable(e))) throw e;
      summary.failed++;
      console.error(`[hub] workflow escalation: ${step} ${id} ${held ? 'held locked by another session' : 'failed'}, left for the next pass: ${loggableError(e)}`);
      return undefined;
    }
  };
}

/**
 * A step's items batch after batch until none is left, each in `eachItem`: one batch a pass left a
 * backlog (the job down for a while, a screening round's RED children) to be escalated 500 a
 * minute, the last long after their deadline. Each batch is new items: one escalated no longer
 * matches `read`, and one that failed or told nothing in this run (another instance's, or held
 * locked by another session: `takeLapse`) is passed to `read` to be left out, for the next pass.
 * The step ends at a batch that is not full, never at a full one of failures: a run that stopped
 * there read the same oldest failures first at every pass, and every lapse behind them waited for
 * good. Resolves to the sum of what `each` told.
 */
async function everyBatch<R extends { id: string }>(read: (leftOut: string[]) => Promise<R[]>, each: (row: R) => Promise<number | undefined>): Promise<number> {
  const leftOut: string[] = [];
  let told = 0;
  for (;;) {
    const rows = await read(leftOut);
    for (const row of rows) {
      const n = await each(row);
      if (!n) leftOut.push(row.id);
      told += n ?? 0;
    }
    if (rows.length < BATCH) return told;
  }
}

/**
 * Takes one lapse (sets its mark), in `em`'s transaction: 1 if taken, 0 if another instance or a
 * step took it since the batch was read (`open`, the condition of a lapse still to tell, no longer
 * holds) or another session holds the row locked. That one is left for the next pass rather than
 * waited for: a wait that ran out ended the pass, and with it every lapse and step after it, at
 * every pass for as long as the lock was held.
 */
async function takeLapse(em: EntityManager, table: string, set: string, open: string, params: unknown[]): Promise<number> {
  const { 1: changed } = (await em.query(
    `UPDATE ${table} SET ${set} WHERE id = (SELECT id FROM ${table} WHERE id = $1 AND ${open} FOR UPDATE SKIP LOCKED)`,
    params,
  )) as [unknown, number];
  return changed;
}

/** The next region level up (区县 ← 街道 ← 社区 ← 网格); the root escalates to itself. */
async function parentRegion(ds: DataSource, code: string): Promise<string> {
  const [row] = await ds.query(`SELECT parent_code FROM registry.region WHERE code = $1`, [code]);
  return row?.parent_code ?? code;
}

/** An ESCALATION to civil affairs of `region` (one level up from what was missed), in `em`'s transaction. */
function escalate(em: EntityManager, emitter: Emitter, region: string, minorId: string | null, subjectId: string, dedupeKey: string, fields: Record<string, unknown>): Promise<number> {
  return emitNotification(em, emitter, { kind: NotificationKind.ESCALATION, regionCode: region, minorId, subjectId, to: [Department.CIVIL_AFFAIRS], fields, dedupeKey });
}

/**
 * A registered child under 18 as it is now, read in the transaction that tells of it, not as the
 * step's batch read it: a child moved meanwhile (updateMinor) is told to its new grid's departments
 * — to the old one's the notification named no child (emitNotification), and the new one's were
 * never told, the dedupe key spent — and a visit recorded meanwhile has moved the due date on. KEY
 * SHARE: the registry's writes lock the child FOR UPDATE, so one under way is waited for and a later
 * one waits for this commit; nothing of the registry is written. The child then lives in the grid
 * told (`childInRegion`), with no look-up more: the statements per child are as many as before.
 */
async function childNow(
  em: EntityManager,
  minorId: string,
  now: Date,
): Promise<{ name: string; grid_code: string; risk_level: string | null; next_visit_due: Date | null; updated_at: Date } | undefined> {
  const [child] = await em.query(
    `SELECT m.name, m.grid_code, m.risk_level, m.next_visit_due, m.updated_at FROM registry.minor m WHERE m.id = $1 AND ${isMinorAt('m.birth_date', '$2')} FOR KEY SHARE`,
    [minorId, now],
  );
  return child;
}

/**
 * The deadline jobs, for any `now` (the server's timer passes the clock, tests any time):
 * overdue referrals (unanswered, or accepted and not completed) escalate to CIVIL_AFFAIRS one
 * region level up; RED notifications unacknowledged for `redAckMinutes` escalate the same way, and
 * so do mandatory reports not verified, or not handled, by their deadlines;
 * RED and ORANGE children whose visit is overdue raise a notification; a report handled about a
 * registered child under 18 asks civil affairs to reassess the child. Each item of a step is its
 * own transaction (`eachItem`) and idempotent (dedupe keys), so a crash or a second instance
 * repeats nothing.
 */
export async function runEscalations(ds: DataSource, config: HubConfig, policy: Policy, now: Date): Promise<EscalationSummary> {
  const emitter: Emitter = { policy, now };
  const summary: EscalationSummary = { referrals: 0, redNotifications: 0, reports: 0, overdueVisits: 0, reassessments: 0, failed: 0 };
  const eachItem = itemsOf(ds, summary);

  const cutoff = new Date(now.getTime() - config.workflow.redAckMinutes * 60_000);
  // RED first: a child in danger now, whose departments have not answered; a backlog of overdue
  // referrals (city scale, the job's first run) must not hold it back.
  summary.redNotifications += await everyBatch(
    (failed): Promise<{ id: string; department: string; region_code: string; minor_id: string | null; created_at: Date }[]> =>
      ds.query(
        `SELECT id, department, region_code, minor_id, created_at FROM workflow.notification
          WHERE kind = 'CHILD_RED' AND acknowledged_at IS NULL AND escalated_at IS NULL AND created_at < $1 AND id <> ALL($3::uuid[])
          ORDER BY created_at LIMIT $2`,
        [cutoff, BATCH, failed],
      ),
    async (n) => {
      const target = await parentRegion(ds, n.region_code);
      return eachItem('RED notification', n.id, async (em) => {
        if (!(await takeLapse(em, 'workflow.notification', 'escalated_at = $2', 'acknowledged_at IS NULL AND escalated_at IS NULL', [n.id, now]))) return 0;
        return escalate(em, emitter, target, n.minor_id, n.id, `ESCALATION:notification:${n.id}`, {
          'Notification.kind': NotificationKind.CHILD_RED,
          'Notification.department': n.department,
          'Notification.createdAt': n.created_at,
        });
      });
    },
  );

  // Mandatory reports next, before referrals: a report is of harm a child suffers or may suffer now,
  // not yet looked into (RECEIVED) or not yet dealt with (handling deadline passed), and a backlog of
  // overdue referrals must not hold it back either. Once per deadline missed: VERIFICATION while
  // still RECEIVED after `verify_due_at`, HANDLING while still RECEIVED or VERIFYING after
  // `handle_due_at` (one taken up only then — the job down for a while — is told once, as HANDLING,
  // which covers its verification too). Most overdue first, as `overdueReports` lists them.
  summary.reports += await everyBatch(
    (failed): Promise<{ id: string; minor_id: string | null; harm_type: string; urgency: string; status: string; region_code: string; verify_due_at: Date; handle_due_at: Date; updated_at: Date; stage: string }[]> =>
      ds.query(
        `SELECT id, minor_id, harm_type, urgency, status, region_code, verify_due_at, handle_due_at, updated_at,
                CASE WHEN handle_due_at < $1 AND handle_escalated_at IS NULL THEN 'HANDLING' ELSE 'VERIFICATION' END AS stage
           FROM workflow.mandatory_report
          WHERE ((status = 'RECEIVED' AND verify_due_at < $1 AND verify_escalated_at IS NULL)
             OR (status IN ('RECEIVED', 'VERIFYING') AND handle_due_at < $1 AND handle_escalated_at IS NULL))
            AND id <> ALL($3::uuid[])
          ORDER BY CASE status WHEN 'RECEIVED' THEN verify_due_at ELSE handle_due_at END, id LIMIT $2`,
        [now, BATCH, failed],
      ),
    async (r) => {
      const target = await parentRegion(ds, r.region_code);
      const handling = r.stage === 'HANDLING';
      // Never before the step that left the report in the status escalated (the status is checked
      // unchanged below): taken on a clock ahead of the job's, it read as escalated before it.
      const at = stepTime(now, r.updated_at);
      return eachItem('mandatory report', r.id, async (em) => {
        // Still in the status read and the lapse not yet taken up: a step taken, or another
        // instance's escalation, since the batch was read leaves it.
        const taken = handling
          ? await takeLapse(
              em,
              'workflow.mandatory_report',
              `handle_escalated_at = $2, verify_escalated_at = CASE WHEN status = 'RECEIVED' THEN coalesce(verify_escalated_at, $2) ELSE verify_escalated_at END`,
              'status = $3 AND handle_escalated_at IS NULL',
              [r.id, at, r.status],
            )
          : await takeLapse(em, 'workflow.mandatory_report', 'verify_escalated_at = $2', 'status = $3 AND verify_escalated_at IS NULL', [r.id, at, r.status]);
        if (!taken) return 0;
        // The child is named (as the report's readers there see it: `MandatoryReport.minor`) while a
        // registered child under 18 living inside the region told, read under the lock as for a
        // reassessment. One who has turned 18 is named to no one, but the report still escalates, as
        // one naming no child: its duty did not lapse with the birthday, and whether it escalated must
        // not tell civil affairs there, who may read the report's ID number but not, for a child
        // registered outside their jurisdiction, its link, that the number was a registered child.
        const child = r.minor_id ? await childNow(em, r.minor_id, now) : undefined;
        const fields: Record<string, unknown> = {
          'MandatoryReport.harmType': r.harm_type,
          'MandatoryReport.urgency': r.urgency,
          'MandatoryReport.status': r.status as ReportStatus,
          'MandatoryReport.regionCode': r.region_code,
          'MandatoryReport.overdue': true,
        };
        // The deadlines it missed: a RECEIVED report past its handling deadline missed both.
        if (r.status === ReportStatus.RECEIVED) fields['MandatoryReport.verifyDueAt'] = r.verify_due_at;
        if (handling) fields['MandatoryReport.handleDueAt'] = r.handle_due_at;
        return emitNotification(em, { policy, now: at }, {
          kind: NotificationKind.ESCALATION,
          regionCode: target,
          minorId: child ? r.minor_id : null,
          childInRegion: !!child && child.grid_code.startsWith(target),
          subjectId: r.id,
          to: [Department.CIVIL_AFFAIRS],
          fields,
          dedupeKey: `ESCALATION:report:${r.id}:${r.stage}`,
        });
      });
    },
  );

  summary.referrals += await everyBatch(
    (failed): Promise<{ id: string; minor_id: string; type: string; status: string; to_department: string; region_code: string; last_step: Date; stage: string }[]> =>
      ds.query(
        `SELECT id, minor_id, type, status, to_department, region_code, coalesce(answered_at, created_at) AS last_step,
                CASE status WHEN 'PENDING' THEN 'ANSWER' ELSE 'COMPLETION' END AS stage
           FROM workflow.referral
          WHERE ((status = 'PENDING' AND answer_due_at < $1 AND escalated_at IS NULL)
             OR (status = 'ACCEPTED' AND complete_due_at < $1 AND (escalated_at IS NULL OR escalated_at < complete_due_at)))
            AND id <> ALL($3::uuid[])
          ORDER BY answer_due_at LIMIT $2`,
        [now, BATCH, failed],
      ),
    async (r) => {
      const target = await parentRegion(ds, r.region_code);
      // Never before its answer (the status is checked unchanged below), as for reports.
      const at = stepTime(now, r.last_step);
      return eachItem('referral', r.id, async (em) => {
        // Still in the status read and its stage not yet taken up: an answer since the batch was read,
        // or another instance's pass, leaves it (that one told it, at its own time; overwritten, the
        // referral's escalatedAt had moved to a time no notification was written at, earlier or later).
        const taken = await takeLapse(
          em,
          'workflow.referral',
          'escalated_at = $2, escalation_region = $3',
          `status = $4 AND (escalated_at IS NULL OR (status = 'ACCEPTED' AND escalated_at < complete_due_at))`,
          [r.id, at, target, r.status],
        );
        if (!taken) return 0;
        return escalate(em, { policy, now: at }, target, r.minor_id, r.id, `ESCALATION:referral:${r.id}:${r.stage}`, {
          'Referral.type': r.type,
          'Referral.status': r.status as ReferralStatus,
          'Referral.toDepartment': r.to_department,
          'Referral.overdue': true,
        });
      });
    },
  );

  // Reports handled about a registered child (transitionReport marks them): the step itself sends
  // nothing, so that it costs the same whether or not the report names a child registered outside
  // the officer's jurisdiction; the request is sent here, within one job interval. A child who has
  // turned 18 meanwhile is no longer followed: the mark is cleared and no one is asked. A mark
  // cleared leaves `read`; one not cleared (failed, taken by another, locked) is left out, as in
  // `everyBatch`.
  summary.reassessments += await everyBatch(
    (leftOut): Promise<{ id: string; minor_id: string; harm_type: string; updated_at: Date; note: string | null }[]> =>
      ds.query(
        `SELECT r.id, r.minor_id, r.harm_type, r.updated_at,
                (SELECT t.note FROM workflow.report_transition t WHERE t.report_id = r.id AND t.to_status = $1 ORDER BY t.at DESC LIMIT 1) AS note
           FROM workflow.mandatory_report r
          WHERE r.reassessment_due AND r.id <> ALL($3::uuid[])
          ORDER BY r.updated_at, r.id LIMIT $2`,
        [ReportStatus.HANDLED, BATCH, leftOut],
      ),
    (r) =>
      eachItem('reassessment of report', r.id, async (em) => {
        if (!(await takeLapse(em, 'workflow.mandatory_report', 'reassessment_due = false', 'reassessment_due', [r.id]))) return 0;
        const child = await childNow(em, r.minor_id, now);
        if (!child) return 0; // turned 18, or no longer registered
        // Never before the HANDLED step that asks for it (the report's last: it is closed or handled).
        return emitNotification(em, { policy, now: stepTime(now, r.updated_at) }, {
          kind: NotificationKind.REASSESSMENT_REQUESTED,
          regionCode: child.grid_code,
          minorId: r.minor_id,
          childInRegion: true, // its own grid, read under the lock above
          subjectId: r.id,
          fields: { 'Minor.name': child.name, 'MandatoryReport.harmType': r.harm_type, 'ReportTransition.note': r.note },
          dedupeKey: `REASSESSMENT_REQUESTED:${r.id}`,
        });
      }),
  );

  // Batch after batch of children not yet told, until none is left: the query leaves out those
  // told (their dedupe key exists), so each batch is new ones and one run tells every overdue child.
  const recipients = [...new Set(notificationRecipients[NotificationKind.VISIT_OVERDUE])];
  summary.overdueVisits += await everyBatch(
    async (leftOut) =>
      (await overdueVisitRows((sql, p) => ds.query(sql, p), '%', now, [RiskLevel.RED, RiskLevel.ORANGE], BATCH, { untoldTo: recipients, except: leftOut })).map((v) => ({
        ...v,
        id: v.minor_id,
      })),
    (v) =>
      eachItem('overdue visit of child', v.minor_id, async (em) => {
        // Still overdue by the same date, at the same level: a visit or assessment recorded since the
        // batch was read has moved the date (told, the lapse would be one that no longer is).
        const child = await childNow(em, v.minor_id, now);
        if (!child || child.risk_level !== v.risk_level || child.next_visit_due?.getTime() !== new Date(v.next_visit_due).getTime()) return 0;
        // After the child's step that left the visit due (an assessment taken on a clock ahead, whose
        // CHILD_RED it is listed above).
        return emitNotification(em, { policy, now: timeAfter(now, child.updated_at) }, {
          kind: NotificationKind.VISIT_OVERDUE,
          regionCode: child.grid_code,
          minorId: v.minor_id,
          childInRegion: true,
          fields: { 'Minor.riskLevel': v.risk_level, 'Minor.nextVisitDue': v.next_visit_due, 'OverdueVisit.responsibleWorker': v.responsible_worker },
          // Once per due date and grid: a visit moves the date, and a new lapse is told again; so is
          // a lapse the child took to another grid, to the grid it lives in now (read under the lock).
          dedupeKey: visitOverdueKey(v.minor_id, v.next_visit_due, child.grid_code),
        });
      }),
  );
  return summary;
}

export interface WorkflowJobs {
  stop(): Promise<void>;
}

/**
 * How much of the interval one delivery pass may spend leasing batch after batch. One batch per
 * pass sent 50 deliveries a minute, so that the backlog of the first escalation pass (every
 * overdue child told at once) took hours to clear; a pass bounded below the interval usually ends
 * before the next tick (its last batch may run past the bound by up to a lease), so passes keep
 * following the timer rather than skipping its ticks.
 */
export const DELIVERY_PASS_SHARE = 0.8;

/**
 * The server's timer for `runEscalations` and webhook delivery, on the hub's clock. The two run
 * apart, each with its own pass and clock reading: a slow escalation step (a backlog after
 * downtime) or a failing one neither delays deliveries nor stops them. Passes of one job never
 * overlap; a failed pass is logged and the next one tries again. Deliveries are audited on `audit`.
 * stop() waits for both; a delivery pass leases no further batch once stopping.
 */
export function startWorkflowJobs(ds: DataSource, config: HubConfig, policy: Policy, audit: AuditSink, log: (m: string) => void = console.error): WorkflowJobs {
  const { jobIntervalMs } = config.workflow;
  if (jobIntervalMs === 0) return { stop: async () => undefined };
  const clock = () => hubClock(config);
  const stopping = new AbortController();
  const job = (name: string, pass: () => Promise<unknown>) => {
    let running: Promise<void> | null = null;
    return {
      tick: () => {
        running ??= pass()
          .then(() => undefined)
          .catch((e) => log(`[hub] workflow ${name} failed: ${loggableError(e)}`))
          .finally(() => {
            running = null;
          });
      },
      settled: async () => {
        await running;
      },
    };
  };
  const escalations = job('escalations', () => runEscalations(ds, config, policy, clock()));
  const deliveries = job('webhook deliveries', () =>
    deliverWebhooks(ds, config.workflow.webhook, clock, { audit, policy }, { budgetMs: jobIntervalMs * DELIVERY_PASS_SHARE, signal: stopping.signal }),
  );
  const timer = setInterval(() => {
    escalations.tick();
    deliveries.tick();
  }, jobIntervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      stopping.abort();
      await Promise.all([escalations.settled(), deliveries.settled()]);
    },
  };
}
