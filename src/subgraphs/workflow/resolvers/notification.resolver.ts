import { randomBytes, randomUUID } from 'node:crypto';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { badInput, HubErrorCode, HubException, notFound } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { FilterTests, noteTested } from '../../shared/filter-tests';
import { allSeenBy, asSeenBy, loadedRecordOf, minorInJurisdiction } from '../../shared/jurisdiction';
import { MinorStub } from '../entities/minor.stub';
import { Notification, NotificationField } from '../entities/notification.entity';
import { Webhook, WebhookRegistration } from '../entities/webhook.entity';
import { isUuid } from '../../../common/uuid';
import { checkDestination, DestinationRefused, sameDestination } from '../webhook.destination';
import { jurisdiction } from '../workflow.loaders';
import { payloadAccess, servedPayload, untoldInInbox } from '../workflow.notify';
import { AFTER, inOrder, ListOrder, newestFirst, pageAfter, testedOfItsChild } from '../workflow.pages';
import { latestTime, stepTime } from '../../../common/dates';
import { pageSize } from './report.resolver';

/**
 * The caller's inbox: its department's notifications for regions in its jurisdiction, but for those
 * whose kind tells what it may not read exact today (told before a release masked it: untoldInInbox).
 */
const inboxRule = (ctx: HubContext, alias: string) => {
  const untold = untoldInInbox(ctx.policy, ctx.principal.department, alias);
  return {
    sql: `${alias}.department = :dept AND ${alias}.region_code LIKE :jurisdiction AND ${untold.sql}`,
    params: { dept: ctx.principal.department, jurisdiction: jurisdiction(ctx), ...untold.params },
  };
};

/** The webhooks a caller lists and deactivates: its department's, registered in its jurisdiction. */
const ownWebhooks = (ctx: HubContext, alias: string) => ({
  sql: `${alias}.department = :dept AND ${alias}.region_code LIKE :jurisdiction`,
  params: { dept: ctx.principal.department, jurisdiction: jurisdiction(ctx) },
});

const OLDEST_FIRST: ListOrder = { key: (alias) => `${alias}.created_at`, direction: 'ASC' };

const inbox = (ctx: HubContext, em: EntityManager) => {
  const rule = inboxRule(ctx, 'n');
  return em.getRepository(Notification).createQueryBuilder('n').where(rule.sql, rule.params);
};

