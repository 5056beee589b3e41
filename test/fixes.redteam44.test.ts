import { Department } from '../src/auth/principal';
import { chainHash } from '../src/audit/canonical';
import { asDba, eventOf, eventsOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, YOUTH_LEAGUE: YL } = Department;
const STREET = '330102001';
const CREATE = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
const cursorOf = (id: string) => Buffer.from(`minor:${id}`).toString('base64url');
/** Today in China (UTC+8), YYYY-MM-DD. */
const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

/**
 * Red team 44 (rt44a-fixes): today's fixes — age bounds on department records, paging's recorded
 * reads without a filter, audit anchors, a refused GET's event.
 */
describe('today’s fixes (red team 44)', () => {
  let t: TestHub;
  let civil: string;
  let children: string[];

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { region: STREET });
    children = (
      await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) ORDER BY m.id`, [`${STREET}%`])
    ).map((r: any) => r.id);
    expect(children.length).toBeGreaterThan(5);
  });
  afterAll(async () => {
    await t.stop();
  });

  async function referralPurpose(child: string, to: Department = ED): Promise<Record<string, string>> {
    const r = await t.gql(civil, CREATE, { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: to, need: '家庭困难，需要帮扶' } });
    expect(r.errors).toBeUndefined();
    return { 'x-purpose': `REFERRAL; ${r.data.createReferral.id}` };
  }

  // ---------------------------------------------------------------- (2) paging

  /**
   * The fix records the child after the page for `hasNextPage` without a filter. `edges` of a one-child
   * page placed with `after` just before a named child answer the same question (an edge or none), yet
   * without a filter `edges` record nothing (page.counting.tested is empty): a REFERRAL purpose for
   * one child tells whether another child still lives in the street, unrecorded.
   */
  it('minors(first: 1, after) { edges { __typename } } under a referral’s purpose, telling whether another child follows, is withheld (or that child recorded)', async () => {
    const token = await t.token(ED, { region: STREET, user: 'rt44-edges' });
    const purpose = await referralPurpose(children[0]);
    const n = children.length;
    const q = { query: `query($a: String) { minors(first: 1, after: $a) { edges { __typename } } }`, variables: { a: cursorOf(children[n - 2]) } };
    // The same question under a filter that keeps the whole street is withheld.
    const filtered = await post(t, token, { ...q, query: q.query.replace('minors(', `minors(filter: { regionCode: "${STREET}" }, `) }, purpose);
    expect(filtered.status).toBe(403);
    const r = await post(t, token, q, purpose);
    const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
    // Seen: 200 { edges: [{ __typename: "MinorEdge" }] } — children[n - 1] exists — and the trail names no child.
    expect({ status: r.status, recorded: r.status === 403 || read.has(children[n - 1]) }).toEqual({ status: 403, recorded: true });
  });

  it('policeIncidents(first: 1, after) { nodes { __typename } } under a referral’s purpose, telling whether another child’s record follows, is withheld (or that child recorded)', async () => {
    const records: { id: string; minor_id: string }[] = await t.sql(
      `SELECT i.id, i.minor_id FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id WHERE j.grid_code LIKE $1 ORDER BY i.id`,
      [`${STREET}%`],
    );
    const k = records.findIndex((r, i) => i + 1 < records.length && records[i + 1].minor_id !== r.minor_id);
    expect(k).toBeGreaterThanOrEqual(0);
    const [page, next] = [records[k], records[k + 1]];
    const token = await t.token(PO, { region: STREET, user: 'rt44-nodes' });
    const purpose = await referralPurpose(page.minor_id, PO);
    const after = Buffer.from(`police-incident:${page.id}`).toString('base64url');
    const types = (await t.sql(`SELECT DISTINCT type FROM police.incident`)).map((r: any) => r.type).join(', ');
    const q = (filter: string) => ({ query: `query($a: String) { policeIncidents(first: 1, after: $a${filter}) { nodes { __typename } } }`, variables: { a: after } });
    const filtered = await post(t, token, q(`, filter: { types: [${types}] }`), purpose);
    expect(filtered.status).toBe(403);
    const r = await post(t, token, q(''), purpose);
    const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
    // Seen: 200 { nodes: [{ __typename: "PoliceIncident" }] }, the trail not naming next's child.
    expect({ status: r.status, recorded: r.status === 403 || read.has(next.minor_id) }).toEqual({ status: 403, recorded: true });
  });

  // ---------------------------------------------------------------- (1) age bounds

  it('pin: work (EMPLOYMENT) started on the child’s 16th birthday is accepted', async () => {
    const today = chinaToday();
    const [child] = await t.sql(
      `SELECT m.id, m.birth_date::text AS b FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
        WHERE j.grid_code LIKE $1 AND m.birth_date <= ($2::date - interval '16 years') AND m.birth_date > ($2::date - interval '17 years')
          AND to_char(m.birth_date, 'MM-DD') <> '02-29' ORDER BY m.id LIMIT 1`,
      [`${STREET}%`, today],
    );
    expect(child).toBeDefined();
    const sixteenth = `${Number(child.b.slice(0, 4)) + 16}${child.b.slice(4)}`;
    const token = await t.token(YL, { region: STREET, user: 'rt44-work' });
    const r = await t.gql(token, `mutation($m: ID!, $i: IdleSupportInput!) { createIdleSupport(minorId: $m, input: $i) { id } }`, {
      m: child.id,
      i: { kind: 'EMPLOYMENT', startedOn: sixteenth, provider: '街道就业服务站', status: 'IN_PROGRESS' },
    });
    expect(r.errors).toBeUndefined();
  });

  /**
   * The fix refuses a dropout before 6 (school age) — yet the enrollment it is a dropout from, in
   * grade 1–12, is taken for a child of any age: a grade-9 enrollment of a child of 2 today.
   */
  it('a school enrollment (grade 9) of a child under school age is refused, as a dropout of that child is', async () => {
    const today = chinaToday();
    const [child] = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
        WHERE j.grid_code LIKE $1 AND m.birth_date > ($2::date - interval '5 years') ORDER BY m.id LIMIT 1`,
      [`${STREET}%`, today],
    );
    expect(child).toBeDefined();
    const token = await t.token(ED, { region: STREET, user: 'rt44-enrol' });
    const dropout = await t.gql(token, `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`, {
      m: child.id,
      i: { school: '第一中学', reportedOn: today, daysAbsent: 30 },
    });
    expect(dropout.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const r = await t.gql(token, `mutation($m: ID!, $i: SchoolEnrollmentInput!) { createSchoolEnrollment(minorId: $m, input: $i) { id } }`, {
      m: child.id,
      i: { school: '第一中学', grade: 9, status: 'ENROLLED', enrolledOn: today },
    });
    // Seen: the enrollment is stored.
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  // ---------------------------------------------------------------- (4) a refused GET

  it('pin: a GET with repeated, array-like or invalid parameters is refused 405 with one event, and names the operation when it is one', async () => {
    const token = await t.token(PO, { region: STREET, user: 'rt44-get' });
    const base = t.hub.url;
    const urls = [
      `${base}?query=${encodeURIComponent('query Q { regions { code } }')}&query=x&operationName=Q&operationName=R`,
      `${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&variables=${encodeURIComponent('{"a": ')}&operationName[]=Q`,
      `${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&variables=${encodeURIComponent(JSON.stringify({ a: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) }))}`,
      `${base}?variables=1&variables=2&query[a]=1`,
      `${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&operationName=Q&variables=${encodeURIComponent('{"a":"x","__proto__":{"b":1}}')}`,
    ];
    for (const url of urls) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' } });
      const requestId = res.headers.get('x-request-id')!;
      expect(res.status).toBe(405);
      const events = await eventsOf(t, requestId);
      expect(events.length).toBe(1);
    }
    const res = await fetch(`${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&operationName=Q&variables=${encodeURIComponent('{"a":"x"}')}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const e = await eventOf(t, res.headers.get('x-request-id')!);
    expect(e.operationName).toBe('Q');
  });
});

/**
 * (3) The anchor now compares the database's head with the newest event this process wrote — by seq
 * only. A tail holding this process's events, cut by the database's owner and rewritten (a valid chain
 * of other bodies) up to past that seq before the next tick, raises no alarm: the anchor logs the
 * rewritten head, and every anchor logged agrees with the rewritten chain. The process holds the hash
 * of its newest event: the event stored at that seq has another.
 */
describe('audit anchors (red team 44)', () => {
  it('a tail of this process’s events cut and rewritten past its newest seq is said (“audit chain cut”), not anchored as the head', async () => {
    const errors: string[] = [];
    const logs: string[] = [];
    // Before the hub starts: the anchoring takes `console.log` as its logger then.
    const errSpy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(' ')));
    const logSpy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(' ')));
    const t = await startTestHub({ env: { HUB_AUDIT_ANCHOR_SECONDS: '3600' } });
    try {
      const token = await t.token(PO, { region: STREET, user: 'rt44-anchor' });
      for (let i = 0; i < 4; i++) expect((await post(t, token, { query: '{ regions { code } }' })).status).toBe(200);
      await t.hub.audit.drain();
      const [{ n }] = await t.sql(`SELECT max(seq)::int AS n FROM audit.event`);
      const own = (await t.sql(`SELECT hash FROM audit.event WHERE seq = $1`, [n]))[0].hash;
      // The owner cuts this process's last two events and appends three others, chained as the writer would.
      await asDba(t, async (c) => {
        const sources = (await c.query(`SELECT * FROM audit.event WHERE seq >= 1 ORDER BY seq LIMIT 3`)).rows;
        await c.query(`DELETE FROM audit.event WHERE seq >= $1`, [n - 1]);
        let prev = (await c.query(`SELECT hash FROM audit.event WHERE seq = $1`, [n - 2])).rows[0].hash;
        for (let i = 0; i < 3; i++) {
          const r = sources[i];
          const seq = n - 1 + i;
          const hash = chainHash(prev, seq, r.body);
          await c.query(
            `INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            [seq, prev, hash, r.body, r.request_id, r.occurred_at, r.user_id, r.department, r.region, r.outcome, r.purpose, r.minor_ids],
          );
          prev = hash;
        }
      });
      await t.stop(); // the last anchor
      const anchored = logs.filter((l) => l.includes('audit anchor')).pop();
      // Seen: no "audit chain cut", and the last anchor names the rewritten head (seq n + 1), not event n (its hash `own`).
      expect({ said: errors.some((e) => e.includes('audit chain cut')), anchoredOwn: !!anchored?.includes(own) }).toEqual({ said: true, anchoredOwn: true });
    } finally {
      errSpy.mockRestore();
      logSpy.mockRestore();
    }
  });
});

/** (2) on the distributed path: the fix is the subgraph's resolver, which records the same there. */
describe('paging, distributed (red team 44)', () => {
  it('pin: distributed, alone and planned, hasNextPage under a referral’s purpose for the page’s own child is withheld or records the child after it', async () => {
    const t = await startDistributedTestHub();
    try {
      const civil = await t.token(CA, { region: STREET });
      const children: string[] = (
        await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) ORDER BY m.id`, [`${STREET}%`])
      ).map((r: any) => r.id);
      const n = children.length;
      const ref = await t.gql(civil, CREATE, { i: { minorId: children[n - 2], type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
      expect(ref.errors).toBeUndefined();
      const purpose = { 'x-purpose': `REFERRAL; ${ref.data.createReferral.id}` };
      const token = await t.token(ED, { region: STREET, user: 'rt44-dist' });
      for (const beside of ['', ' regions { code }']) {
        const q = { query: `query($a: String) { minors(first: 1, after: $a) { pageInfo { hasNextPage } }${beside} }`, variables: { a: cursorOf(children[n - 3]) } };
        const r = await post(t, token, q, purpose);
        const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
        expect(r.status === 403 || read.has(children[n - 1])).toBe(true);
      }
    } finally {
      await t.stop();
    }
  });
});
