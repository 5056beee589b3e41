import { Department, PolicySubject, Role } from '../../auth/principal';
import { RegionLevel } from '../registry/registry.enums';

/** Coarse to fine; a level's index is its depth below the district. */
export const LEVELS: readonly RegionLevel[] = [RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY, RegionLevel.GRID];
export const depth = (level: RegionLevel) => LEVELS.indexOf(level);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;

/**
 * Finest geography each subject may break counts down to. Officers work grids (网格化管理);
 * a dashboard is shown broadly, so it stops at the street. Subjects not listed get nothing.
 * HUB_STATISTICS_FINEST_LEVELS may make these coarser (src/config/hub.config.ts); read the
 * effective table from the config.
 */
export const BUILT_IN_FINEST_LEVEL: Partial<Record<PolicySubject, RegionLevel>> = {
  [CA]: RegionLevel.GRID,
  [ED]: RegionLevel.GRID,
  [PO]: RegionLevel.GRID,
  [JU]: RegionLevel.GRID,
  [YL]: RegionLevel.GRID,
  [WF]: RegionLevel.GRID,
  [Role.DASHBOARD]: RegionLevel.STREET,
};

/**
 * Upper bound on the cells one answer is computed over (the requested table and every coarser
 * table its suppression depends on), so that suppression stays a small computation.
 */
export const MAX_CELLS = 200_000;
