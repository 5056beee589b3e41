/** Root of the demo jurisdiction tree (浙江省杭州市上城区): the default `--region` of `npm run token`. */
export const DEMO_ROOT_REGION = '330102';

/**
 * Guardians one child may have (addGuardian refuses more): parents, grandparents, a relative or
 * two, an appointed guardian. The cost limit prices a child's guardians at this many.
 */
export const MAX_GUARDIANS = 10;
