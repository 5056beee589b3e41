import { addResolversToSchema } from '@graphql-tools/schema';
import { defaultFieldResolver, getNamedType, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, isObjectType } from 'graphql';
import { applyMiddleware, IMiddlewareFunction } from 'graphql-middleware';
import { IRule, IRules, rule, shield } from 'graphql-shield';
import { PolicySubject, POLICY_SUBJECTS } from '../auth/principal';
import { forbidden } from '../errors/hub.exception';
import type { HubContext } from '../server/hub.context';
import type { FieldGrants } from './grants';
import { applyMask } from './masks';
import { FEDERATION_FIELDS, Policy } from './policy';
import { Access, PolicyRow } from './policy.types';

type Resolve = (parent: any, args: any, ctx: any, info: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
type Parent = { id?: unknown; minorId?: unknown } | null | undefined;

/** Every `Type.field` of the schema's object types, without introspection types. */
function schemaFieldKeys(schema: GraphQLSchema): string[] {
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

const isPromise = (v: unknown): v is Promise<unknown> => typeof (v as Promise<unknown> | null)?.then === 'function';

/**
 * Reads of a child's record are logged field by field with how they were served, masked values
 * are masked here, and mutations log what they wrote. Runs outside shield, so it also sees
 * the fields shield refused. Synchronous unless the field's resolver or a grant look-up is not:
 * a promise per scalar field of every child in a page would cost more than the rest of the read.
 * Built per subject: `access` is what the table gives this subject for the field. Returns how to
 * wrap the field's resolver, once, when the subject's schema is built: graphql-middleware's wrapper
 * makes a closure per call, and with the closures of our own that was most of the garbage a page's
 * audit left.
 */
function accessWrapper(
  key: string,
  row: PolicyRow,
  access: Access,
  childTypes: ReadonlySet<string>,
  grants: FieldGrants,
  log: boolean,
): ((resolve: Resolve) => Resolve) | null {
  const [type, field] = key.split('.');
  if (type === 'Mutation') {
    return (resolve) => async (parent: unknown, args: Record<string, unknown>, ctx: HubContext, info: GraphQLResolveInfo) => {
      // What this request's loaders cached may be stale once a write runs: the root fields of a
      // mutation run one after the other, and `a: updateCarePlan { visits }`, `b: recordCareVisit`,
      // `c: updateCarePlan { visits }` answered `c`'s visits as `a` had read them — none — beside the
      // `lastVisitOn` that `b` moved on (the same for a child's visits after `recordVisit`). Each
      // mutation field starts on fresh loaders, so what it and the fields after it read is as written.
      ctx.loaders.clear();
      const result = await resolve(parent, args, ctx, info);
      if (!log) return result;
      if (result !== null && result !== undefined && !(result instanceof Error) && !(typeof result === 'object' && ctx.access.changedNothing(result))) {
        const record = result as Parent & object;
        const resultType = (info.returnType.toString().replace(/[![\]]/g, ''));
        // Keys in canonical order (src/audit/canonical.ts).
        const id = typeof result === 'string' ? result : str(record.id);
        ctx.access.changed({
          fields: (typeof result === 'object' && ctx.access.argumentsChanged(result)) || argumentNames(args),
          id,
          minorId: childOf(resultType, record) ?? str(args.minorId) ?? ctx.access.childOf(id),
          mutation: field,
        });
      }
      return result;
    };
  }
  const child = childTypes.has(type);
  const kind = row.mask;
  const grantable = child && grants.fields.has(key);
  if (!(child && log) && !(kind && access === Access.MASK) && !(grantable && access !== Access.ALLOW)) return null;
  const note = log ? (ctx: HubContext, minorId: string, served: Access) => ctx.access.read(minorId, key, served) : () => undefined;
  // A child's record naming no child to this reader (a report of an unregistered child, a child of
  // another street) is still about someone: a purpose bound to one child must not cover it. A page's
  // info names no child only when the page is empty.
  const unnamed = log && child && type !== 'PageInfo' ? (ctx: HubContext) => ctx.access.servedUnnamedChild() : () => undefined;

  return (resolve) => {
    // No closure on the synchronous path, nor a variable captured by one: V8 would allocate their
    // context on every call, for every field of every child.
    const served = (ctx: HubContext, minorId: string | null, access: Access, value: unknown): unknown => {
      if (minorId) note(ctx, minorId, value instanceof Error ? Access.DENY : access);
      else if (!(value instanceof Error)) unnamed(ctx);
      return kind && access === Access.MASK && !(value instanceof Error) ? applyMask(kind, value) : value;
    };
    const refused = (ctx: HubContext, minorId: string | null, e: unknown): never => {
      if (minorId) note(ctx, minorId, Access.DENY);
      throw e;
    };
    const serve = (access: Access, minorId: string | null, parent: Parent, args: unknown, ctx: HubContext, info: unknown): unknown => {
      let value: unknown;
      try {
        value = resolve(parent, args, ctx, info);
      } catch (e) {
        return refused(ctx, minorId, e);
      }
      return isPromise(value) ? settled(ctx, minorId, access, value) : served(ctx, minorId, access, value);
    };
    const settled = (ctx: HubContext, minorId: string | null, access: Access, value: Promise<unknown>) =>
      value.then(
        (v) => served(ctx, minorId, access, v),
        (e) => refused(ctx, minorId, e),
      );

    // A field grant (open referral) lifts DENY or MASK for this one child; shield let the field
    // through so that the refusal of an ungranted read is made here, per parent object.
    const servePerChild = async (access: Access, minorId: string, parent: Parent, args: unknown, ctx: HubContext, info: unknown) => {
      const granted = await grants.isGranted(ctx, key, minorId).catch((e) => {
        note(ctx, minorId, Access.DENY);
        throw e;
      });
      if (granted) access = Access.ALLOW;
      if (access === Access.DENY) {
        note(ctx, minorId, Access.DENY);
        throw forbidden(`Not permitted to read ${key}`, { field: key });
      }
      return serve(access, minorId, parent, args, ctx, info);
    };

    return (parent: Parent, args: unknown, ctx: HubContext, info: unknown) => {
      const minorId = child ? childOf(type, parent) : null;
      if (grantable && access !== Access.ALLOW) {
        if (minorId) return servePerChild(access, minorId, parent, args, ctx, info);
        if (access === Access.DENY) throw forbidden(`Not permitted to read ${key}`, { field: key });
      }
      return serve(access, minorId, parent, args, ctx, info);
    };
  };
}

/**
 * Around a field outside a child's record that returns such records (a look-up by id, a page's
 * nodes): each record it returns tells that its child exists, even when nothing of it is selected
 * but `__typename`, which no resolver serves. The log notes the child as found; one found but with
 * no field read is recorded as a read of the type's `__typename` (AccessLog). A record naming no
 * child to the reader (a report of an unregistered child) is noted as served about someone unnamed,
 * as its fields are (`accessWrapper`): a purpose bound to one child covers neither.
 */
function locatingWrapper(recordType: string): (resolve: Resolve) => Resolve {
  // A page's info is about no child.
  const aboutChild = recordType !== 'PageInfo';
  const locate = (ctx: HubContext, value: unknown): unknown => {
    if (Array.isArray(value)) {
      for (const item of value) locate(ctx, item);
    } else if (value && typeof value === 'object' && !(value instanceof Error)) {
      const minorId = childOf(recordType, value as Parent);
      if (minorId) ctx.access.found(minorId, recordType);
      else if (aboutChild) ctx.access.servedUnnamedChild();
    }
    return value;
  };
  return (resolve) => (parent: unknown, args: unknown, ctx: HubContext, info: unknown) => {
    const value = resolve(parent, args, ctx, info);
    return isPromise(value) ? value.then((v) => locate(ctx, v)) : locate(ctx, value);
  };
}

/** The child-record type a field outside such records returns, if any (mutations log their changes instead). */
function recordTypeReturned(schema: GraphQLSchema, type: string, field: string, childTypes: ReadonlySet<string>): string | null {
  if (childTypes.has(type) || type === schema.getMutationType()?.name) return null;
  const returned = getNamedType((schema.getType(type) as GraphQLObjectType).getFields()[field].type).name;
  return childTypes.has(returned) ? returned : null;
}

/**
 * Applies the policy table to one subgraph schema for one subject: a graphql-shield rule on each
 * field the subject is refused (FORBIDDEN on that path), and around every field of a child's
 * record and every masked field the access wrapper (audit of reads and writes, masking; for
 * fields a grant may open it decides per child). Fields the subject may read carry no shield
 * rule: the table's completeness is checked when the schema is built (PolicySchemas), not by a
 * runtime fallback wrapper on every field.
 */
function applyPolicy(
  schema: GraphQLSchema,
  keys: string[],
  policy: Policy,
  subject: PolicySubject,
  childTypes: ReadonlySet<string>,
  grants: FieldGrants,
  mode: PolicyMode,
): GraphQLSchema {
  const rules: Record<string, Record<string, IRule>> = {};
  const wrappers: [type: string, field: string, wrap: (resolve: Resolve) => Resolve][] = [];
  for (const key of keys) {
    if (FEDERATION_FIELDS.has(key)) continue;
    const [type, field] = key.split('.');
    const decided = mode.enforce ? policy.access(subject, key) : Access.ALLOW;
    // Grantable fields of a child's record are decided per child in the access wrapper: a
    // rule per subject cannot see which child a grant covers.
    const perChild = childTypes.has(type) && grants.fields.has(key);
    if (decided === Access.DENY && !perChild) {
      (rules[type] ??= {})[field] = rule(`policy:${key}`, { cache: 'no_cache' })(() => forbidden(`Not permitted to read ${key}`, { field: key }));
    }
    const wrap = accessWrapper(key, policy.row(key)!, decided, childTypes, grants, mode.log);
    const returned = mode.log ? recordTypeReturned(schema, type, field, childTypes) : null;
    const locating = returned ? locatingWrapper(returned) : null;
    if (wrap && locating) wrappers.push([type, field, (resolve) => wrap(locating(resolve))]);
    else if (wrap ?? locating) wrappers.push([type, field, (wrap ?? locating)!]);
  }
  const generated = shield(rules as IRules, {
    // Our resolvers throw typed HubExceptions; shield must pass them through, not mask them.
    allowExternalErrors: true,
    fallbackError: () => forbidden('Not permitted'),
  }).generate(schema) as Record<string, Record<string, IMiddlewareFunction>>;
  // shield generates a wrapper for every field (the fallback rule where none is given); keep
  // only the refusals, so that a field the subject may read runs without one.
  const refusals: Record<string, Record<string, IMiddlewareFunction>> = {};
  for (const [type, fields] of Object.entries(rules)) {
    for (const field of Object.keys(fields)) (refusals[type] ??= {})[field] = generated[type][field];
  }
  // The access wrappers go around shield's, so that they also log the fields shield refused.
  const refusing = applyMiddleware(schema, refusals);
  const access: Record<string, Record<string, { resolve: Resolve }>> = {};
  for (const [type, field, wrap] of wrappers) {
    const resolve = (refusing.getType(type) as GraphQLObjectType).getFields()[field].resolve ?? defaultFieldResolver;
    (access[type] ??= {})[field] = { resolve: wrap(resolve) };
  }
  return addResolversToSchema({ schema: refusing, resolvers: access, updateResolversInPlace: false });
}

/**
 * What the compiled schemas do. Both are on outside benchmarks: HUB_BENCH_DISABLE=policy serves
 * every field as ALLOW (no refusal, mask or grant decision) while still logging reads for the
 * audit; HUB_BENCH_DISABLE=audit keeps the policy and drops the field-level log with the event.
 */
export interface PolicyMode {
  /** Refuse, mask and decide grants as the table says. */
  enforce: boolean;
  /** Record each field read of a child's record, and each write, for the request's audit event. */
  log: boolean;
}

export const FULL_POLICY: PolicyMode = { enforce: true, log: true };

/**
 * One subgraph's schema with the policy applied, compiled once per subject on first use. Refuses
 * to build when a field of the schema has no row in the table, so that no field is ever served
 * without a decision; a subject the table does not know gets no schema at all.
 */
export class PolicySchemas {
  private readonly keys: string[];
  private readonly bySubject = new Map<PolicySubject, GraphQLSchema>();

  constructor(
    private readonly raw: GraphQLSchema,
    private readonly policy: Policy,
    subgraph: string,
    private readonly childTypes: ReadonlySet<string>,
    private readonly grants: FieldGrants,
    private readonly mode: PolicyMode = FULL_POLICY,
  ) {
    this.keys = schemaFieldKeys(raw);
    const missing = policy.uncovered(this.keys);
    if (missing.length) throw new Error(`Subgraph ${subgraph}: no policy row for ${missing.join(', ')}`);
    const leaks = policy.rebuildLeaks(grants);
    if (leaks.length) throw new Error(`Policy and field grants: ${leaks.join('; ')}`);
  }

  for(subject: PolicySubject): GraphQLSchema {
    let schema = this.bySubject.get(subject);
    if (!schema) {
      if (!POLICY_SUBJECTS.includes(subject)) throw forbidden('Not permitted');
      schema = applyPolicy(this.raw, this.keys, this.policy, subject, this.childTypes, this.grants, this.mode);
      this.bySubject.set(subject, schema);
    }
    return schema;
  }
}
