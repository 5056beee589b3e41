import { GraphQLObjectType, GraphQLSchema, isObjectType } from 'graphql';
import { applyMiddleware, IMiddlewareFunction } from 'graphql-middleware';
import { allow, deny, IRules, rule, shield } from 'graphql-shield';
import { forbidden } from '../errors/hub.exception';

type Resolve = (parent: any, args: any, ctx: any, info: any) => Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
import type { HubContext } from '../server/hub.context';
import { applyMask } from './masks';
import { FEDERATION_FIELDS, Policy } from './policy';
import { Access } from './policy.types';

/** Every `Type.field` of the schema's object types, without introspection types. */
export function schemaFieldKeys(schema: GraphQLSchema): string[] {
  const keys: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.keys((type as GraphQLObjectType).getFields())) keys.push(`${type.name}.${field}`);
  }
  return keys;
}

/**
 * Applies the policy table to one subgraph schema: a graphql-shield rule per field (ALLOW and
 * MASK pass, DENY answers FORBIDDEN on that path) with `fallbackRule: deny`, and a masking
 * middleware on the fields some subject sees masked. Refuses to build when a field of the schema
 * has no row in the table.
 */
export function applyPolicy(schema: GraphQLSchema, policy: Policy, subgraph: string): GraphQLSchema {
  const keys = schemaFieldKeys(schema);
  const missing = policy.uncovered(keys);
  if (missing.length) throw new Error(`Subgraph ${subgraph}: no policy row for ${missing.join(', ')}`);

  const rules: Record<string, Record<string, unknown>> = {};
  const masks: Record<string, Record<string, IMiddlewareFunction>> = {};
  for (const key of keys) {
    const [type, field] = key.split('.');
    rules[type] ??= {};
    if (FEDERATION_FIELDS.has(key)) {
      rules[type][field] = allow;
      continue;
    }
    const row = policy.row(key)!;
    rules[type][field] = rule(`policy:${key}`, { cache: 'contextual' })((_parent, _args, ctx: HubContext) =>
      policy.access(ctx.subject, key) === Access.DENY ? forbidden(`Not permitted to read ${key}`, { field: key }) : true,
    );
    if (row.mask) {
      const kind = row.mask;
      masks[type] ??= {};
      masks[type][field] = async (resolve: Resolve, parent: unknown, args: unknown, ctx: HubContext, info: unknown) => {
        const value = await resolve(parent, args, ctx, info);
        return policy.access(ctx.subject, key) === Access.MASK ? applyMask(kind, value) : value;
      };
    }
  }
  const permissions = shield(rules as IRules, {
    fallbackRule: deny,
    // Our resolvers throw typed HubExceptions; shield must pass them through, not mask them.
    allowExternalErrors: true,
    fallbackError: () => forbidden('Not permitted'),
  });
  return applyMiddleware(schema, permissions, masks);
}