@Resolver(() => Notification)
export class NotificationResolver {
  @Query(() => [Notification], { nullable: true, description: '信息通报 inbox of the caller’s department, newest first' })
  async notifications(
    @Ctx() ctx: HubContext,
    @Arg('unacknowledged', () => Boolean, { nullable: true }) unacknowledged?: boolean,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<Notification[]> {
    const tests = new FilterTests(ctx);
    if (unacknowledged != null) tests.check('Notification.acknowledgedAt', 'unacknowledged');
    const rule = (alias: string) => {
      const { sql, params } = inboxRule(ctx, alias);
      if (unacknowledged == null) return { sql, params };
      return { sql: `${sql} AND ${alias}.acknowledged_at ${unacknowledged ? 'IS NULL' : 'IS NOT NULL'}`, params };
    };
    const rows = await allSeenBy(
      ctx,
      await newestFirst(ctx.db.getRepository(Notification), 'created_at', rule, pageSize(first), after, testedOfItsChild(ctx, (alias) => inboxRule(ctx, alias), tests.tested)),
    );
    // The `after` item's child too: its being accepted is a test of it, as its refusal is (AFTER).
    for (const n of rows) noteTested(ctx, n.minorId, tests.tested);
    return pageAfter(rows, after);
  }

  @Mutation(() => Notification, { nullable: true, description: 'Acknowledges for the department; acknowledging again changes nothing' })
  async acknowledge(@Arg('id', () => ID) id: string, @Ctx() ctx: HubContext): Promise<Notification> {
    if (!isUuid(id)) throw notFound('Notification');
    const { n: acknowledged, already } = await ctx.db.transaction(async (em) => {
      const n = await inbox(ctx, em).setLock('pessimistic_write').andWhere('n.id = :id', { id }).getOne();
      if (!n) throw notFound('Notification');
      // Whether its child is the caller's to be named, settled here: asked after the commit, a
      // database that no longer answered would fail an acknowledgement already made, unrecorded.
      await loadedRecordOf(em, ctx, 'Notification', n.minorId);
      if (n.acknowledgedAt) return { n, already: true };
      // Not before it was written, nor escalated as unacknowledged: the job or request that wrote it
      // may have read a clock ahead of this one.
      n.acknowledgedAt = stepTime(ctx.now, latestTime(n.createdAt, n.escalatedAt));
      n.acknowledgedBy = ctx.principal.userId;
      await em.getRepository(Notification).update(n.id, { acknowledgedAt: n.acknowledgedAt, acknowledgedBy: n.acknowledgedBy });
      return { n, already: false };
    });
    const answer = await asSeenBy(ctx, acknowledged);
    return already ? ctx.access.unchanged(answer) : answer;
  }

  @FieldResolver(() => MinorStub, { nullable: true, description: 'The child the event is about, when the child is in the caller’s jurisdiction' })
  async minor(@Root() n: Notification, @Ctx() ctx: HubContext): Promise<MinorStub | null> {
    return n.minorId ? minorInJurisdiction(ctx, n.minorId) : null;
  }

  @FieldResolver(() => [NotificationField], { nullable: true, description: 'What the department may read of the event, masked as its policy masks' })
  payload(@Root() n: Notification, @Ctx() ctx: HubContext): NotificationField[] {
    // The payload is the child's data as it was told: each field is a read of the child, ALLOW or
    // MASK as it was built for the department, recorded as a webhook delivery of it is (deliveryEvent).
    // A notification that names no child to this reader (never did, or the child has since moved
    // out of the reader's jurisdiction: `asSeenBy`) shows none of the child's record either.
    const payload = servedPayload(ctx.policy, n.department, n.payload, n.payloadAccess, !!n.minorId);
    if (n.minorId) {
      for (const [key, access] of Object.entries(payloadAccess(ctx.policy, n.department, payload))) ctx.access.read(n.minorId, key, access);
    }
    return Object.entries(payload)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([field, value]) => ({ field, value }));
  }
}

