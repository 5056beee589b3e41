import { GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, isObjectType } from 'graphql';
import { applyMiddleware, IMiddlewareFunction } from 'graphql-middleware';
import { allow, deny, IRules, rule, shield } from 'graphql-shield';
import { forbidden } from '../errors/hub.exception';
import type { HubContext } from '../server/hub.context';
import { GRANTABLE_FIELDS, isGranted } from './grants';
import { applyMask } from './masks';
import { FEDERATION_FIELDS, Policy } from './policy';
import { Access, PolicyRow } from './policy.types';

type Resolve = (parent: any, args: any, ctx: any, info: any) => Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Parent = { id?: unknown; minorId?: unknown } | null | undefined;

/** Every `Type.field` of the schema's object types, without introspection types. */
export function schemaFieldKeys(schema: GraphQLSchema): string[] {
  const keys: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.keys((type as GraphQLObjectType).getFields())) keys.push(`${type.name}.${field}`);
  }
  return keys;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** The child a record belongs to: Minor itself, or any record carrying `minorId`. */
const childOf = (type: string, parent: Parent) => (type === 'Minor' ? str(parent?.id) : str(parent?.minorId));

/** Names of the arguments and input fields a mutation was given; values stay out of the trail. */
function argumentNames(args: Record<string, unknown>): string[] {
  return Object.entries(args)
    .flatMap(([name, value]) =>
      value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
        ? Object.keys(value).map((k) => `${name}.${k}`)
        : [name],
    )
    .sort();
}

/**
 * Reads of a child's record are logged field by field with how they were served, masked values
 * are masked here, and mutations log what they wrote. Runs outside shield, so it also sees
 * the fields shield refused.
 */
function accessMiddleware(key: string, row: PolicyRow, policy: Policy, childTypes: ReadonlySet<string>): IMiddlewareFunction | null {
  const [type, field] = key.split('.');
  if (type === 'Mutation') {
    return async (resolve: Resolve, parent: unknown, args: Record<string, unknown>, ctx: HubContext, info: GraphQLResolveInfo) => {
      const result = await resolve(parent, args, ctx, info);
      if (result !== null && result !== undefined && !(result instanceof Error)) {
        const record = result as Parent & object;
        const resultType = (info.returnType.toString().replace(/[![\]]/g, ''));
        ctx.access.changed({
          mutation: field,
          id: typeof result === 'string' ? result : str(record.id),
          minorId: childOf(resultType, record) ?? str(args.minorId),
          fields: argumentNames(args),
        });
      }
      return result;
    };
  }
  const child = childTypes.has(type);
  if (!child && !row.mask) return null;
  const kind = row.mask;
  const grantable = child && GRANTABLE_FIELDS.has(key);
  return async (resolve: Resolve, parent: Parent, args: unknown, ctx: HubContext, info: unknown) => {
    let access = policy.access(ctx.subject, key);
    const minorId = child ? childOf(type, parent) : null;
    // A field grant (open referral) lifts DENY or MASK for this one child; shield let the field
    // through so that the refusal of an ungranted read is made here, per parent object.
    if (grantable && access !== Access.ALLOW && minorId) {
      const granted = await isGranted(ctx, key, minorId).catch((e) => {
        ctx.access.read(minorId, key, Access.DENY);
        throw e;
      });
      if (granted) access = Access.ALLOW;
    }
    if (grantable && access === Access.DENY) {
      if (minorId) ctx.access.read(minorId, key, Access.DENY);
      throw forbidden(`Not permitted to read ${key}`, { field: key });
    }
    let value: unknown;
    try {
      value = await resolve(parent, args, ctx, info);
    } catch (e) {
      if (minorId) ctx.access.read(minorId, key, Access.DENY);
      throw e;
    }
    if (minorId) ctx.access.read(minorId, key, value instanceof Error ? Access.DENY : access);
    return kind && access === Access.MASK && !(value instanceof Error) ? applyMask(kind, value) : value;
  };
}

/**
 * Applies the policy table to one subgraph schema: a graphql-shield rule per field (ALLOW and
 * MASK pass, DENY answers FORBIDDEN on that path; for fields a grant may open, the access
 * middleware decides per child) with `fallbackRule: deny`, around it the
 * access middleware (audit of reads and writes, masking). Refuses to build when a field of the
 * schema has no row in the table.
 */
export function applyPolicy(schema: GraphQLSchema, policy: Policy, subgraph: string, childTypes: ReadonlySet<string>): GraphQLSchema {
  const keys = schemaFieldKeys(schema);
  const missing = policy.uncovered(keys);
  if (missing.length) throw new Error(`Subgraph ${subgraph}: no policy row for ${missing.join(', ')}`);

  const rules: Record<string, Record<string, unknown>> = {};
  const access: Record<string, Record<string, IMiddlewareFunction>> = {};
  for (const key of keys) {
    const [type, field] = key.split('.');
    rules[type] ??= {};
    if (FEDERATION_FIELDS.has(key)) {
      rules[type][field] = allow;
      continue;
    }
    // Grantable fields of a child's record are decided per child in the access middleware: a
    // contextual (per-request) shield rule cannot see which child a grant covers.
    const perChild = childTypes.has(type) && GRANTABLE_FIELDS.has(key);
    rules[type][field] = rule(`policy:${key}`, { cache: 'contextual' })((_parent, _args, ctx: HubContext) =>
      policy.access(ctx.subject, key) === Access.DENY && !perChild ? forbidden(`Not permitted to read ${key}`, { field: key }) : true,
    );
    const mw = accessMiddleware(key, policy.row(key)!, policy, childTypes);
    if (mw) (access[type] ??= {})[field] = mw;
  }
  const permissions = shield(rules as IRules, {
    fallbackRule: deny,
    // Our resolvers throw typed HubExceptions; shield must pass them through, not mask them.
    allowExternalErrors: true,
    fallbackError: () => forbidden('Not permitted'),
  });
  return applyMiddleware(schema, access, permissions);
}
