import type { EntityManager } from 'typeorm';
import type { Department } from '../../auth/principal';
import type { Policy } from '../../policy/policy';
import { Rng } from '../../common/rng';
import { payloadAccess, payloadFor } from './workflow.notify';

const HOUR = 3_600_000;
const at = (anchor: Date, hours: number) => new Date(anchor.getTime() + hours * HOUR);

/** The steps that brought a demo report to its status: to whom, by which department, hours after the one before. */
const STEPS: Record<string, readonly (readonly [to: string, department: string, hours: number])[]> = {
  RECEIVED: [],
  VERIFYING: [['VERIFYING', 'POLICE', 0.5]],
  CLOSED: [['VERIFYING', 'POLICE', 0.5], ['HANDLED', 'POLICE', 12], ['CLOSED', 'CIVIL_AFFAIRS', 36]],
};

/**
 * A few demo reports and referrals around the demo district's first children, so that the
 * inboxes and overdue lists are not empty: an urgent report past its verification deadline, one
 * being verified, one closed; a pending referral to education, an accepted one to the women's
 * federation and a completed one to justice. With what the hub would have recorded of them: each
 * report's steps, its notification to police and civil affairs and, once handled, the request to
 * civil affairs to reassess its child; each referral's notification to its receiver and of each
 * answer to civil affairs, each recipient's payload as a live emitter's (those older than two days
 * acknowledged). Deterministic; dates relative to `anchor`.
 */