@Resolver(() => Webhook)
export class WebhookResolver {
  /**
   * Paged like the workflow's other lists: a deactivated webhook stays listed and frees its place,
   * so the list grows with every registration and deactivation, without bound — answered whole,
   * it was priced at a handful of items by the cost limit whatever it held.
   */
  @Query(() => [Webhook], { nullable: true, description: 'The department’s webhooks registered in the caller’s jurisdiction, oldest first' })
  async webhooks(
    @Ctx() ctx: HubContext,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => ID, { nullable: true, description: AFTER }) after?: string | null,
  ): Promise<Webhook[]> {
    const rows = await inOrder(ctx.db.getRepository(Webhook), OLDEST_FIRST, (alias) => ownWebhooks(ctx, alias), pageSize(first), after);
    return pageAfter(rows, after);
  }

  @Mutation(() => WebhookRegistration, {
    nullable: true,
    description: 'Registers a department system for the department’s notifications in the caller’s jurisdiction; the secret is shown once',
  })
  async registerWebhook(@Arg('url') url: string, @Ctx() ctx: HubContext): Promise<WebhookRegistration> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badInput('url', 'is not a URL');
    }
    if (url.length > 500) throw badInput('url', 'must be at most 500 characters');
    // Payloads carry children's data: in production only over TLS.
    const allowed = ctx.config.production ? ['https:'] : ['https:', 'http:'];
    if (!allowed.includes(parsed.protocol)) throw badInput('url', `must use ${allowed.join(' or ')}`);
    // A password in the URL would be shown to everyone of the department who lists its webhooks;
    // deliveries are signed with the webhook's secret instead. A fragment is never sent.
    if (parsed.username || parsed.password) throw badInput('url', 'must not carry a user name or password (deliveries are signed)');
    if (url.includes('#')) throw badInput('url', 'must not have a fragment');
    // SSRF: no loopback, link-local (cloud metadata), multicast, reserved…; in production no private
    // network unless allow-listed. Checked again at every delivery.
    try {
      await checkDestination(ctx.config.workflow.webhook, parsed, 'registration');
    } catch (e) {
      if (!(e instanceof DestinationRefused)) throw e;
      // The reason names what a host resolves to, or that it does not: in production that would let
      // any officer map the internal names and addresses of government networks. Only the server's
      // log says why; a developer outside production is told.
      if (!ctx.config.production) throw badInput('url', `is not an allowed destination: ${e.message}`);
      console.error(`[hub] webhook registration refused (request ${ctx.requestId}, ${ctx.principal.department} ${ctx.principal.userId}): ${e.message}`);
      throw badInput('url', 'is not an allowed destination');
    }
    const webhook: Webhook = {
      id: randomUUID(),
      department: ctx.principal.department,
      regionCode: ctx.principal.region,
      url: parsed.toString(),
      secret: randomBytes(32).toString('base64url'),
      active: true,
      createdBy: ctx.principal.userId,
      createdAt: ctx.now,
    };
    // Each webhook gets its own copy of every notification and its own share of each delivery pass:
    // bounded per department and region, so that one office cannot crowd out the others' deliveries.
    const max = ctx.config.workflow.webhook.maxPerRegion;
    await ctx.db.transaction(async (em) => {
      // Serialised per department and region, so that two registrations at once cannot both pass the checks.
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('webhook-registration:' || $1 || ':' || $2))`, [webhook.department, webhook.regionCode]);
      const active: { url: string }[] = await em.query(`SELECT url FROM workflow.webhook WHERE department = $1 AND region_code = $2 AND active`, [webhook.department, webhook.regionCode]);
      const destination = sameDestination(webhook.url);
      if (active.some((w) => sameDestination(w.url) === destination)) throw badInput('url', 'is already an active webhook of the department in this region');
      if (active.length >= max) throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `At most ${max} active webhooks per department and region`);
      await em.getRepository(Webhook).insert(webhook);
    });
    return { id: webhook.id, webhook, secret: webhook.secret, maxAttempts: ctx.config.workflow.webhook.maxAttempts };
  }

  @Mutation(() => Webhook, { nullable: true, description: 'Stops deliveries to a webhook of the department; deactivating again changes nothing' })
  async deactivateWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: HubContext): Promise<Webhook> {
    const own = ownWebhooks(ctx, 'w');
    const hook = isUuid(id) ? await ctx.db.getRepository(Webhook).createQueryBuilder('w').where(own.sql, own.params).andWhere('w.id = :id', { id }).getOne() : null;
    if (!hook) throw notFound('Webhook');
    // Whether this call changed anything is what the rows written say, not the look-up above: a
    // concurrent deactivation may have committed since.
    const written = await ctx.db.transaction(async (em) => {
      const { affected: stopped } = await em.getRepository(Webhook).update({ id: hook.id, active: true }, { active: false });
      // What was queued for it is not sent either (a delivery in flight completes).
      const [, cancelled] = (await em.query(
        `UPDATE workflow.webhook_delivery SET status = 'FAILED', last_error = 'webhook deactivated' WHERE webhook_id = $1 AND status = 'PENDING'`,
        [hook.id],
      )) as [unknown, number];
      return (stopped ?? 0) + cancelled;
    });
    const answer = { ...hook, active: false };
    return written ? answer : ctx.access.unchanged(answer);
  }
}
