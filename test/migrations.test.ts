import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { auditEvent } from '../src/audit/audit-event';
import { ageOn, yearsBefore } from '../src/common/dates';
import { AuditOutcome } from '../src/audit/audit.types';
import { verifyChain } from '../src/audit/audit.verify';
import { AuditWriter } from '../src/audit/audit.writer';
import { openDataSource } from '../src/db/data-source';
import { Department } from '../src/auth/principal';
import { Access } from '../src/policy/policy.types';
import { SUBGRAPHS } from '../src/subgraphs';
import { DEMO_MINOR_COUNT } from '../src/subgraphs/registry/registry.seed';
import { openDatabase } from '../src/server/bootstrap';
import { cloneTemplateDatabase, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * Undoes migrations, the latest first as TypeORM does, down to and including `name`: a test of one
 * migration steps back to it whatever was added after it.
 */
async function undoThrough(db: DataSource, name: string): Promise<void> {
  for (;;) {
    const [last] = await db.query(`SELECT name FROM hub_migrations ORDER BY timestamp DESC, id DESC LIMIT 1`);
    if (!last) throw new Error(`${name} is not applied`);
    await db.undoLastMigration({ transaction: 'each' });
    if (last.name === name) return;
  }
}

/** Applies every migration undone, leaving each applied once. */
async function reapplyAll(db: DataSource): Promise<void> {
  await db.runMigrations({ transaction: 'each' });
  expect(await db.query(`SELECT name FROM hub_migrations ORDER BY timestamp, id`)).toEqual(
    SUBGRAPHS.flatMap((s) => s.migrations)
      .map((m) => ({ name: m.name, timestamp: Number(m.name.slice(-13)) }))
      .sort((a, b) => a.timestamp - b.timestamp)
      .map(({ name }) => ({ name })),
  );
}

/** The names of a table's indexes, in order. */
async function indexesOf(db: DataSource, schema: string, table: string): Promise<string[]> {
  return (await db.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname`, [schema, table])).map((r: { indexname: string }) => r.indexname);
}

/** The plan of `sql` when a sequential scan is the last resort: an index it can use shows in it. */
async function planOf(db: DataSource, sql: string, params: unknown[] = []): Promise<string> {
  return db.transaction(async (em) => {
    await em.query(`SET LOCAL enable_seqscan = off`);
    return (await em.query(`EXPLAIN (COSTS OFF) ${sql}`, params)).map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
  });
}

/** Every migration's down() really undoes its up(): all the way down, then all the way up again. */
describe('migrations', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = await openDataSource(await cloneTemplateDatabase());
  });
  afterAll(() => ds?.destroy());

  const schemas = async () =>
    (await ds.query(`SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname`, [SUBGRAPHS.map((s) => s.name)])).map((r: { nspname: string }) => r.nspname);

  it('undo every migration, leaving no schema behind, and apply them again', async () => {
    const all = SUBGRAPHS.flatMap((s) => s.migrations).length;
    expect(await schemas()).toEqual(SUBGRAPHS.map((s) => s.name).sort());
    for (let i = 0; i < all; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await ds.query(`SELECT count(*)::int AS n FROM hub_migrations`)).toEqual([{ n: 0 }]);
    expect(await schemas()).toEqual([]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    expect(applied).toHaveLength(all);
    expect(await schemas()).toEqual(SUBGRAPHS.map((s) => s.name).sort());
    expect(await ds.query(`SELECT count(*)::int AS n FROM registry.minor`)).toEqual([{ n: 0 }]);
  });

  it('audit.event: minor_ids a text[] of every id the body names, as spelt there, down, the UUIDs in lower case up; bodies inline up to a page; the chain verifies', async () => {
    const url = await cloneTemplateDatabase();
    const audit = await openDataSource(url);
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      const [a, b] = [randomUUID(), randomUUID()];
      const e = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: null, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
      e.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: [a.toUpperCase(), 'not-a-child'] }];
      e.changes = [{ mutation: 'addCategory', id: null, minorId: b, fields: ['minorId'] }];
      await new AuditWriter(pool).append(e);
      const column = async () => [...(await audit.query(`SELECT minor_ids FROM audit.event WHERE request_id = $1`, [e.requestId]))[0].minor_ids].sort();
      expect(await column()).toEqual([a, b].sort());
      const options = async () => (await audit.query(`SELECT reloptions FROM pg_class WHERE oid = 'audit.event'::regclass`))[0].reloptions;
      expect(await options()).toEqual(['toast_tuple_target=8160']);
      await undoThrough(audit, 'AuditEventBodiesInline1795401100000');
      expect(await options()).toBeNull();
      await undoThrough(audit, 'AuditEventMinorIdsUuid1795401000000');
      expect(await audit.query(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'audit.event'::regclass AND attname = 'minor_ids'`)).toEqual([{ t: 'text[]' }]);
      expect(await column()).toEqual([a.toUpperCase(), b, 'not-a-child'].sort());
      await reapplyAll(audit);
      expect(await column()).toEqual([a, b].sort());
      expect(await options()).toEqual(['toast_tuple_target=8160']);
      expect(await verifyChain((text, params) => audit.query(text, params))).toEqual(expect.objectContaining({ ok: true, events: 1 }));
    } finally {
      await pool.end();
      await audit.destroy();
    }
  });

  it('workflow.barred_person: revocation columns, who listed a bar (department, region) and one bar per person and judgement not revoked up; down, a revoked bar is a deleted one and a person has one bar, as before', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const bar = (id: string, hash: string, revoked: boolean, judgement = 'j', until: string | null = null) =>
        db.query(
          `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_at${revoked ? ', revoked_at, revoked_by, revoked_by_department, revoked_by_region, revocation_reason' : ''})
           VALUES ($1, $2, 'x', 'ABUSE', $3, $4, 'u', now()${revoked ? `, now(), 'u', 'JUSTICE', '330102', 'overturned'` : ''})`,
          [id, hash, judgement, until],
        );
      const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64));
      const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await bar(ids[0], a, true);
      await bar(ids[1], a, false);
      await bar(ids[2], b, false, 'j', '2030-01-01');
      await expect(bar(ids[3], a, false)).rejects.toThrow(/barred_person_judgement_key/);
      // Another judgement of the same person is another bar (for life: it outlasts the first).
      await bar(ids[4], b, false, 'k');
      await expect(db.query(`UPDATE workflow.barred_person SET revoked_at = now() WHERE id = $1`, [ids[2]])).rejects.toThrow(/barred_person_revocation_whole/);
      const columns = async () =>
        (await db.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'workflow.barred_person'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).map((r: { attname: string }) => r.attname);
      const before = await columns();

      // Who listed a bar (its department and region) is a later migration's, undone with it.
      await undoThrough(db, 'BarredPersonListedBy1795402900000');
      expect(await columns()).toEqual(before.filter((n: string) => !n.startsWith('created_by_')));
      await undoThrough(db, 'BarredPersonRevocation1795401200000');
      expect(await columns()).toEqual(before.filter((n: string) => !n.startsWith('revo') && !n.startsWith('created_by_')));
      expect((await db.query(`SELECT id FROM workflow.barred_person WHERE id = ANY($1) ORDER BY id`, [ids])).map((r: { id: string }) => r.id)).toEqual([ids[1], ids[4]].sort());
      await expect(db.query(`INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, created_by, created_at) VALUES ($1, $2, 'x', 'ABUSE', 'j', 'u', now())`, [ids[3], b])).rejects.toThrow(
        /barred_person_id_number_hash_key/,
      );

      await reapplyAll(db);
      expect(await columns()).toEqual(before);
      await bar(ids[3], c, true);
      await bar(ids[0], c, false);
    } finally {
      await db.destroy();
    }
  });

  it('statistics: ages and months on the day in China up (statistics.china_day), on the UTC day down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [{ id, grid_code }] = await db.query(`SELECT id, grid_code FROM registry.minor ORDER BY id LIMIT 1`);
      // 01:00 on 1 March 2026 in Beijing: still February in UTC.
      await db.query(`INSERT INTO registry.visit (id, minor_id, visited_at, visitor, notes) VALUES ($1, $2, '2026-02-28T17:00:00Z', 'v', 'n')`, [randomUUID(), id]);
      const visits = async (month: string) => {
        await db.query(`REFRESH MATERIALIZED VIEW statistics.monthly_event`);
        const [{ n }] = await db.query(`SELECT coalesce(sum(events), 0)::int AS n FROM statistics.monthly_event WHERE grid_code = $1 AND series = 'VISITS' AND month = $2::date`, [grid_code, month]);
        return n as number;
      };
      const viewdef = async () => (await db.query(`SELECT pg_get_viewdef('statistics.minor_facts'::regclass) AS d`))[0].d as string;
      const [march, february] = [await visits('2026-03-01'), await visits('2026-02-01')];
      expect(march).toBeGreaterThanOrEqual(1);
      expect(await viewdef()).toContain('china_day(now())');

      await undoThrough(db, 'StatisticsReportCountedWhereFiled1795401400000');
      expect([await visits('2026-03-01'), await visits('2026-02-01')]).toEqual([march, february]);
      await undoThrough(db, 'StatisticsChinaDay1795401300000');
      expect([await visits('2026-03-01'), await visits('2026-02-01')]).toEqual([march - 1, february + 1]);
      expect(await viewdef()).not.toContain('china_day');
      expect(await db.query(`SELECT 1 FROM pg_proc WHERE proname = 'china_day'`)).toEqual([]);

      await reapplyAll(db);
      expect([await visits('2026-03-01'), await visits('2026-02-01')]).toEqual([march, february]);
    } finally {
      await db.destroy();
    }
  });

  it('statistics: a report counts at the region it was filed for up, whoever it names; down, in its child’s grid when the child lives in the region', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [{ id, grid_code }] = await db.query(`SELECT id, grid_code FROM registry.minor ORDER BY id LIMIT 1`);
      const street = grid_code.slice(0, 9);
      await db.query(
        `INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, urgency, status, minor_id, received_at, verify_due_at, handle_due_at, updated_at)
         VALUES ($1, 'r', 'EDUCATION', 'NEGLECT', 'o', now() - interval '2 days', 'l', $2, 'URGENT', 'RECEIVED', $3, now() - interval '2 days', now() - interval '47 hours', now() - interval '1 day', now() - interval '2 days')`,
        [randomUUID(), street, id],
      );
      const placed = async () => {
        await db.query(`REFRESH MATERIALIZED VIEW statistics.monthly_event`);
        await db.query(`REFRESH MATERIALIZED VIEW statistics.workflow_cube`);
        const count = async (table: string, column: string, code: string) =>
          (await db.query(`SELECT coalesce(sum(${column}), 0)::int AS n FROM statistics.${table} WHERE ${code.length === 9 ? 'street_code = $1 AND community_code IS NULL' : 'grid_code = $1'}`, [code]))[0].n as number;
        return [await count('workflow_cube', 'reports_not_met', street), await count('workflow_cube', 'reports_not_met', grid_code)];
      };
      const [atStreet, inGrid] = await placed();
      expect(atStreet).toBe(1);

      await undoThrough(db, 'StatisticsReportCountedWhereFiled1795401400000');
      expect(await db.query(`SELECT 1 FROM pg_class WHERE relname = 'region_ancestry'`)).toEqual([]);
      // The report filed for the street named a child of it: down, it is back in the child's grid.
      expect(await db.query(`SELECT reports_not_met AS n FROM statistics.workflow_cube WHERE grid_code = $1`, [grid_code])).toEqual([{ n: inGrid + 1 }]);

      await reapplyAll(db);
      expect(await placed()).toEqual([atStreet, inGrid]);
    } finally {
      await db.destroy();
    }
  });

  it('registry.minor_jurisdiction: only minors up (registry.is_minor, the day in China as ageOn counts it), every child down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [{ id }] = await db.query(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      await db.query(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [id, yearsBefore(new Date(), 18)]);
      const inView = async () => (await db.query(`SELECT count(*)::int AS n FROM registry.minor_jurisdiction WHERE minor_id = $1`, [id]))[0].n as number;
      expect(await inView()).toBe(0);
      // The SQL rule against ageOn, on days around 29 February and the turn of the day in China.
      const instants = ['2026-02-28T15:59:59.999Z', '2026-02-28T16:00:00Z', '2028-02-28T16:00:00Z', '2028-02-29T16:00:00Z', '2027-02-28T12:00:00Z'];
      const births = ['2008-02-28', '2008-02-29', '2008-03-01', '2009-02-28', '2009-03-01', '2010-02-28', '2010-03-01'];
      for (const at of instants) {
        for (const b of births) {
          const [{ minor }] = await db.query(`SELECT registry.is_minor($1::date, $2::timestamptz) AS minor`, [b, at]);
          expect([at, b, minor]).toEqual([at, b, ageOn(b, new Date(at)) < 18]);
        }
      }

      await undoThrough(db, 'RegistryMinorsAgeOut1795401500000');
      expect(await inView()).toBe(1);
      expect(await db.query(`SELECT 1 FROM pg_proc WHERE proname = 'is_minor'`)).toEqual([]);

      await reapplyAll(db);
      expect(await inView()).toBe(0);
    } finally {
      await db.destroy();
    }
  });

  it('statistics: a referral counts at the region it was made at up, whichever child it names; down, in its child’s grid', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [{ id, grid_code }] = await db.query(`SELECT id, grid_code FROM registry.minor ORDER BY id LIMIT 1`);
      const street = grid_code.slice(0, 9);
      // Made at the street five days ago and never answered: NOT_MET. (The demo's referrals are made at streets too.)
      const referral = randomUUID();
      const make = () =>
        db.query(
          `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at)
           VALUES ($1, $2, 'EDUCATION_AID', 'n', 'CIVIL_AFFAIRS', 'u', 'EDUCATION', $3, 'PENDING', now() - interval '5 days', now() - interval '2 days')`,
          [referral, id, street],
        );
      const unmake = () => db.query(`DELETE FROM workflow.referral WHERE id = $1`, [referral]);
      /** Referrals NOT_MET and REFERRALS events at the street itself and in the child's grid. */
      const placed = async () => {
        await db.query(`REFRESH MATERIALIZED VIEW statistics.monthly_event`);
        await db.query(`REFRESH MATERIALIZED VIEW statistics.workflow_cube`);
        const count = async (table: string, column: string, code: string) =>
          (await db.query(`SELECT coalesce(sum(${column}), 0)::int AS n FROM statistics.${table} WHERE ${code.length === 9 ? 'street_code = $1 AND community_code IS NULL' : 'grid_code = $1'}`, [code]))[0].n as number;
        const referrals = `CASE WHEN series = 'REFERRALS' THEN events END`;
        return [await count('workflow_cube', 'referrals_not_met', street), await count('workflow_cube', 'referrals_not_met', grid_code), await count('monthly_event', referrals, street), await count('monthly_event', referrals, grid_code)];
      };
      const added = async () => {
        const without = await placed();
        await make();
        return (await placed()).map((n, i) => n - without[i]);
      };
      expect(await added()).toEqual([1, 0, 1, 0]);
      const up = await placed();

      await unmake();
      await undoThrough(db, 'StatisticsReferralCountedWhereMade1795401700000');
      // Down, in its child's grid, and nothing counts at the street itself.
      expect(await added()).toEqual([0, 1, 0, 1]);
      expect(await placed()).toEqual([0, expect.any(Number), 0, expect.any(Number)]);

      await reapplyAll(db);
      expect(await placed()).toEqual(up);
    } finally {
      await db.destroy();
    }
  });

  it('workflow.notification: a stored payload’s masked ID number keeps the region code alone up; down, the last 4 again from the child’s number', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [{ id, id_number }] = await db.query(`SELECT id, id_number FROM registry.minor ORDER BY id LIMIT 1`);
      const [masked, old] = [id_number.slice(0, 6) + '*'.repeat(12), id_number.slice(0, 6) + '*'.repeat(8) + id_number.slice(-4)];
      const told = async (department: string, idNumber: string) => {
        const n = randomUUID();
        await db.query(
          `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
           VALUES ($1, 'CHILD_RED', $2, '330102', $3, NULL, $4, now(), $5)`,
          [n, department, id, JSON.stringify({ 'Minor.name': '刘子轩', 'Minor.idNumber': idNumber }), `CHILD_RED:${n}:${department}`],
        );
        return n;
      };
      const [school, police] = [await told('EDUCATION', old), await told('POLICE', id_number)];
      const shown = async () =>
        Object.fromEntries((await db.query(`SELECT id, payload FROM workflow.notification WHERE id = ANY($1)`, [[school, police]])).map((r: { id: string; payload: Record<string, string> }) => [r.id, r.payload]));

      await undoThrough(db, 'WorkflowNotificationIdNumberMask1795401600000');
      await reapplyAll(db);
      expect(await shown()).toEqual({ [school]: { 'Minor.name': '刘子轩', 'Minor.idNumber': masked }, [police]: { 'Minor.name': '刘子轩', 'Minor.idNumber': id_number } });
      await undoThrough(db, 'WorkflowNotificationIdNumberMask1795401600000');
      expect(await shown()).toEqual({ [school]: { 'Minor.name': '刘子轩', 'Minor.idNumber': old }, [police]: { 'Minor.name': '刘子轩', 'Minor.idNumber': id_number } });
    } finally {
      await db.destroy();
    }
  });

  it('workflow.notification: a stored payload’s address masked by an older ADDRESS mask shows no more than the mask shows now, up; down leaves it', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [child] = await db.query(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const address = '浙江省杭州市上城区清波街道劳动路社区3幢201室';
      await db.query(`UPDATE registry.minor SET current_address = $2 WHERE id = $1`, [child.id, address]);
      const told = async (department: string, minorId: string | null, value: string) => {
        const n = randomUUID();
        await db.query(
          `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
           VALUES ($1, 'CHILD_RED', $2, '330102', $3, NULL, $4, now(), $5)`,
          [n, department, minorId, JSON.stringify({ 'Minor.name': '刘子轩', 'Minor.currentAddress': value }), `CHILD_RED:${n}:${department}`],
        );
        return n;
      };
      const rows = {
        // The first mask: up to the first 区, the community shown when the street came first.
        community: await told('EDUCATION', child.id, '清波街道劳动路社区****'),
        // Up to the first 区 of the child's address: the district, as the mask keeps it now, stars normalised.
        district: await told('EDUCATION', child.id, '浙江省杭州市上城区*****'),
        current: await told('EDUCATION', child.id, '浙江省杭州市上城区********'),
        // A prefix the address no longer starts with (the child moved since): starred whole.
        moved: await told('EDUCATION', child.id, '浙江省杭州市西湖区****'),
        estate: await told('EDUCATION', null, '杭州市紫金港东区***'),
        exact: await told('CIVIL_AFFAIRS', child.id, address),
      };
      const shown = async () =>
        Object.fromEntries(
          await Promise.all(Object.entries(rows).map(async ([k, id]) => [k, (await db.query(`SELECT payload FROM workflow.notification WHERE id = $1`, [id]))[0].payload['Minor.currentAddress']])),
        );
      await undoThrough(db, 'WorkflowNotificationAddressMask1795401900000');
      await reapplyAll(db);
      const up = {
        community: '********',
        district: '浙江省杭州市上城区********',
        current: '浙江省杭州市上城区********',
        moved: '********',
        estate: '********',
        exact: address,
      };
      expect(await shown()).toEqual(up);
      await undoThrough(db, 'WorkflowNotificationAddressMask1795401900000');
      expect(await shown()).toEqual(up);
      await reapplyAll(db);
      expect(await shown()).toEqual(up);
    } finally {
      await db.destroy();
    }
  });

  it('workflow.mandatory_report: a reassessment_due mark, false unless set, and its partial index up; neither down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const column = async () =>
        db.query(`SELECT format_type(atttypid, atttypmod) AS t, attnotnull AS "notNull", pg_get_expr(d.adbin, d.adrelid) AS "default"
                    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                   WHERE a.attrelid = 'workflow.mandatory_report'::regclass AND a.attname = 'reassessment_due' AND NOT a.attisdropped`);
      const index = async () => db.query(`SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indexrelid = to_regclass('workflow.mandatory_report_reassessment_due_idx')`);
      expect(await column()).toEqual([{ t: 'boolean', notNull: true, default: 'false' }]);
      expect((await index())[0].d).toMatch(/WHERE reassessment_due$/);
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM workflow.mandatory_report WHERE reassessment_due`);
      expect(n).toBe(0);

      await undoThrough(db, 'WorkflowReportReassessmentDue1795401800000');
      expect(await column()).toEqual([]);
      expect(await index()).toEqual([]);
      await reapplyAll(db);
      expect(await column()).toEqual([{ t: 'boolean', notNull: true, default: 'false' }]);
      expect(await index()).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });

  it('workflow.mandatory_report: when each deadline’s lapse was escalated, unset, and the partial indexes the job reads up; none of them down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const columns = async () =>
        (await db.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'workflow.mandatory_report'::regclass AND attname LIKE '%_escalated_at' AND NOT attisdropped ORDER BY attname`)).map(
          (r: { attname: string }) => r.attname,
        );
      const indexes = async () =>
        (await db.query(`SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = 'workflow.mandatory_report'::regclass AND indexrelid::regclass::text LIKE '%lapse_idx' ORDER BY 1`)).map(
          (r: { i: string }) => r.i,
        );
      const up = { columns: ['handle_escalated_at', 'verify_escalated_at'], indexes: ['workflow.mandatory_report_handle_lapse_idx', 'workflow.mandatory_report_verify_lapse_idx'] };
      expect({ columns: await columns(), indexes: await indexes() }).toEqual(up);
      await undoThrough(db, 'WorkflowReportEscalation1795402700000');
      expect({ columns: await columns(), indexes: await indexes() }).toEqual({ columns: [], indexes: [] });
      await reapplyAll(db);
      expect({ columns: await columns(), indexes: await indexes() }).toEqual(up);
    } finally {
      await db.destroy();
    }
  });

  it('statistics.refresh: a generation one more at every write of the stamp up, whatever writes it; neither the column nor its trigger down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const columns = async () =>
        (await db.query(`SELECT attname FROM pg_attribute WHERE attrelid = 'statistics.refresh'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).map((r: { attname: string }) => r.attname);
      const generation = async () => Number((await db.query(`SELECT generation FROM statistics.refresh`))[0].generation);
      const g = await generation();
      // A stamp written back in time, as the release before writes it, is a generation too.
      await db.query(`UPDATE statistics.refresh SET refreshed_at = refreshed_at - interval '1 hour'`);
      expect(await generation()).toBe(g + 1);
      await db.query(`UPDATE statistics.refresh SET refreshed_at = now(), generation = 0`);
      expect(await generation()).toBe(g + 2);

      await undoThrough(db, 'StatisticsRefreshGeneration1795403000000');
      expect(await columns()).toEqual(['singleton', 'refreshed_at']);
      expect(await db.query(`SELECT proname FROM pg_proc WHERE proname = 'next_generation'`)).toEqual([]);
      await db.query(`UPDATE statistics.refresh SET refreshed_at = now()`);
      await reapplyAll(db);
      expect(await columns()).toEqual(['singleton', 'refreshed_at', 'generation']);
      await db.query(`UPDATE statistics.refresh SET refreshed_at = now()`);
      expect(await generation()).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('workflow.barred_person: the latest listing and the latest revocation each one index probe up, by a plan a check uses; neither index down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const indexes = () => indexesOf(db, 'workflow', 'barred_person');
      const up = await indexes();
      expect(up).toEqual(expect.arrayContaining(['barred_person_created_idx', 'barred_person_revoked_idx']));
      const plan = await planOf(db, `SELECT (SELECT max(created_at) FROM workflow.barred_person), (SELECT max(revoked_at) FROM workflow.barred_person)`);
      expect(plan).toMatch(/barred_person_created_idx[\s\S]*barred_person_revoked_idx/);
      await undoThrough(db, 'BarredPersonTimes1795403100000');
      expect(await indexes()).toEqual(up.filter((i: string) => i !== 'barred_person_created_idx' && i !== 'barred_person_revoked_idx'));
      await reapplyAll(db);
      expect(await indexes()).toEqual(up);
    } finally {
      await db.destroy();
    }
  });

  it('workflow.notification: an index of a child\'s CHILD_REDs up, by a plan a RED assessment uses; none down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const indexes = () => indexesOf(db, 'workflow', 'notification');
      const up = await indexes();
      expect(up).toContain('notification_child_red_idx');
      const plan = await planOf(db, `SELECT 1 FROM workflow.notification f WHERE f.minor_id = $1 AND f.kind = 'CHILD_RED' AND f.created_at <= now()`, [randomUUID()]);
      expect(plan).toContain('notification_child_red_idx');
      await undoThrough(db, 'WorkflowNotificationChildRed1795403200000');
      expect(await indexes()).toEqual(up.filter((i: string) => i !== 'notification_child_red_idx'));
      await reapplyAll(db);
      expect(await indexes()).toEqual(up);
    } finally {
      await db.destroy();
    }
  });

  it('workflow.employment_check: the latest check one index probe up, by a plan a listing uses; no index down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const indexes = () => indexesOf(db, 'workflow', 'employment_check');
      const up = await indexes();
      expect(up).toContain('employment_check_checked_idx');
      expect(await planOf(db, `SELECT max(checked_at) FROM workflow.employment_check`)).toContain('employment_check_checked_idx');
      await undoThrough(db, 'EmploymentCheckTimes1795403400000');
      expect(await indexes()).toEqual(up.filter((i) => i !== 'employment_check_checked_idx'));
      await reapplyAll(db);
      expect(await indexes()).toEqual(up);
    } finally {
      await db.destroy();
    }
  });

  it('registry.risk_assessment: when an assessment was recorded, unknown for those before, up; not down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const column = async () =>
        db.query(`SELECT format_type(atttypid, atttypmod) AS t, attnotnull AS "notNull" FROM pg_attribute WHERE attrelid = 'registry.risk_assessment'::regclass AND attname = 'recorded_at' AND NOT attisdropped`);
      expect(await column()).toEqual([{ t: 'timestamp with time zone', notNull: false }]);
      expect(await db.query(`SELECT count(*)::int AS n FROM registry.risk_assessment WHERE recorded_at IS NOT NULL`)).toEqual([{ n: 0 }]);
      await undoThrough(db, 'RiskAssessmentRecordedAt1795403300000');
      expect(await column()).toEqual([]);
      await reapplyAll(db);
      expect(await column()).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });

  it('audit.event: an index of request ids up, which a search by request id uses, one built beforehand kept and an invalid one built again; none down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const index = async () => db.query(`SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indexrelid = to_regclass('audit.event_request_idx')`);
      expect(await index()).toEqual([{ d: 'CREATE INDEX event_request_idx ON audit.event USING btree (request_id)' }]);
      expect(await planOf(db, `SELECT seq FROM audit.event WHERE request_id = $1`, [randomUUID()])).toContain('event_request_idx');
      await undoThrough(db, 'AuditEventRequestIndex1795402500000');
      expect(await index()).toEqual([]);
      await reapplyAll(db);
      expect(await index()).toHaveLength(1);
      // Built beforehand by an operator (CREATE INDEX CONCURRENTLY, README: Upgrading): kept.
      await undoThrough(db, 'AuditEventRequestIndex1795402500000');
      await db.query(`CREATE INDEX CONCURRENTLY event_request_idx ON audit.event (request_id)`);
      const [{ oid }] = await db.query(`SELECT to_regclass('audit.event_request_idx')::oid AS oid`);
      await reapplyAll(db);
      expect(await db.query(`SELECT to_regclass('audit.event_request_idx')::oid AS oid`)).toEqual([{ oid }]);
      // Such a build that failed left an invalid index: built again, valid.
      await undoThrough(db, 'AuditEventRequestIndex1795402500000');
      await db.query(`CREATE INDEX CONCURRENTLY event_request_idx ON audit.event (request_id)`);
      await db.query(`UPDATE pg_catalog.pg_index SET indisvalid = false WHERE indexrelid = to_regclass('audit.event_request_idx')`);
      await reapplyAll(db);
      expect(await db.query(`SELECT indisvalid AS valid FROM pg_catalog.pg_index WHERE indexrelid = to_regclass('audit.event_request_idx')`)).toEqual([{ valid: true }]);
    } finally {
      await db.destroy();
    }
  });

  it('audit.event: every INSERT takes the append lock shared up, so that one held alone (a writer retrying a collision) holds it back; not down', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    const alone = await db.createQueryRunner();
    try {
      const appended = async () => {
        const runner = db.createQueryRunner();
        try {
          // Refused, not waited for, while the lock is held alone: lock_timeout ends the wait.
          await runner.query(`SET lock_timeout = 200`);
          await runner.query(`INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, outcome, minor_ids)
            SELECT coalesce(max(seq), 0) + 1, repeat('0', 64), repeat('0', 64), '{}', gen_random_uuid(), now(), 'OK', '{}' FROM audit.event`);
          return 'appended';
        } catch (e) {
          return (e as { driverError?: { code?: string } }).driverError?.code;
        } finally {
          await runner.release();
        }
      };
      await alone.startTransaction();
      await alone.query(`SELECT pg_advisory_xact_lock(hashtext('audit.event'), hashtext('append'))`);
      expect(await appended()).toBe('55P03');
      await undoThrough(db, 'AuditEventAppendLock1795403500000');
      expect(await appended()).toBe('appended');
      await alone.rollbackTransaction();
      await reapplyAll(db);
      await alone.startTransaction();
      await alone.query(`SELECT pg_advisory_xact_lock(hashtext('audit.event'), hashtext('append'))`);
      expect(await appended()).toBe('55P03');
      await alone.rollbackTransaction();
    } finally {
      await alone.release();
      await db.destroy();
    }
  });

  it('workflow.notification: a VISIT_OVERDUE dedupe key names the grid it was told to up; down, not, a second grid told of one due date keeping a key of its own', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [child] = await db.query(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const due = '2026-05-01T00:00:00.000Z';
      const told = async (grid: string, key: string, at: string) => {
        const n = randomUUID();
        await db.query(
          `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
           VALUES ($1, 'VISIT_OVERDUE', 'CIVIL_AFFAIRS', $2, $3, NULL, '{}', $4, $5)`,
          [n, grid, child.id, at, key],
        );
        return n;
      };
      const keys = async (ids: string[]) => (await db.query(`SELECT id, dedupe_key FROM workflow.notification WHERE id = ANY($1)`, [ids])).reduce((o: Record<string, string>, r: any) => ({ ...o, [r.id]: r.dedupe_key }), {});
      await undoThrough(db, 'WorkflowVisitOverdueKeyByGrid1795402100000');
      const old = await told('330102001001001', `VISIT_OVERDUE:${child.id}:${due}:CIVIL_AFFAIRS`, '2026-05-02T00:00:00Z');
      await reapplyAll(db);
      expect(await keys([old])).toEqual({ [old]: `VISIT_OVERDUE:${child.id}:${due}:330102001001001:CIVIL_AFFAIRS` });
      // Told again where the child moved to, for the same due date.
      const moved = await told('330102002001001', `VISIT_OVERDUE:${child.id}:${due}:330102002001001:CIVIL_AFFAIRS`, '2026-05-03T00:00:00Z');
      await undoThrough(db, 'WorkflowVisitOverdueKeyByGrid1795402100000');
      expect(await keys([old, moved])).toEqual({ [old]: `VISIT_OVERDUE:${child.id}:${due}:CIVIL_AFFAIRS`, [moved]: `VISIT_OVERDUE:moved:${moved}` });
      await reapplyAll(db);
      expect(await keys([old])).toEqual({ [old]: `VISIT_OVERDUE:${child.id}:${due}:330102001001001:CIVIL_AFFAIRS` });
    } finally {
      await db.destroy();
    }
  });

  it('workflow.notification: what the release before wrote after the migrations of its forms is put in the current forms up, and so is what it writes later; down, neither', async () => {
    const db = await openDataSource(await cloneTemplateDatabase());
    try {
      const [child] = await db.query(`SELECT id, id_number FROM registry.minor ORDER BY id LIMIT 1`);
      const [masked, old] = [child.id_number.slice(0, 6) + '*'.repeat(12), child.id_number.slice(0, 6) + '*'.repeat(8) + child.id_number.slice(-4)];
      const told = async (kind: string, department: string, grid: string, payload: Record<string, string>, key: string) => {
        const n = randomUUID();
        const inserted = await db.query(
          `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
           VALUES ($1, $2, $3, $4, $5, NULL, $6, now(), $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
          [n, kind, department, grid, child.id, JSON.stringify(payload), key],
        );
        return inserted.length ? n : null;
      };
      const rows = async (ids: (string | null)[]) =>
        (await db.query(`SELECT id, dedupe_key, payload->>'Minor.idNumber' AS shown FROM workflow.notification WHERE id = ANY($1)`, [ids])).reduce(
          (o: Record<string, unknown>, r: any) => ({ ...o, [r.id]: r.shown ?? r.dedupe_key }),
          {},
        );
      const key = (due: string, grid?: string) => `VISIT_OVERDUE:${child.id}:${due}:${grid ? `${grid}:` : ''}CIVIL_AFFAIRS`;
      await undoThrough(db, 'WorkflowNotificationReleaseBefore1795402600000');
      // Written by the release before once the earlier migrations had run: one lapse this release had told too.
      const school = await told('CHILD_RED', 'EDUCATION', '330102001001001', { 'Minor.idNumber': old }, `CHILD_RED:${randomUUID()}:EDUCATION`);
      const alone = await told('VISIT_OVERDUE', 'CIVIL_AFFAIRS', '330102001001001', {}, key('2026-05-01T00:00:00.000Z'));
      const twice = await told('VISIT_OVERDUE', 'CIVIL_AFFAIRS', '330102001001001', {}, key('2026-06-01T00:00:00.000Z'));
      const ours = await told('VISIT_OVERDUE', 'CIVIL_AFFAIRS', '330102001001001', {}, key('2026-06-01T00:00:00.000Z', '330102001001001'));
      const failure = `GUARDIANSHIP_FAILURE:${child.id}:LACK_OF_GUARDIANSHIP:2026-04-01`;
      const guardians = await told('GUARDIANSHIP_FAILURE', 'POLICE', '330102001001001', {}, `${failure}:POLICE`);
      await reapplyAll(db);
      expect(await rows([school, alone, twice, ours, guardians])).toEqual({
        [school!]: masked,
        [alone!]: key('2026-05-01T00:00:00.000Z', '330102001001001'),
        [twice!]: key('2026-06-01T00:00:00.000Z'),
        [ours!]: key('2026-06-01T00:00:00.000Z', '330102001001001'),
        [guardians!]: `${failure}:330102001001001:POLICE`,
      });
      expect(await told('GUARDIANSHIP_FAILURE', 'POLICE', '330102001001001', {}, `${failure}:POLICE`)).toBeNull();
      // Written by it later: in the current forms, a lapse already told not again.
      expect(await told('VISIT_OVERDUE', 'CIVIL_AFFAIRS', '330102001001001', {}, key('2026-05-01T00:00:00.000Z'))).toBeNull();
      const later = await told('CHILD_RED', 'EDUCATION', '330102001001001', { 'Minor.idNumber': old }, `CHILD_RED:${randomUUID()}:EDUCATION`);
      const july = await told('VISIT_OVERDUE', 'CIVIL_AFFAIRS', '330102001001001', {}, key('2026-07-01T00:00:00.000Z'));
      expect(await rows([later, july])).toEqual({ [later!]: masked, [july!]: key('2026-07-01T00:00:00.000Z', '330102001001001') });
      await undoThrough(db, 'WorkflowNotificationReleaseBefore1795402600000');
      const unchanged = await told('CHILD_RED', 'EDUCATION', '330102001001001', { 'Minor.idNumber': old }, `CHILD_RED:${randomUUID()}:EDUCATION`);
      expect(await rows([unchanged, later])).toEqual({ [unchanged!]: old, [later!]: masked });
      await reapplyAll(db);
    } finally {
      await db.destroy();
    }
  });
});