export async function seedWorkflowIfEmpty(em: EntityManager, anchor: Date, policy: Policy): Promise<void> {
  const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM workflow.mandatory_report`);
  if (n > 0) return;
  const children: { id: string; grid_code: string; name: string }[] = await em.query(
    `SELECT id, grid_code, name FROM registry.minor WHERE risk_level IN ('RED','ORANGE') ORDER BY id LIMIT 6`,
  );
  if (children.length < 6) return; // no registry demo data to attach to
  const rng = new Rng(20261123);
  // A stream of its own for the steps and notifications: the reports' and referrals' ids stay as they were.
  const told = new Rng(20261207);
  const notify = async (kind: string, department: string, region: string, minorId: string, subjectId: string, fields: Record<string, unknown>, created: Date, event = `${kind}:${subjectId}`) => {
    // As a live emitter's: each recipient's payload holds what its row lets it read. Not through
    // emitNotification, whose ids are random: the demo data are the same on every machine.
    const payload = payloadFor(policy, department as Department, fields);
    const acknowledged = anchor.getTime() - created.getTime() > 48 * HOUR;
    await em.query(
      `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, payload_access, created_at, acknowledged_at, acknowledged_by, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [told.uuid(), kind, department, region, minorId, subjectId, JSON.stringify(payload), JSON.stringify(payloadAccess(policy, department as Department, payload)), created,
        acknowledged ? at(created, 2) : null, acknowledged ? `${department.toLowerCase()}-demo` : null, `${event}:${department}`],
    );
  };
  const reports: [string, string, string, string, number, string][] = [
    // harm, urgency, status, observation, hours before anchor, location
    ['PHYSICAL_ABUSE', 'URGENT', 'RECEIVED', '学生手臂多处淤青，自述被家长殴打', 3, '清波小学'],
    ['NEGLECT', 'HIGH', 'VERIFYING', '儿童长期独自在家，无人照料', 30, '社区走访'],
    ['MISSING', 'URGENT', 'CLOSED', '酒店发现未成年人独自入住，与家人失联', 200, '湖滨某酒店'],
  ];
  for (const [i, [harm, urgency, status, observation, ago, location]] of reports.entries()) {
    const child = children[i];
    const received = at(anchor, -ago);
    const verifyDue = at(received, urgency === 'URGENT' ? 1 : 4);
    const id = rng.uuid();
    let from = 'RECEIVED';
    let updated = received;
    const steps: { id: string; from: string; to: string; department: string; note: string; at: Date }[] = [];
    for (const [to, department, hours] of STEPS[status]) {
      updated = at(updated, hours);
      steps.push({ id: told.uuid(), from, to, department, note: `${from} → ${to}`, at: updated });
      from = to;
    }
    await em.query(
      `INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, reporter_unit, harm_type, observation, observed_at, location,
         region_code, minor_id, urgency, status, received_at, verify_due_at, handle_due_at, updated_at)
       VALUES ($1, 'reporter-demo', 'EDUCATION', $2, $3, $4, $5, $2, $6, $7, $8, $9, $5, $10, $11, $12)`,
      [id, location, harm, observation, received, child.grid_code, child.id, urgency, status, verifyDue, at(received, urgency === 'URGENT' ? 24 : 72), updated],
    );
    for (const step of steps) {
      await em.query(
        `INSERT INTO workflow.report_transition (id, report_id, minor_id, from_status, to_status, officer_id, department, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [step.id, id, child.id, step.from, step.to, `${step.department.toLowerCase()}-demo`, step.department, step.note, step.at],
      );
    }
    const filed = {
      'MandatoryReport.harmType': harm,
      'MandatoryReport.urgency': urgency,
      'MandatoryReport.location': location,
      'MandatoryReport.observedAt': received,
      'MandatoryReport.verifyDueAt': verifyDue,
      'Minor.name': child.name,
    };
    for (const department of ['POLICE', 'CIVIL_AFFAIRS']) await notify('MANDATORY_REPORT', department, child.grid_code, child.id, id, filed, received);
    // Handled about a registered child: civil affairs is asked to reassess it (the escalation job's, just after the step).
    const handled = steps.find((step) => step.to === 'HANDLED');
    if (handled) {
      const fields = { 'Minor.name': child.name, 'MandatoryReport.harmType': harm, 'ReportTransition.note': handled.note };
      await notify('REASSESSMENT_REQUESTED', 'CIVIL_AFFAIRS', child.grid_code, child.id, id, fields, at(handled.at, 0.1));
    }
  }
  const referrals: [string, string, string, string][] = [
    ['EDUCATION_AID', 'EDUCATION', 'PENDING', '家庭困难，申请教育资助'],
    ['FAMILY_EDUCATION_GUIDANCE', 'WOMENS_FEDERATION', 'ACCEPTED', '监护人需家庭教育指导'],
    ['LEGAL_AID', 'JUSTICE', 'COMPLETED', '父亲服刑，需法律援助办理监护事宜'],
  ];
  for (const [i, [type, to, status, need]] of referrals.entries()) {
    const child = children[3 + i];
    const created = at(anchor, -48 * (i + 1));
    const answered = status === 'PENDING' ? null : at(created, 20);
    const completed = status === 'COMPLETED' ? at(created, 100) : null;
    const answerDue = at(created, 72);
    const outcome = '已安排法律援助律师，监护变更完成';
    const id = rng.uuid();
    await em.query(
      `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at,
         answer_due_at, complete_due_at, answered_at, answered_by, completed_at, completed_by, outcome, closed_at)
       VALUES ($1, $2, $3, $4, 'CIVIL_AFFAIRS', 'civil-affairs-demo', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $13)`,
      [id, child.id, type, need, to, child.grid_code.slice(0, 9), status, created, answerDue,
        answered && at(answered, 30 * 24), answered, answered && `${to.toLowerCase()}-demo`, completed, completed && `${to.toLowerCase()}-demo`,
        completed && outcome],
    );
    const received = { 'Referral.type': type, 'Referral.need': need, 'Referral.fromDepartment': 'CIVIL_AFFAIRS', 'Referral.answerDueAt': answerDue, 'Minor.name': child.name };
    await notify('REFERRAL_RECEIVED', to, child.grid_code.slice(0, 9), child.id, id, received, created);
    // Each answer told to civil affairs, who referred it.
    for (const [answer, when] of [['ACCEPTED', answered], ['COMPLETED', completed]] as const) {
      if (!when) continue;
      const fields = { 'Referral.type': type, 'Referral.toDepartment': to, 'Referral.status': answer, 'Referral.outcome': answer === 'COMPLETED' ? outcome : null, 'Minor.name': child.name };
      await notify('REFERRAL_OUTCOME', 'CIVIL_AFFAIRS', child.grid_code.slice(0, 9), child.id, id, fields, when, `REFERRAL_OUTCOME:${id}:${answer}`);
    }
  }
}
