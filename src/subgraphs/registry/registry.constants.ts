/** Root of the demo jurisdiction tree (浙江省杭州市上城区): the default `--region` of `npm run token`. */
export const DEMO_ROOT_REGION = '330102';
