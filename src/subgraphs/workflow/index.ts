import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { minorReferenceResolvers } from '../shared/jurisdiction';
import { WorkflowInit1795400400000 } from '../../../migrations/1795400400000-workflow-init';
import { BarredPersonRevocation1795401200000 } from '../../../migrations/1795401200000-barred-person-revocation';
import { WorkflowNotificationIdNumberMask1795401600000 } from '../../../migrations/1795401600000-workflow-notification-id-number-mask';
import { WorkflowReportReassessmentDue1795401800000 } from '../../../migrations/1795401800000-workflow-report-reassessment-due';
import { WorkflowNotificationAddressMask1795401900000 } from '../../../migrations/1795401900000-workflow-notification-address-mask';
import { BarredPersonKey1795402000000 } from '../../../migrations/1795402000000-barred-person-key';
import { WorkflowVisitOverdueKeyByGrid1795402100000 } from '../../../migrations/1795402100000-workflow-visit-overdue-key-by-grid';
import { WorkflowNotificationReleaseBefore1795402600000 } from '../../../migrations/1795402600000-workflow-notification-release-before';
import { WorkflowReportEscalation1795402700000 } from '../../../migrations/1795402700000-workflow-report-escalation';
import { WorkflowNotificationToldCategory1795402800000 } from '../../../migrations/1795402800000-workflow-notification-told-category';
import { BarredPersonListedBy1795402900000 } from '../../../migrations/1795402900000-barred-person-listed-by';
import { BarredPersonTimes1795403100000 } from '../../../migrations/1795403100000-barred-person-times';
import { WorkflowNotificationChildRed1795403200000 } from '../../../migrations/1795403200000-workflow-notification-child-red';
import { WorkflowNotificationPayloadAccess1795403600000 } from '../../../migrations/1795403600000-workflow-notification-payload-access';
import { EmploymentCheckTimes1795403400000 } from '../../../migrations/1795403400000-employment-check-times';
import { BarredPerson } from './entities/barred-person.entity';
import { EmploymentCheck } from './entities/employment-check.entity';
import { MandatoryReport } from './entities/mandatory-report.entity';
import { MinorStub } from './entities/minor.stub';
import { Notification } from './entities/notification.entity';
import { Referral } from './entities/referral.entity';
import { ReportTransition } from './entities/report-transition.entity';
import { Webhook, WebhookDelivery } from './entities/webhook.entity';
import { EmploymentResolver } from './resolvers/employment.resolver';
import { MinorWorkflowResolver } from './resolvers/minor.resolver';
import { NotificationResolver, WebhookResolver } from './resolvers/notification.resolver';
import { ReferralResolver } from './resolvers/referral.resolver';
import { ReportResolver } from './resolvers/report.resolver';
import { VisitSlaResolver } from './resolvers/visit-sla.resolver';
import { startWorkflowJobs } from './workflow.jobs';
import { registryKeyProblem } from './workflow.employment';
import { loggableSummary } from '../../errors/hub.exception';
import { referralGrantSource } from './workflow.grants';
import { workflowPolicy } from './workflow.policy';
import { workflowRecords } from './workflow.scale';
import { seedWorkflowIfEmpty } from './workflow.seed';

/**
 * 监测、预防、报告、转介、处置、帮扶 as working features: mandatory reports, referrals (with their
 * field grants), notifications (inbox and signed webhooks), the pre-employment check and the
 * visit SLA. See docs/workflows.md.
 */
export const workflowSubgraph: SubgraphSlice = {
  name: 'workflow',
  owner: Department.CIVIL_AFFAIRS,
  entities: [MandatoryReport, ReportTransition, Referral, Notification, Webhook, WebhookDelivery, BarredPerson, EmploymentCheck],
  migrations: [WorkflowInit1795400400000, BarredPersonRevocation1795401200000, WorkflowNotificationIdNumberMask1795401600000, WorkflowReportReassessmentDue1795401800000, WorkflowNotificationAddressMask1795401900000, BarredPersonKey1795402000000, WorkflowVisitOverdueKeyByGrid1795402100000, WorkflowNotificationReleaseBefore1795402600000, WorkflowReportEscalation1795402700000, WorkflowNotificationToldCategory1795402800000, BarredPersonListedBy1795402900000, BarredPersonTimes1795403100000, WorkflowNotificationChildRed1795403200000, EmploymentCheckTimes1795403400000, WorkflowNotificationPayloadAccess1795403600000],
  resolvers: [ReportResolver, ReferralResolver, NotificationResolver, WebhookResolver, EmploymentResolver, VisitSlaResolver, MinorWorkflowResolver],
  orphanedTypes: [MinorStub],
  // The child the gateway names, when in the caller's jurisdiction: a report made in the caller's
  // street about a child of another is a record of no child to that caller (asSeenBy), so the
  // child's own reports and referrals are not asked of it.
  referenceResolvers: minorReferenceResolvers(),
  policy: workflowPolicy,
  scaleRecords: workflowRecords,
  childRecordTypes: ['MandatoryReport', 'ReportTransition', 'Referral', 'Notification', 'OverdueVisit'],
  purposeFreeMutations: {
    fileMandatoryReport: 'anyone who sees harm files (REPORTER); the purpose is the report itself, and the receipt reads nothing of the child back',
    employmentCheck: 'an employer asks about an adult applicant; no child is read or changed',
    employmentRescreen: 'an employer re-screens its adult staff; no child is read or changed',
    addBarredPerson: 'the barred-person list is of adults',
    removeBarredPerson: 'the barred-person list is of adults',
    registerWebhook: 'a department system’s address; what is later delivered to it is audited per delivery',
    deactivateWebhook: 'a department system’s address',
  },
  purposeFreeChildChanges: ['fileMandatoryReport'],
  grantSources: [referralGrantSource],
  seedDemo: seedWorkflowIfEmpty,
  // Deadlines (escalations) and webhook deliveries run on the serving process's timer; each delivery is audited first.
  // The barred-person registry's key is checked at start too, for the operator's log.
  start: ({ ds, config, policy, audit }) => {
    const keyChecked = registryKeyProblem(config, ds).then(
      (problem) => problem && console.error(`[hub] ${problem}`),
      (e) => console.error(`[hub] the barred-person registry's key was not checked at start: ${loggableSummary(e)}`),
    );
    const jobs = startWorkflowJobs(ds, config, policy, audit);
    return {
      stop: async () => {
        await keyChecked;
        await jobs.stop();
      },
    };
  },
};
