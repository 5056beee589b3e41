import DataLoader from 'dataloader';
import { In } from 'typeorm';
import { HubContext, sliceLoaders } from '../../server/hub.context';
import { Guardian } from './entities/guardian.entity';
import { MinorCategory } from './entities/minor-category.entity';
import { Minor } from './entities/minor.entity';
import { Region } from './entities/region.entity';
import { RiskAssessment } from './entities/risk-assessment.entity';
import { Visit } from './entities/visit.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

/** LIKE pattern for the caller's jurisdiction subtree (codes are digits only, nothing to escape). */
export const jurisdictionPattern = (ctx: HubContext) => `${ctx.principal.region}%`;

function groupBy<T, K>(rows: T[], key: (r: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = map.get(k);
    if (list) list.push(r);
    else map.set(k, [r]);
  }
  return map;
}

/**
 * One loader per relation, one statement per batch whatever the page size. `minorById` applies
 * the jurisdiction, so a child outside the caller's subtree loads exactly like a missing one.
 * Relations are keyed by minors already loaded through it.
 */
function createRegistryLoaders(ctx: HubContext) {
  const db = ctx.db;
  const byMinor = <T extends { minorId: string }>(load: (ids: string[]) => Promise<T[]>) =>
    new DataLoader<string, T[]>(async (ids) => {
      const grouped = groupBy(await load([...ids]), (r) => r.minorId);
      return ids.map((id) => grouped.get(id) ?? []);
    });

  return {
    minorById: new DataLoader<string, Minor | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length
        ? await db
            .getRepository(Minor)
            .createQueryBuilder('m')
            .where('m.id = ANY(:ids)', { ids: valid })
            .andWhere('m.grid_code LIKE :jurisdiction', { jurisdiction: jurisdictionPattern(ctx) })
            .getMany()
        : [];
      const byId = new Map(rows.map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    guardiansByMinor: byMinor((ids) => db.getRepository(Guardian).find({ where: { minorId: In(ids) }, order: { id: 'ASC' } })),
    categoriesByMinor: byMinor((ids) =>
      db.getRepository(MinorCategory).find({ where: { minorId: In(ids) }, order: { category: 'ASC' } }),
    ),
    assessmentsByMinor: byMinor((ids) =>
      db.getRepository(RiskAssessment).find({ where: { minorId: In(ids) }, order: { assessedAt: 'DESC', id: 'ASC' } }),
    ),
    latestAssessmentByMinor: new DataLoader<string, RiskAssessment | null>(async (ids) => {
      const rows = await db
        .getRepository(RiskAssessment)
        .createQueryBuilder('a')
        .distinctOn(['a.minor_id'])
        .where('a.minor_id = ANY(:ids)', { ids: [...ids] })
        .orderBy('a.minorId')
        .addOrderBy('a.assessedAt', 'DESC')
        .addOrderBy('a.id', 'ASC')
        .getMany();
      const byMinorId = new Map(rows.map((a) => [a.minorId, a]));
      return ids.map((id) => byMinorId.get(id) ?? null);
    }),
    visitsByMinor: byMinor((ids) =>
      db.getRepository(Visit).find({ where: { minorId: In(ids) }, order: { visitedAt: 'DESC', id: 'ASC' } }),
    ),
    /** Regions inside the caller's jurisdiction only; the tree above it is not theirs to walk. */
    regionByCode: new DataLoader<string, Region | null>(async (codes) => {
      const rows = await db
        .getRepository(Region)
        .createQueryBuilder('r')
        .where('r.code = ANY(:codes)', { codes: [...codes] })
        .andWhere('r.code LIKE :jurisdiction', { jurisdiction: jurisdictionPattern(ctx) })
        .getMany();
      const byCode = new Map(rows.map((r) => [r.code, r]));
      return codes.map((c) => byCode.get(c) ?? null);
    }),
    regionChildren: new DataLoader<string, Region[]>(async (codes) => {
      const rows = await db.getRepository(Region).find({ where: { parentCode: In([...codes]) }, order: { code: 'ASC' } });
      const grouped = groupBy(rows, (r) => r.parentCode!);
      return codes.map((c) => grouped.get(c) ?? []);
    }),
  };
}

export type RegistryLoaders = ReturnType<typeof createRegistryLoaders>;
export const registryLoaders = (ctx: HubContext): RegistryLoaders => sliceLoaders(ctx, 'registry', createRegistryLoaders);
