export const TEMPLATE_DB = 'hub_template';
