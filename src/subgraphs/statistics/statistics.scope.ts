import type { EntityManager } from 'typeorm';
import { badInput, forbidden } from '../../errors/hub.exception';
import { SENSITIVE_CATEGORIES } from '../../policy/masks';
import { Access } from '../../policy/policy.types';
import type { HubContext } from '../../server/hub.context';
import { DifficultyCategory, RegionLevel } from '../registry/registry.enums';
import { districtNodes, RegionNode } from './statistics.cube';
import { depth } from './statistics.config';

/** Where a caller's statistics come from: their node, its district, and the district's tree. */
export interface StatisticsScope {
  node: RegionNode;
  /** The district the jurisdiction lies in: every table is computed over it (see statistics.cube.ts). */
  anchor: string;
  nodes: Map<RegionLevel, RegionNode[]>;
  finest: RegionLevel;
}

export async function statisticsScope(em: EntityManager, ctx: HubContext): Promise<StatisticsScope> {
  const finest = ctx.config.statistics.finestLevels[ctx.subject];
  if (!finest) throw forbidden(`${ctx.subject} has no access to statistics`);
  const [own]: { code: string }[] = await em.query(
    `SELECT code FROM registry.region WHERE level = 'DISTRICT' AND $1 LIKE code || '%'`,
    [ctx.principal.region],
  );
  if (!own) throw forbidden('Statistics need a jurisdiction inside a district of the region tree');
  const nodes = await districtNodes(em, own.code);
  const node = [...nodes.values()].flat().find((n) => n.code === ctx.principal.region);
  if (!node) throw forbidden('Statistics need a jurisdiction that is a node of the region tree');
  return { node, anchor: own.code, nodes, finest };
}

/** The level must lie between the caller's own node and the finest level their role may see. */
export function checkLevel(ctx: HubContext, scope: StatisticsScope, level: RegionLevel): void {
  if (depth(level) > depth(scope.finest)) {
    throw forbidden(`${ctx.subject} may break statistics down to ${scope.finest} at the finest, not ${level}`, {
      level,
      finestLevel: scope.finest,
    });
  }
  if (depth(level) < depth(scope.node.level)) {
    throw badInput('level', `your jurisdiction is a ${scope.node.level}: ask for ${scope.node.level} or a finer level`);
  }
}

/**
 * The sensitive categories are counted separately only for subjects that read them exactly on a
 * child's record, at every level; everyone else gets them as NEEDS_SUPPORT, as the field mask shows
 * them. Exact counts for a department that lists children with their street, risk level, age and
 * gender but sees these categories masked would name children: a cell whose count of one category
 * equals its children showing NEEDS_SUPPORT tells each of them. A dashboard's table is read by such
 * departments' staff as well.
 */
export function foldsCategories(ctx: HubContext): boolean {
  return ctx.policy.access(ctx.subject, 'MinorCategory.category') !== Access.ALLOW;
}

/**
 * Statistics counted from visits follow the visit fields as the categories follow theirs, but are
 * refused, not folded: a department that may not read them knows the counts they are parts of
 * exactly (minors { totalCount } by grid and risk level), so an overdue count equal to it, or a
 * rate of 0 or 100 %, tells each listed child's visit status. `field` is the one a statistic is
 * counted from; the rates' own policy rows are held to these fields by PARTS_OF.
 */
export const readsVisits = (ctx: HubContext, field: 'Minor.nextVisitDue' | 'Visit.visitedAt') => ctx.policy.access(ctx.subject, field) === Access.ALLOW;

export function categoryValues(folded: boolean): string[] {
  const all = Object.values(DifficultyCategory).filter((c) => c !== DifficultyCategory.NEEDS_SUPPORT);
  return folded ? [...all.filter((c) => !SENSITIVE_CATEGORIES.has(c)), DifficultyCategory.NEEDS_SUPPORT] : all;
}

/** Nodes of the level inside the caller's jurisdiction (the computation covers the whole district). */
export const inJurisdiction = (ctx: HubContext, code: string) => code.startsWith(ctx.principal.region);
