import { DifficultyCategory } from './registry.enums';

/** Root of the demo jurisdiction tree (浙江省杭州市上城区): the default `--region` of `npm run token`. */
export const DEMO_ROOT_REGION = '330102';

/**
 * Guardians one child may have (addGuardian refuses more): parents, grandparents, a relative or
 * two, an appointed guardian. The cost limit prices a child's guardians at this many.
 */
export const MAX_GUARDIANS = 10;

/**
 * Categories no younger child can have, with the youngest age (on the day identified) that can:
 * 失学辍学 and 闲散 are of children of school age (6, when compulsory education starts), 早婚早育 of
 * none under 12. `addCategory` refuses them for a younger child, so the statistics' cells of younger
 * age bands are zeros every reader knows, published as such and never taken for hidden complements.
 */
export const YOUNGEST_WITH_CATEGORY: Readonly<Partial<Record<DifficultyCategory, number>>> = {
  [DifficultyCategory.DROPOUT]: 6,
  [DifficultyCategory.IDLE]: 6,
  [DifficultyCategory.EARLY_MARRIAGE]: 12,
};
