import { DataSource } from 'typeorm';
import { openDataSource } from '../src/db/data-source';
import { SUBGRAPHS } from '../src/subgraphs';
import { cloneTemplateDatabase } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * The catalog of every slice's schema as Postgres holds it — tables, columns with types, defaults and
 * grants, constraints, indexes, view definitions, functions, triggers, privileges and reloptions —
 * and the hub's roles with their members: what a down that forgot something, or an up that differs
 * on a second run, would change.
 */
async function snapshot(ds: DataSource): Promise<Record<string, string[]>> {
  const schemas = SUBGRAPHS.map((s) => s.name);
  const q = async (sql: string) => (await ds.query(sql, [schemas])).map((r: Record<string, unknown>) => Object.values(r).map(String).join(' | ')).sort();
  return {
    namespaces: await q(`SELECT nspname, pg_get_userbyid(nspowner) AS owner, coalesce(nspacl::text,'') AS acl FROM pg_namespace WHERE nspname = ANY($1)`),
    relations: await q(`SELECT n.nspname||'.'||c.relname AS rel, c.relkind, coalesce(c.relacl::text,'') AS acl, coalesce(c.reloptions::text,'') AS options, pg_get_userbyid(c.relowner) AS owner, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname = ANY($1)`),
    columns: await q(`SELECT n.nspname||'.'||c.relname||'.'||a.attname AS col, a.attnum, format_type(a.atttypid,a.atttypmod) AS type, a.attnotnull, coalesce(pg_get_expr(d.adbin,d.adrelid),'') AS dflt, coalesce(a.attacl::text,'') AS acl, a.attstorage, a.attcompression FROM pg_attribute a JOIN pg_class c ON c.oid=a.attrelid JOIN pg_namespace n ON n.oid=c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid=a.attrelid AND d.adnum=a.attnum WHERE n.nspname = ANY($1) AND a.attnum>0 AND NOT a.attisdropped`),
    constraints: await q(`SELECT n.nspname||'.'||c.relname AS rel, co.conname, pg_get_constraintdef(co.oid) AS def FROM pg_constraint co JOIN pg_class c ON c.oid=co.conrelid JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname = ANY($1)`),
    indexes: await q(`SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid=i.indrelid JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname = ANY($1)`),
    views: await q(`SELECT n.nspname||'.'||c.relname AS rel, pg_get_viewdef(c.oid) AS def FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('v','m')`),
    functions: await q(`SELECT pg_get_functiondef(p.oid) AS def, coalesce(p.proacl::text,'') AS acl, pg_get_userbyid(p.proowner) AS owner FROM pg_proc p JOIN pg_namespace n ON n.oid=p.pronamespace WHERE n.nspname = ANY($1)`),
    triggers: await q(`SELECT pg_get_triggerdef(t.oid) AS def, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid=t.tgrelid JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname = ANY($1) AND NOT t.tgisinternal`),
    roles: (await ds.query(`SELECT r.rolname, r.rolsuper, r.rolcanlogin, coalesce((SELECT string_agg(m.rolname||'<'||pg_get_userbyid(am.member), ',' ORDER BY 1) FROM pg_auth_members am JOIN pg_roles m ON m.oid=am.roleid WHERE am.roleid=r.oid),'') AS members FROM pg_roles r WHERE r.rolname LIKE 'hub%' ORDER BY 1`)).map((r: Record<string, unknown>) => Object.values(r).map(String).join(' | ')),
    defaultAcl: (await ds.query(`SELECT defaclrole::regrole::text AS role, defaclnamespace, defaclobjtype, defaclacl::text AS acl FROM pg_default_acl`)).map((r: Record<string, unknown>) => Object.values(r).map(String).join(' | ')),
    publicFns: (await ds.query(`SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid=p.pronamespace WHERE n.nspname='public'`)).map((r: { oid: string }) => Object.values(r).join()),
    publicTables: (await ds.query(`SELECT relname, relkind FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public'`)).map((r: Record<string, unknown>) => Object.values(r).map(String).join(' | ')),
  };
}

it('down to nothing and up again, on the seeded demo data, leaves the catalog a single up made', async () => {
  const ds = await openDataSource(await cloneTemplateDatabase());
  try {
    const all = SUBGRAPHS.flatMap((s) => s.migrations).length;
    const once = await snapshot(ds);
    for (let i = 0; i < all; i++) await ds.undoLastMigration({ transaction: 'each' });
    const down = await snapshot(ds);
    for (const kind of ['namespaces', 'relations', 'columns', 'constraints', 'indexes', 'views', 'functions', 'triggers', 'defaultAcl', 'publicFns'] as const) expect([kind, down[kind]]).toEqual([kind, []]);
    // Roles are the cluster's, left for its other databases; the login role is no longer their member.
    expect(down.roles.filter((r) => r.startsWith('hub_audit_'))).toEqual(['hub_audit_reader | false | false | ', 'hub_audit_writer | false | false | ']);
    await ds.runMigrations({ transaction: 'each' });
    expect(await snapshot(ds)).toEqual(once);
  } finally {
    await ds.destroy();
  }
});
