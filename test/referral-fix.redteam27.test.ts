import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 27 (rt27-referral): commit 1aa69dc — createReferral holding its child FOR KEY SHARE and
 * answering `asSeenBy` after its commit; the other referral steps' reads of the child.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id minor { id } } }`;
const MOVE = `mutation($id: ID!, $i: UpdateMinorInput!) { updateMinor(id: $id, input: $i) { id } }`;
const NOTICES = `{ notifications(first: 500) { subjectId kind minor { id } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until some session waits for a lock on `relation` (a table name). */
async function untilWaitingOn(c: Client, relation: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [{ n }] = (await c.query(`SELECT count(*)::int AS n FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND NOT granted AND relation = $1::regclass`, [relation])).rows;
    if (n > 0) return;
    await sleep(25);
  }
  throw new Error(`no session came to wait on ${relation}`);
}

async function connect(t: TestHub): Promise<Client> {
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  return c;
}

let offset = 0;
const childOf = async (t: TestHub, street = STREET): Promise<{ id: string; grid_code: string }> =>
  (
    await t.sql(
      `SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now() + interval '30 days')
        ORDER BY id ASC OFFSET $2 LIMIT 1`,
      [`${street}%`, 60 + offset++],
    )
  )[0];
const gridOf = async (t: TestHub, street: string): Promise<string> =>
  (await t.sql(`SELECT code FROM registry.region WHERE code LIKE $1 AND length(code) = 15 ORDER BY code LIMIT 1`, [`${street}%`]))[0].code;

describe('referral steps and moves of their child (rt27-referral)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  // Was a bug (fixed: the answer holds the child FOR KEY SHARE). The receiving department's answer (acceptReferral / declineReferral / completeReferral, `answer`
  // in referral.resolver.ts) reads the child twice without holding it: `loadedRecordOf` (the answer's
  // `minor` and the audit's child) and then `emitNotification`'s `livesIn` (whether REFERRAL_OUTCOME names
  // the child), each statement on its own READ COMMITTED snapshot. A move committed between the two has
  // the answer (and its event) name the child while the outcome notice, told to the referrer's region,
  // names none — for good (its minor_id is stored NULL): an outcome of neither order. Made before the
  // move, the notice names the child to the district (whose jurisdiction still holds the child); made
  // after it, the answer names no child either. createReferral was fixed for this very race (1aa69dc).
  it('a move committed while a referral is being accepted: the outcome notice names the child exactly when the answer does', async () => {
    const kid = await childOf(t);
    const away = await gridOf(t, OTHER_STREET);
    const education = await t.token(ED, { region: STREET, user: 'rt27r-ed' });
    const made = await t.gql(education, CREATE, { input: { minorId: kid.id, type: 'EDUCATION_AID', toDepartment: PO, need: '家庭困难，需要帮扶' } });
    expect(made.errors).toBeUndefined();
    const id: string = made.data.createReferral.id;
    const police = await t.token(PO, { region: STREET, user: 'rt27r-po' });
    const civil = await t.token(CA, { user: 'rt27r-ca' });
    const blocker = await connect(t);
    let accepted: Promise<{ json: any }> | undefined;
    let moved: Promise<any> | undefined;
    try {
      await blocker.query('BEGIN');
      // Lets the answer's SELECT … FOR UPDATE of the referral through (ROW SHARE), holds its UPDATE (ROW EXCLUSIVE).
      await blocker.query('LOCK TABLE workflow.referral IN SHARE ROW EXCLUSIVE MODE');
      accepted = post(t, police, { query: `mutation($id: ID!) { acceptReferral(id: $id, note: "受理") { id status minor { id } } }`, variables: { id } });
      await untilWaitingOn(blocker, 'workflow.referral');
      moved = t.gql(civil, MOVE, { id: kid.id, i: { gridCode: away } });
      // The move commits while the answer waits, or waits itself on the answer's hold of the child.
      let settled = false;
      moved.finally(() => (settled = true)).catch(() => undefined);
      while (!settled && !(await blocker.query(`SELECT 1 FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple')`)).rowCount) await sleep(25);
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    expect((await moved!).errors).toBeUndefined();
    const answer = (await accepted!).json;
    expect(answer.errors).toBeUndefined();
    expect(answer.data.acceptReferral.status).toBe('ACCEPTED');
    const namedByAnswer: string | null = answer.data.acceptReferral.minor?.id ?? null;
    const districtEducation = await t.token(ED, { user: 'rt27r-ed-district' });
    const notice = (await t.gql(districtEducation, NOTICES)).data.notifications.find((n: any) => n.subjectId === id && n.kind === 'REFERRAL_OUTCOME');
    expect(notice).toBeDefined();
    expect({ answer: namedByAnswer, notice: notice.minor?.id ?? null }).toEqual(namedByAnswer ? { answer: kid.id, notice: kid.id } : { answer: null, notice: null });
  });

  // Pin (passes): undisturbed, a street officer's referral names the child in its answer, records its
  // change against the child, and its REFERRAL_RECEIVED names the child to the receiving department of
  // the street and of the district, and reaches no sibling street's officers.
  it('held: createReferral of a street caller — answer, event and notice all name the child', async () => {
    const kid = await childOf(t);
    const education = await t.token(ED, { region: STREET, user: 'rt27r-ed-plain' });
    const made = await post(t, education, { query: CREATE, variables: { input: { minorId: kid.id, type: 'EDUCATION_AID', toDepartment: PO, need: '需要帮扶' } } });
    expect(made.json.errors).toBeUndefined();
    const { id, minor } = made.json.data.createReferral;
    expect(minor).toEqual({ id: kid.id });
    const event = await storedEventOf(t, made.requestId);
    expect(event.changes.map((c: any) => [c.mutation, c.id, c.minorId])).toEqual([['createReferral', id, kid.id]]);
    const seenBy = async (region?: string) =>
      (await t.gql(await t.token(PO, { region, user: `rt27r-po-${region ?? 'district'}` }), NOTICES)).data.notifications
        .filter((n: any) => n.subjectId === id)
        .map((n: any) => [n.kind, n.minor?.id ?? null]);
    expect(await seenBy(STREET)).toEqual([['REFERRAL_RECEIVED', kid.id]]);
    expect(await seenBy()).toEqual([['REFERRAL_RECEIVED', kid.id]]);
    expect(await seenBy(OTHER_STREET)).toEqual([]);
  });
});

