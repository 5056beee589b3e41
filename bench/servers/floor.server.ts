/**
 * The floor: the same rows as the hub's scenarios fetched with plain `pg` prepared statements
 * behind a bare HTTP handler. No GraphQL, no permissions, no audit — the physical limit for an
 * HTTP API over this database on this machine.
 *
 * With FLOOR_RECORDING=1 it is that limit for an API that records every read before answering, as
 * the hub's audit must (fail closed): `/minor` answers once an event of the shape and size of the
 * hub's is durable in the hub's audit trail, appended by the hub's own writer (group commit, hash
 * chain) — without the hub's GraphQL, policy, access log or event building.
 */
import { hash } from 'node:crypto';
import http from 'node:http';
import { Pool } from 'pg';
import { AuditOutcome, PurposeCode, type AuditEventBody } from '../../src/audit/audit.types';
import { AuditWriter } from '../../src/audit/audit.writer';
import { newRequestId } from '../../src/audit/request-id';
import { IDLE_CONNECTION_MS } from '../../src/db/time-limits';
import { Access } from '../../src/policy/policy.types';

// After five executions Postgres may switch a prepared statement to its generic plan, which for
// `grid_code LIKE $1` cannot use the prefix index and walks the primary key instead (seconds at
// city scale). The hub's queries are planned with their values; the floor's must be too. Its
// sessions are kept through the rounds' pauses, as the hub's are (IDLE_CONNECTION_MS).
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10, idleTimeoutMillis: IDLE_CONNECTION_MS, options: '-c plan_cache_mode=force_custom_plan' });

const MINOR = 'SELECT id, name, id_number, gender, birth_date, risk_level, next_visit_due FROM registry.minor WHERE id = $1';
const PAGE = `SELECT id, name FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT $2`;
const GUARDIANS = 'SELECT minor_id, name, phone, relationship FROM registry.guardian WHERE minor_id = ANY($1)';
const CATEGORIES = 'SELECT minor_id, category FROM registry.minor_category WHERE minor_id = ANY($1)';
const LATEST = `SELECT DISTINCT ON (minor_id) minor_id, level, assessed_at FROM registry.risk_assessment WHERE minor_id = ANY($1) ORDER BY minor_id, assessed_at DESC`;

const AGGREGATE = `SELECT substr(m.grid_code, 1, 9) AS street, coalesce(m.risk_level, 'UNASSESSED') AS risk_level, c.category, count(*)::int AS minors
  FROM registry.minor m JOIN registry.minor_category c ON c.minor_id = m.id WHERE m.grid_code LIKE $1 GROUP BY 1, 2, 3`;

const RECORDING = process.env.FLOOR_RECORDING === '1';
const trail = new AuditWriter(pool);
const MINOR_HASH = hash('sha256', MINOR, 'hex');
const READ_FIELDS = Object.fromEntries(['birth_date', 'gender', 'id', 'id_number', 'name', 'next_visit_due', 'risk_level'].map((f) => [f, Access.ALLOW]));

/** An event of the hub's shape and size (about 860 bytes) for scenario 1, keys in canonical order. */
function readEvent(minorId: string): AuditEventBody {
  return {
    changes: [],
    clientAddress: '::ffff:127.0.0.1',
    department: 'POLICE',
    document: MINOR,
    documentHash: MINOR_HASH,
    durationMs: 1,
    errorCodes: [],
    operationName: 'Child',
    operationType: 'query',
    outcome: AuditOutcome.SUCCESS,
    purpose: { code: PurposeCode.CASE_HANDLING },
    reads: [{ fields: READ_FIELDS, minorIds: [minorId] }],
    region: '330102',
    // The hub's request ids (time-ordered): the trail's index of them costs what it costs the hub.
    requestId: newRequestId(),
    role: 'OFFICER',
    time: new Date().toISOString(),
    userId: 'bench-floor',
    variables: { id: hash('sha256', minorId, 'hex') },
  };
}

async function page(grid: string, first: number) {
  const minors = (await pool.query({ name: 'page', text: PAGE, values: [grid, first] })).rows;
  const ids = minors.map((m) => m.id);
  const [g, c, a] = await Promise.all([
    pool.query({ name: 'guardians', text: GUARDIANS, values: [ids] }),
    pool.query({ name: 'categories', text: CATEGORIES, values: [ids] }),
    pool.query({ name: 'latest', text: LATEST, values: [ids] }),
  ]);
  const by = (rows: { minor_id: string }[]) => {
    const m = new Map<string, unknown[]>();
    for (const r of rows) (m.get(r.minor_id) ?? m.set(r.minor_id, []).get(r.minor_id)!).push(r);
    return m;
  };
  const gs = by(g.rows);
  const cs = by(c.rows);
  const as = new Map(a.rows.map((r) => [r.minor_id, r]));
  return minors.map((m) => ({ ...m, guardians: gs.get(m.id) ?? [], categories: cs.get(m.id) ?? [], latestAssessment: as.get(m.id) ?? null }));
}

const ROUTES: Record<string, (input: { id: string; grid: string; first?: number; region: string }) => Promise<unknown>> = {
  '/minor': async (input) => {
    const row = (await pool.query({ name: 'minor', text: MINOR, values: [input.id] })).rows[0] ?? null;
    if (RECORDING) await trail.append(readEvent(input.id));
    return row;
  },
  '/page': (input) => page(input.grid, input.first ?? 100),
  '/aggregate': async (input) => (await pool.query({ name: 'aggregate', text: AGGREGATE, values: [`${input.region}%`] })).rows,
};

http
  .createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      try {
        const route = ROUTES[req.url ?? ''];
        if (!route) {
          res.writeHead(404).end();
          return;
        }
        const data = await route(body ? JSON.parse(body) : {});
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  })
  .listen(Number(process.env.PORT), () => console.log(`floor on ${process.env.PORT}`));