const on = (database: string) => {
  const u = new URL(process.env.HUB_TEST_PG_URL!);
  u.pathname = `/${database}`;
  return u.toString();
};

/** A new, empty database; its name. */
async function emptyDatabase(): Promise<string> {
  const name = `fresh_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: on('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return name;
}

/** Rows of every table of every slice, by table. */
async function rowCounts(url: string): Promise<Record<string, number>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (await c.query(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' ORDER BY 1`, [SUBGRAPHS.map((s) => s.name)])).rows.map((r) => r.t as string);
    const counts: Record<string, number> = {};
    for (const t of tables) counts[t] = (await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
    return counts;
  } finally {
    await c.end();
  }
}

/** Replicas starting at once on a new database (a first deploy, a rolling one with a migration). */
describe('two processes opening one database at once', () => {
  it('migrate it one after the other, each migration once, and seed the demo data once', async () => {
    const name = await emptyDatabase();
    const config = testConfig({ databaseUrl: on(name), env: { HUB_SEED_DEMO: 'true' } });

    const opened = await Promise.allSettled([openDatabase(config), openDatabase(config)]);
    for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
    expect(opened.map((o) => (o.status === 'rejected' ? String(o.reason) : o.status))).toEqual(['fulfilled', 'fulfilled']);

    const c = new Client({ connectionString: on(name) });
    await c.connect();
    const applied = (await c.query(`SELECT name, count(*)::int AS n FROM hub_migrations GROUP BY name`)).rows;
    await c.end();
    expect(applied).toHaveLength(SUBGRAPHS.flatMap((s) => s.migrations).length);
    expect(applied.filter((m) => m.n !== 1)).toEqual([]);
    const seeded = await rowCounts(on(name));
    expect(seeded['registry.minor']).toBeGreaterThan(0);
    // As much as the template, seeded once by the test run's set-up.
    expect(seeded).toEqual(await rowCounts(await cloneTemplateDatabase()));
  });
});

