import { randomUUID } from 'node:crypto';
import { Department } from '../src/auth/principal';
import { applyMask } from '../src/policy/masks';
import { MaskKind } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { eventOf, post } from './support/audit-helpers';
import { daysAgo } from './support/department-records';
import { childWithAddress, storeNotification } from './support/stored-notifications';
import { startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, receiver, Rx } from './support/webhooks';

jest.setTimeout(600_000);

const { EDUCATION: ED } = Department;
const STREET = '330102001';
const DISTRICT = '330102';

const INBOX = `query { notifications(first: 500) { id kind minor { id } payload { field value } } }`;

type Field = { field: string; value: string | null };

/**
 * Red team 46 (rt46a): referral grants and lifecycle, and notifications (who sees which, what their
 * contents show, the audit of each read).
 */
describe('referrals and notifications (red team 46)', () => {
  let t: TestHub;
  const policy = buildPolicy();

  let rx: Rx;

  beforeAll(async () => {
    t = await startTestHub();
    rx = await receiver();
  });
  afterAll(async () => {
    await t.stop();
    await closeReceiver(rx.server);
  });

  const pickChild = (offset: number) => childWithAddress(t, STREET, offset);

  describe('a stored payload served under today’s policy', () => {
    it('serves masked (or not at all) a field the department’s policy now masks, never exact while recording it MASK', async () => {
      // Precondition: education reads a child's current address masked today.
      expect(policy.access(ED, 'Minor.currentAddress')).toBe('MASK');
      const c = await pickChild(7);
      expect(applyMask(MaskKind.ADDRESS, c.current_address)).not.toBe(c.current_address);
      // A notification told to education by a release whose row let it read the address exactly, and
      // kept how it was built (payload_access: ALLOW).
      const id = await storeNotification(t, {
        kind: 'CHILD_RED',
        department: ED,
        child: c,
        payload: { 'Minor.name': c.name, 'Minor.currentAddress': c.current_address },
        access: { 'Minor.currentAddress': 'ALLOW', 'Minor.name': 'ALLOW' },
        tag: 'rt46-masked-since',
      });
      const r = await post(t, await t.token(ED, { region: DISTRICT, user: 'ed-rt46-masked-since' }), { query: INBOX });
      expect(r.json.errors).toBeUndefined();
      const mine = (r.json.data.notifications as { id: string; payload: Field[] }[]).find((n) => n.id === id)!;
      expect(mine).toBeDefined();
      const address = mine.payload.find((f) => f.field === 'Minor.currentAddress')?.value;
      const fields = (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === c.id)?.fields ?? {};
      // The address as education may read it today: masked, or left out — never the exact value
      // (it had been served exact, while the trail recorded that read as MASK).
      expect({ servedExact: address === c.current_address, recorded: fields['Minor.currentAddress'] }).toEqual({
        servedExact: false,
        recorded: address === undefined ? undefined : 'MASK',
      });
    });

    it('keeps, for each notification told, how each field of its payload was built for its department', async () => {
      const [child] = await t.sql(
        `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '8 years' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`,
      );
      const made = await t.gql(
        await t.token(ED, { region: STREET, user: 'ed-rt46-dropout' }),
        `mutation($m: ID!, $d: String!) { createDropoutReport(minorId: $m, input: { school: "清波小学", reportedOn: $d, daysAbsent: 12 }) { id } }`,
        { m: child.id, d: daysAgo(1) },
      );
      expect(made.errors).toBeUndefined();
      const told: { department: Department; payload: Record<string, string>; payload_access: Record<string, string> }[] = await t.sql(
        `SELECT department, payload, payload_access FROM workflow.notification WHERE subject_id = $1`,
        [made.data.createDropoutReport.id],
      );
      expect(told.length).toBeGreaterThan(1);
      for (const n of told) {
        const built = Object.fromEntries(Object.keys(n.payload).map((key) => [key, policy.access(n.department, key) === 'MASK' ? 'MASK' : 'ALLOW']));
        expect([n.department, n.payload_access]).toEqual([n.department, built]);
      }
      // The demo data's too: none without it.
      expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE payload_access IS NULL`)).toEqual([{ n: 0 }]);
    });

    it('held: a payload built under today’s policy is served as built, the masked address as the API masks it, recorded MASK', async () => {
      const c = await pickChild(9);
      const masked = applyMask(MaskKind.ADDRESS, c.current_address);
      const id = randomUUID();
      await t.sql(
        `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, payload_access, created_at, dedupe_key)
         VALUES ($1, 'CHILD_RED', 'EDUCATION', $2, $3, NULL, $4, $5, now(), $6)`,
        [id, c.grid_code, c.id, JSON.stringify({ 'Minor.name': c.name, 'Minor.currentAddress': masked }), JSON.stringify({ 'Minor.currentAddress': 'MASK', 'Minor.name': 'ALLOW' }),
          `CHILD_RED:${c.id}:rt46-masked-today:EDUCATION`],
      );
      const r = await post(t, await t.token(ED, { region: DISTRICT, user: 'ed-rt46-masked-today' }), { query: INBOX });
      const mine = (r.json.data.notifications as { id: string; payload: Field[] }[]).find((n) => n.id === id)!;
      expect(mine.payload).toEqual([
        { field: 'Minor.currentAddress', value: masked },
        { field: 'Minor.name', value: c.name },
      ]);
      const fields = (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === c.id)?.fields ?? {};
      expect([fields['Minor.currentAddress'], fields['Minor.name']]).toEqual(['MASK', 'ALLOW']);
    });

    it('delivers to the department’s system masked (or not at all) a field its policy now masks', async () => {
      expect(policy.access(ED, 'Minor.currentAddress')).toBe('MASK');
      const c = await pickChild(8);
      const reg = await t.gql(await t.token(ED, { region: DISTRICT, user: 'ed-rt46-hook' }), `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: rx.url });
      expect(reg.errors).toBeUndefined();
      const id = randomUUID();
      await t.sql(
        `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, payload_access, created_at, dedupe_key)
         VALUES ($1, 'CHILD_RED', 'EDUCATION', $2, $3, NULL, $4, $5, now(), $6)`,
        [id, c.grid_code, c.id, JSON.stringify({ 'Minor.name': c.name, 'Minor.currentAddress': c.current_address }), JSON.stringify({ 'Minor.currentAddress': 'ALLOW', 'Minor.name': 'ALLOW' }),
          `CHILD_RED:${c.id}:rt46-hook-masked-since:EDUCATION`],
      );
      await t.sql(
        `INSERT INTO workflow.webhook_delivery (id, webhook_id, notification_id, status, attempts, next_attempt_at) VALUES (gen_random_uuid(), $1, $2, 'PENDING', 0, now())`,
        [reg.data.registerWebhook.webhook.id, id],
      );
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), { audit: t.hub.audit, policy }, { batch: 500, budgetMs: 60_000 });
      const delivered = rx.got.map((x) => JSON.parse(x.body)).filter((body) => body.id === id);
      expect(delivered).toHaveLength(1);
      const address = delivered[0].payload['Minor.currentAddress'];
      expect(address === undefined || address === applyMask(MaskKind.ADDRESS, c.current_address) ? 'masked or left out' : `served: ${address}`).toBe('masked or left out');
      // Left out, and how it was built is no part of the body.
      expect(delivered[0].payload).toEqual({ 'Minor.name': c.name });
      expect(Object.keys(delivered[0])).not.toContain('payload_access');
    });
  });
});
