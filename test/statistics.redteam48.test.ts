import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { eventOf, post } from './support/audit-helpers';
import { acrossARefresh, addMinors, addRegionChain } from './support/statistics-fixtures';
import { poolSize, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 48 (rt48b): statistics snapshot pinning (STATISTICS_REFRESHED) and the auditor's
 * UNUSUAL_PURPOSE anomaly (round 46 fixes, commits 30afc7e and f6ced9f).
 */
const DISTRICT = '330148';
const BIG_GRID = `${DISTRICT}001001001`;
/** A street of two children: below k (5), never shown. */
const SMALL_GRID = `${DISTRICT}002001001`;
const SMALL_STREET = SMALL_GRID.slice(0, 9);
/** A district of the template with children (red team 46 used it for the anomalies). */
const AUDIT_DISTRICT = '330102';
const REFRESHED_MESSAGE = 'The statistics were refreshed while this request was answered: send it again for figures of one refresh';

describe('statistics snapshot pinning and UNUSUAL_PURPOSE (red team 48)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
    await addRegionChain(t, BIG_GRID);
    await addMinors(t, BIG_GRID, 20);
    await addRegionChain(t, SMALL_GRID);
    await addMinors(t, SMALL_GRID, 2);
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t.stop());

  // Pin: the refusal a dashboard gets mid-refresh, what it was answered beside it, its audit event, and the next request.
  it('pin: a dashboard refused STATISTICS_REFRESHED mid-request gets the unmasked code and message, small cells still hidden in what was answered, a PARTIAL audit event, and a clean next request', async () => {
    const dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DISTRICT });
    const n = poolSize(t);
    const early = Array.from({ length: n - 1 }, (_, i) => `f${i}: statisticsFreshness { refreshedAt }`).join('\n');
    const query = `{
      ${early}
      before: minorCounts(level: STREET) { refreshedAt total { value suppressed } cells { regionCode count { value suppressed display } } }
      after: minorCounts(level: STREET) { refreshedAt total { value suppressed } cells { regionCode count { value suppressed display } } }
    }`;
    const r = await acrossARefresh(t, () => post(t, dashboard, { query }, { 'x-purpose': 'CASE_HANDLING; rt48' }), n, () => addMinors(t, BIG_GRID, 3));
    expect(r.status).toBe(200);
    const errors = r.json.errors ?? [];
    expect(errors.map((e: any) => ({ path: e.path, code: e.extensions.code, message: e.message }))).toEqual([
      { path: ['after'], code: 'STATISTICS_REFRESHED', message: REFRESHED_MESSAGE },
    ]);
    // No stack trace, no SQL in the refusal.
    expect(JSON.stringify(errors)).not.toMatch(/stacktrace|SELECT|at .*\.ts:/i);
    // What was answered is of the old refresh, the small street hidden as always.
    const before = r.json.data.before;
    expect(before.total).toEqual({ value: 22, suppressed: false });
    expect(before.cells.find((c: any) => c.regionCode === SMALL_STREET).count).toEqual({ value: null, suppressed: true, display: 'x' });
    expect(before.cells.some((c: any) => c.count.value === 2)).toBe(false);
    // The request's event: answered in part, the refusal's code recorded.
    const e = await eventOf(t, r.requestId);
    expect({ outcome: e.outcome, errorCodes: e.errorCodes }).toEqual({ outcome: 'PARTIAL', errorCodes: ['STATISTICS_REFRESHED'] });
    // The next request is not held to the refused one's pin.
    const again = await post(t, dashboard, { query }, { 'x-purpose': 'CASE_HANDLING; rt48' });
    expect(again.json.errors).toBeUndefined();
    expect([again.json.data.before.total.value, again.json.data.after.total.value]).toEqual([25, 25]);
    expect(again.json.data.after.cells.find((c: any) => c.regionCode === SMALL_STREET).count.suppressed).toBe(true);
  });

  // Pin: a refresh between two requests refuses neither (each request pins its own summaries).
  it('pin: a refresh between two requests of one token refuses neither, and the second reads the new figures', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const query = `{ a: statisticsFreshness { refreshedAt } b: minorCounts(level: STREET) { refreshedAt total { value } } }`;
    const first = await t.gql(officer, query);
    expect(first.errors).toBeUndefined();
    await addMinors(t, BIG_GRID, 1);
    await refreshStatistics(t.hub.db.ds);
    const second = await t.gql(officer, query);
    expect(second.errors).toBeUndefined();
    expect(second.data.b.total.value).toBe(first.data.b.total.value + 1);
    expect(second.data.a.refreshedAt).toBe(second.data.b.refreshedAt);
  });

  describe('UNUSUAL_PURPOSE', () => {
    let children: string[];
    let auditor: string;
    beforeAll(async () => {
      auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: AUDIT_DISTRICT, user: 'rt48-auditor' });
      children = (
        await t.sql(
          `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
            WHERE j.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) ORDER BY m.id LIMIT 60`,
          [`${AUDIT_DISTRICT}%`],
        )
      ).map((r: any) => r.id);
      expect(children.length).toBe(60);
    });

    async function anomalies(token: string): Promise<any[]> {
      const r = await post(t, token, { query: `{ auditAnomalies { kind userId department count description requestIds } }` }, {});
      expect(r.json.errors).toBeUndefined();
      return r.json.data.auditAnomalies;
    }
    const read = (token: string, m: string, purpose: string) =>
      post(t, token, { query: `query($m: ID!) { minor(id: $m) { name } }`, variables: { m } }, { 'x-purpose': purpose });

    // Pin: README "a purpose below this share of a user's reads (with at least 20 reads)": 1 of 20 is 5 %, not below 0.05.
    it('pin: 1 read of 20 under SCREENING (5 %) is not flagged, 1 of 21 is; look-ups of unknown children are no reads; an auditor of another district sees neither', async () => {
      const officer = await t.token(Department.CIVIL_AFFAIRS, { region: AUDIT_DISTRICT, user: 'rt48-edge' });
      for (let i = 0; i < 19; i++) expect((await read(officer, children[i], 'CASE_HANDLING')).json.errors).toBeUndefined();
      const odd = await read(officer, children[25], 'SCREENING');
      expect(odd.json.errors).toBeUndefined();
      const mine = async (token = auditor) => (await anomalies(token)).filter((a) => a.userId === 'rt48-edge' && a.kind === 'UNUSUAL_PURPOSE');
      expect(await mine()).toEqual([]);
      expect((await read(officer, children[19], 'CASE_HANDLING')).json.errors).toBeUndefined();
      const flagged = (await mine()).map((a) => ({ count: a.count, description: a.description, requestIds: a.requestIds }));
      expect(flagged).toEqual([{ count: 1, description: '1 of 21 reads declared SCREENING, a purpose this user rarely gives', requestIds: [odd.requestId] }]);
      // Look-ups of children that do not exist: nothing read, nothing recorded, nothing counted.
      for (let i = 0; i < 3; i++) {
        const refused = await read(officer, '00000000-0000-4000-8000-00000000000' + i, 'SCREENING');
        expect(refused.json.data?.minor ?? null).toBeNull();
      }
      expect((await mine()).map((a) => [a.count, a.description])).toEqual([[1, '1 of 21 reads declared SCREENING, a purpose this user rarely gives']]);
      const elsewhere = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: DISTRICT, user: 'rt48-auditor-elsewhere' });
      expect(await mine(elsewhere)).toEqual([]);
    });

    // Found by red team 48: UNUSUAL_PURPOSE (and MANY_CHILDREN) counted as "reads" requests whose every
    // field of the child was refused (FORBIDDEN on the path, nothing shown). The event lists such a
    // child in `reads` with its fields DENY (a policy refusal, or an answer withheld whole:
    // refusedReads in src/audit/audit.plugin.ts:284), so `minor_ids` names it (src/audit/canonical.ts:85),
    // and the anomaly's `read` rule (src/subgraphs/audit/audit.anomalies.ts) took every child of a
    // query's minor_ids for a read, whatever its fields' access. 20 refused look-ups and 1 read made
    // "1 of 21 reads declared SCREENING" — the miscount f6ced9f fixed for writes, back through refusals.
    it('UNUSUAL_PURPOSE counts reads that showed a child, not look-ups whose every field was refused (20 refused and 1 read are no "1 of 21 reads")', async () => {
      const school = await t.token(Department.EDUCATION, { region: AUDIT_DISTRICT, user: 'rt48-refused' });
      for (let i = 0; i < 20; i++) {
        const r = await post(t, school, { query: `query($m: ID!) { minor(id: $m) { nextVisitDue } }`, variables: { m: children[i] } }, { 'x-purpose': 'CASE_HANDLING' });
        // Refused: the only field asked for is one education may not read; nothing of the child is shown.
        expect((r.json.errors ?? []).map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
        expect(r.json.data?.minor?.nextVisitDue ?? null).toBeNull();
        if (i === 0) {
          const e = await eventOf(t, r.requestId);
          expect(e.reads.map((x: any) => x.fields)).toEqual([{ 'Minor.nextVisitDue': 'DENY' }]);
        }
      }
      const odd = await post(t, school, { query: `query($m: ID!) { minor(id: $m) { name } }`, variables: { m: children[25] } }, { 'x-purpose': 'SCREENING' });
      expect(odd.json.errors).toBeUndefined();
      const flags = (await anomalies(auditor)).filter((a) => a.userId === 'rt48-refused' && a.kind === 'UNUSUAL_PURPOSE');
      // README: "a purpose below this share of a user's reads (with at least 20 reads)": this user read one child once.
      expect(flags.map((f) => f.description)).toEqual([]);
    });

    // Found by red team 48: the same rule made MANY_CHILDREN
    // flag a user who was shown nothing of any child: 50 look-ups whose only field asked for was refused
    // are "50 distinct children read" (README HUB_ANOMALY_DISTINCT_MINORS: "one user reading at least
    // this many distinct children").
    it('MANY_CHILDREN does not count children none of whose fields was shown (50 look-ups of a refused nextVisitDue)', async () => {
      const school = await t.token(Department.EDUCATION, { region: AUDIT_DISTRICT, user: 'rt48-refused-many' });
      for (let i = 0; i < 50; i++) {
        const r = await post(t, school, { query: `query($m: ID!) { minor(id: $m) { nextVisitDue } }`, variables: { m: children[i] } }, { 'x-purpose': 'CASE_HANDLING' });
        expect((r.json.errors ?? []).map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      }
      const flags = (await anomalies(auditor)).filter((a) => a.userId === 'rt48-refused-many' && a.kind === 'MANY_CHILDREN');
      expect(flags.map((f) => f.description)).toEqual([]);
    });

    // Found by red team 48: the same rule counted an answer withheld whole. Under a referral's purpose an
    // answer that read another child is withheld (403, outcome DENIED) and its reads recorded as refused
    // (src/audit/audit.plugin.ts:203-210, refusedReads), yet MANY_CHILDREN took each child of the
    // event's minor_ids for a read: one refused page of 50
    // was "50 distinct children read".
    it('MANY_CHILDREN does not count the children of an answer withheld whole (a DENIED page of 50 under a referral\'s purpose)', async () => {
      const civil = await t.token(Department.CIVIL_AFFAIRS, { region: AUDIT_DISTRICT, user: 'rt48-referrer' });
      const created = await t.gql(
        civil,
        `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`,
        { input: { minorId: children[0], type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' } },
      );
      expect(created.errors).toBeUndefined();
      const school = await t.token(Department.EDUCATION, { region: AUDIT_DISTRICT, user: 'rt48-withheld' });
      const r = await post(t, school, { query: `{ minors(first: 50) { edges { node { id } } } }` }, { 'x-purpose': `REFERRAL; ${created.data.createReferral.id}` });
      expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([403, undefined, ['FORBIDDEN']]);
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('DENIED');
      expect(e.reads.length).toBe(50);
      expect(e.reads.every((x: any) => Object.values(x.fields).every((a) => a === 'DENY'))).toBe(true);
      const flags = (await anomalies(auditor)).filter((a) => a.userId === 'rt48-withheld' && a.kind === 'MANY_CHILDREN');
      expect(flags.map((f) => f.description)).toEqual([]);
    });
  });

  // Pin: in distributed mode the statistics subgraph's fields of one request are one fetch, pinned
  // together, and the refusal reaches the client through the gateway with its code and message.
  describe('distributed mode', () => {
    let d: TestHub;
    beforeAll(async () => {
      d = await startDistributedTestHub();
      await addRegionChain(d, BIG_GRID);
      await addMinors(d, BIG_GRID, 20);
      await refreshStatistics(d.hub.db.ds);
    });
    afterAll(() => d?.stop());

    it('pin: a refresh mid-request refuses the later field STATISTICS_REFRESHED through the gateway, unmasked, and the next request is answered', async () => {
      const officer = await d.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
      const n = poolSize(d);
      const early = Array.from({ length: n - 1 }, (_, i) => `f${i}: statisticsFreshness { refreshedAt }`).join('\n');
      const query = `{
        ${early}
        before: minorCounts(level: STREET) { refreshedAt total { value } }
        after: minorCounts(level: STREET) { refreshedAt total { value } }
      }`;
      const r = await acrossARefresh(d, () => post(d, officer, { query }, { 'x-purpose': 'CASE_HANDLING; rt48' }), n, () => addMinors(d, BIG_GRID, 5));
      expect((r.json.errors ?? []).map((e: any) => ({ path: e.path, code: e.extensions?.code, message: e.message }))).toEqual([
        { path: ['after'], code: 'STATISTICS_REFRESHED', message: REFRESHED_MESSAGE },
      ]);
      expect(r.json.data.before.total.value).toBe(20);
      const e = await eventOf(d, r.requestId);
      expect({ outcome: e.outcome, errorCodes: e.errorCodes }).toEqual({ outcome: 'PARTIAL', errorCodes: ['STATISTICS_REFRESHED'] });
      const again = await post(d, officer, { query }, { 'x-purpose': 'CASE_HANDLING; rt48' });
      expect(again.json.errors).toBeUndefined();
      expect([again.json.data.before.total.value, again.json.data.after.total.value]).toEqual([25, 25]);
    });
  });
});