/** A demo hub killed or failing while it seeds, then started again on the same database. */
describe('a start that fails while seeding the demo data', () => {
  let t: TestHub | undefined;
  afterAll(() => t?.stop());

  it('leaves every table as migrated, and the next start seeds the whole demo', async () => {
    const url = on(await emptyDatabase());
    const migrated = await openDataSource(url);
    // Every child refused: the seed fails after the registry's regions are written, before any child.
    await migrated.query(`ALTER TABLE registry.minor ADD CONSTRAINT seed_interrupted CHECK (false) NOT VALID`);
    await migrated.destroy();
    const empty = await rowCounts(url);
    expect(empty['registry.region']).toBe(0);

    await expect(openDatabase(testConfig({ databaseUrl: url, env: { HUB_SEED_DEMO: 'true' } }))).rejects.toThrow(/seed_interrupted/);
    expect(await rowCounts(url)).toEqual(empty);

    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query(`ALTER TABLE registry.minor DROP CONSTRAINT seed_interrupted`);
    await c.end();
    t = await startTestHub({ databaseUrl: url, env: { HUB_SEED_DEMO: 'true' } });
    // Every slice's demo records, as many as the template's (seeded once by the test run's set-up).
    expect(await rowCounts(url)).toEqual(await rowCounts(await cloneTemplateDatabase()));
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `{ minors(first: 1) { totalCount } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.minors.totalCount).toBe(DEMO_MINOR_COUNT);
  });
});
