import { HubContext, sliceLoaders } from '../../server/hub.context';
import { recordsByMinor, recordsByParent } from '../shared/record-loaders';
import { CarePlan } from './entities/care-plan.entity';
import { CareVisit } from './entities/care-visit.entity';
import { ChildrenHomeAttendance } from './entities/children-home-attendance.entity';
import { DomesticViolenceSupport } from './entities/domestic-violence-support.entity';
import { FamilyEducationSession } from './entities/family-education-session.entity';

/** One loader per relation, one statement per batch; newest first. */
function createWomensFederationLoaders(ctx: HubContext) {
  return {
    plansByMinor: recordsByMinor(ctx, CarePlan, [['startedOn', 'DESC']]),
    sessionsByMinor: recordsByMinor(ctx, FamilyEducationSession, [['heldOn', 'DESC']]),
    supportByMinor: recordsByMinor(ctx, DomesticViolenceSupport, [['startedOn', 'DESC']]),
    attendanceByMinor: recordsByMinor(ctx, ChildrenHomeAttendance, [['attendedOn', 'DESC']]),
    /** Keyed by plans already loaded under the jurisdiction rule. */
    visitsByPlan: recordsByParent(ctx, CareVisit, 'planId', [['visitedOn', 'DESC']]),
  };
}

export const womensFederationLoaders = (ctx: HubContext) => sliceLoaders(ctx, 'womens_federation', createWomensFederationLoaders);
