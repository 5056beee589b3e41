import { PolicySubject, Role } from '../../auth/principal';
import { ALL_DEPARTMENTS, policyRow, PolicyRow } from '../../policy/policy.types';
import { VISIT_READERS } from '../registry/registry.policy';

/** Dashboards and every department's officers; AUDITOR reads the audit trail, not statistics. */
const READERS: PolicySubject[] = [...ALL_DEPARTMENTS, Role.DASHBOARD];
const STRUCTURE = 'Parts of a suppressed aggregate; no child can be singled out from them (docs/statistics.md).';

const structural: Record<string, string[]> = {
  CountCell: ['value', 'suppressed', 'display'],
  StatisticsCell: ['regionCode', 'regionName', 'riskLevel', 'ageBand', 'gender', 'count'],
  StatisticsTable: ['level', 'measure', 'dimensions', 'categoriesFolded', 'refreshedAt', 'cells', 'total'],
  StatisticsRate: ['numerator', 'denominator', 'percent', 'suppressed', 'display'],
  RegionRates: ['regionCode', 'regionName', 'screening', 'reportsHandledInTime', 'referralsHandledInTime'],
  StatisticsRates: ['level', 'refreshedAt', 'regions', 'total'],
  TrendPoint: ['month', 'series', 'count'],
  MonthlyTrend: ['refreshedAt', 'points'],
  StatisticsFreshness: ['refreshedAt', 'refreshIntervalSeconds', 'stale'],
  StatisticsScope: ['regionCode', 'regionName', 'level', 'finestLevel', 'suppressionK'],
};

/**
 * Who reads the aggregated views (统计分析报告制度). Every answer is already cut to the caller's
 * jurisdiction, limited to the caller's finest level and small-cell suppressed, so the rows
 * differ only in which geography and categories they reach; those rules are in
 * statistics.config.ts and repeated here as reasons.
 */
export const statisticsPolicy: PolicyRow[] = [
  policyRow(
    'Query',
    'minorCounts',
    { allow: READERS },
    'Counts by region, risk level, category, age band and gender for the seeds’ statistics. Within the jurisdiction; DASHBOARD no finer than STREET, officers down to GRID; counts below k suppressed with complementary suppression. `measure: OVERDUE_VISITS` only for those who read `Minor.nextVisitDue` (FORBIDDEN otherwise).',
  ),
  policyRow(
    'Query',
    'statisticsRates',
    { allow: READERS },
    '排查分类率、干预率、救助率, visits on time, and mandatory reports and referrals handled within their deadlines: the indicators the plans set targets for; same geography limits and suppression as minorCounts. The rates counted from visits have rows of their own.',
  ),
  policyRow(
    'Query',
    'monthlyTrend',
    { allow: READERS },
    'Monthly new cases, assessments, visits, mandatory reports and referrals over the whole jurisdiction; months below k suppressed. The VISITS series only for those who read `Visit.visitedAt`.',
  ),
  policyRow('Query', 'statisticsFreshness', { allow: READERS }, 'When the summaries were refreshed, so a reader knows how current the figures are.'),
  policyRow('Query', 'statisticsScope', { allow: READERS }, 'The caller’s own jurisdiction node, finest level and k: what a dashboard needs to ask valid questions.'),
  policyRow(
    'StatisticsCell',
    'category',
    { allow: READERS },
    'Sensitive categories (crime victim, domestic violence, incarcerated parent) are counted exactly only for CIVIL_AFFAIRS, POLICE and JUSTICE, who read them on a record; for everyone else they are counted together as NEEDS_SUPPORT at every level (exact counts beside a list of children showing NEEDS_SUPPORT would name them).',
  ),
  // Counted from visits and due dates: an officer knows the counts these are rates of exactly
  // (minors { totalCount } by grid and risk level), so a published rate tells each child's visit
  // status — all 8 listable ORANGE children of a grid overdue. Held to the visit fields by PARTS_OF.
  policyRow(
    'RegionRates',
    'visitsOnTime',
    { allow: VISIT_READERS },
    'Computed from `Minor.nextVisitDue`: those who read it. Beside the counts an officer lists, a rate of 0 or 100 % tells every child’s visit status.',
  ),
  policyRow(
    'RegionRates',
    'intervention',
    { allow: VISIT_READERS },
    'Whether each RED/ORANGE child was visited since the latest assessment: visit history, for those who read it.',
  ),
  policyRow('RegionRates', 'assistance', { allow: VISIT_READERS }, 'Whether each child with a category has been visited: visit history, for those who read it.'),
  ...['riskLevel', 'rate'].map((field) => policyRow('RiskLevelRate', field, { allow: VISIT_READERS }, 'Parts of `RegionRates.visitsOnTime`, only reached through it: the same subjects.')),
  ...Object.entries(structural).flatMap(([type, fields]) => fields.map((field) => policyRow(type, field, { allow: READERS }, STRUCTURE))),
];
