import { Department } from '../../auth/principal';
import type { SubgraphSlice } from '../../schema/subgraph.types';
import { StatisticsInit1795400500000 } from '../../../migrations/1795400500000-statistics-init';
import { StatisticsWorkflow1795400600000 } from '../../../migrations/1795400600000-statistics-workflow';
import { StatisticsReportPlacedWhereFiled1795400900000 } from '../../../migrations/1795400900000-statistics-report-placed-where-filed';
import { StatisticsChinaDay1795401300000 } from '../../../migrations/1795401300000-statistics-china-day';
import { StatisticsReportCountedWhereFiled1795401400000 } from '../../../migrations/1795401400000-statistics-report-counted-where-filed';
import { StatisticsReferralCountedWhereMade1795401700000 } from '../../../migrations/1795401700000-statistics-referral-counted-where-made';
import { StatisticsRefreshGeneration1795403000000 } from '../../../migrations/1795403000000-statistics-refresh-generation';
import { StatisticsResolver } from './resolvers/statistics.resolver';
import { warmTables } from './statistics.cube';
import { statisticsPolicy } from './statistics.policy';
import { refreshStatistics, startStatisticsRefresh } from './statistics.refresh';

export { mountDashboard } from './statistics.dashboard';
export { REFRESH_LOCK, refreshStatistics } from './statistics.refresh';
export { warmTables } from './statistics.cube';

/**
 * 统计分析 — aggregated views over the registry for dashboards and officers, with small-cell
 * suppression (docs/statistics.md). It has no records of its own: only summaries.
 */
export const statisticsSubgraph: SubgraphSlice = {
  name: 'statistics',
  owner: Department.CIVIL_AFFAIRS,
  entities: [],
  migrations: [
    StatisticsInit1795400500000,
    StatisticsWorkflow1795400600000,
    StatisticsReportPlacedWhereFiled1795400900000,
    StatisticsChinaDay1795401300000,
    StatisticsReportCountedWhereFiled1795401400000,
    StatisticsReferralCountedWhereMade1795401700000,
    StatisticsRefreshGeneration1795403000000,
  ],
  resolvers: [StatisticsResolver],
  policy: statisticsPolicy,
  // The summaries are recomputed over the seeded rows, so a demo hub shows figures at once instead
  // of after the first refresh.
  afterSeedDemo: async (ds) => {
    await refreshStatistics(ds);
  },
  // The refresh recomputes the summaries over every row (about 30 s at city scale): beyond the
  // requests' time limit, so on the pool without one. Warming asks the questions requests ask.
  start: ({ ds, maintenance, config }) => startStatisticsRefresh(maintenance, config.statistics.refreshSeconds, () => warmTables(ds)),
};