describe('createReferral answered after its commit (rt27-referral)', () => {
  let t: TestHub;
  beforeAll(async () => {
    // Every statement and lock wait of the hub gives up after 3 s (the default is 15 s).
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '3000' } });
  });
  afterAll(() => t?.stop());

  // Was a bug (fixed: the child the referral holds primes the look-up). createReferral committed, then asked the database once more — `asSeenBy` after the
  // transaction (referral.resolver.ts, `return asSeenBy(ctx, referral)`), a look-up of the child on the
  // pool. When that look-up fails (the database not answering, a lock on registry.minor held past the
  // statement limit), the client is answered DATABASE_UNAVAILABLE (HTTP 503, an invitation to retry) for a referral that was stored and
  // told to the receiving department, and the request's audit event records no change: the write is
  // in the tables and in no one's trail, and the client, told it failed, refers again. The other
  // workflow mutations settle this inside their transaction for this reason (`loadedRecordOf`, and
  // `acknowledge`'s comment: "asked after the commit, a database that no longer answered would fail an
  // acknowledgement already made, unrecorded"); before 1aa69dc createReferral asked nothing after it.
  it('a referral stored is answered and its change recorded, whatever the database does after the commit', async () => {
    const kid = await childOf(t);
    const user = 'rt27r-ed-late';
    const education = await t.token(ED, { region: STREET, user });
    const notices = await connect(t);
    const registry = await connect(t);
    let created: Promise<{ status: number; requestId: string; json: any }> | undefined;
    let waiting: Promise<unknown> | undefined;
    try {
      await notices.query('BEGIN');
      await notices.query('LOCK TABLE workflow.notification IN SHARE ROW EXCLUSIVE MODE');
      created = post(t, education, { query: CREATE, variables: { input: { minorId: kid.id, type: 'EDUCATION_AID', toDepartment: PO, need: '家庭困难，需要帮扶' } } });
      // The referral holds its child and waits to write its notice.
      await untilWaitingOn(notices, 'workflow.notification');
      await registry.query('BEGIN');
      // Granted as the referral commits (it holds the child until then); the hub's next read of the registry waits for it.
      waiting = registry.query('LOCK TABLE registry.minor IN ACCESS EXCLUSIVE MODE').catch((e) => e);
      await untilWaitingOn(notices, 'registry.minor');
      await notices.query('COMMIT');
      await created;
    } finally {
      await notices.end();
      await waiting;
      await registry.query('ROLLBACK').catch(() => undefined);
      await registry.end();
    }
    const { requestId, status, json } = await created!;
    const stored = await t.sql(`SELECT id FROM workflow.referral WHERE from_user = $1 AND minor_id = $2`, [user, kid.id]);
    const event = await storedEventOf(t, requestId);
    const recorded = (event.changes ?? []).filter((c: any) => c.mutation === 'createReferral');
    expect({
      stored: stored.length,
      status,
      errors: (json.errors ?? []).map((e: any) => e.extensions?.code),
      recorded: recorded.map((c: any) => ({ id: c.id, minorId: c.minorId })),
    }).toEqual({ stored: 1, status: 200, errors: [], recorded: stored.map((r: any) => ({ id: r.id, minorId: kid.id })) });
  });
});
