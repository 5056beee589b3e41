import { POLICY_SUBJECTS, PolicySubject } from '../src/auth/principal';
import { Access } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { eventsOf } from './support/audit-helpers';
import { callIds, FieldDef, FullType, Fuzzer, INTROSPECTION, selectionOf, RECORD_SCHEMAS, SUBJECT_TOKENS, SWEEP_ENV, typeText } from './support/schema-calls';
import { startDistributedTestHub, startTestHub, statementsDuring, TestHub } from './support/test-hub';

jest.setTimeout(900_000);

/**
 * Every mutation of the schema, with a valid input as a role that may call it, made to fail part
 * way: at its COMMIT, after every statement ran (a deferred trigger on every table), and at each
 * table it writes in turn (a trigger raising as the row is written). Each time the client gets a
 * typed, masked error and no data, nothing of the write is left in any table, and the request's
 * final event is an ERROR that records no change. Then the same call, nothing failing, is served,
 * and its event records the change it made: the record answered, the caller, the purpose. Last,
 * each valid call is sent twice at once: the loser of a race is answered in the API's terms, and
 * what both left is what the calls served would leave one after the other; and once more with the
 * trail refusing its STARTED event, then its final one (README, Audit trail). In process, and with
 * every subgraph served alone.
 */
const MARK = 'writes-sweep injected failure';
const LEAK = /constraint|violat|relation |column |syntax error|QueryFailed|trigger|injected|sweep|\.ts:\d|\bat [A-Za-z.]+ \(/i;
/** What an injected failure may be answered as: an unexpected failure, masked, or a database that did not do it. */
const FAILED = ['INTERNAL_SERVER_ERROR', 'DATABASE_UNAVAILABLE'];
const PURPOSE = 'CASE_HANDLING; writes sweep';

interface Answer {
  status: number;
  requestId: string;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/**
 * The tables each mutation wrote, by the statements the in-process hub sent (a remote subgraph's
 * are not the gateway's to see): the distributed run, after it, fails each of them in turn too.
 */
const tablesWritten = new Map<string, string[]>();

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('every write failing part way, served, and sent twice at once, %s (redteam12)', (_mode, distributed) => {
  let t: TestHub;
  const tokens = new Map<PolicySubject, string>();
  const policy = buildPolicy();
  const logged: string[] = [];
  let log: jest.SpyInstance;

  beforeAll(async () => {
    log = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    t = distributed ? await startDistributedTestHub(SWEEP_ENV) : await startTestHub({ env: SWEEP_ENV });
    for (const [subject, department, role] of SUBJECT_TOKENS) tokens.set(subject, await t.token(department, { role, user: `sweep-${subject.toLowerCase()}` }));
    const intro = await send(POLICY_SUBJECTS[0], INTROSPECTION, {});
    expect(intro.body.errors).toBeUndefined();
    schema = intro.body.data!.__schema as typeof schema;
    enums = new Map(schema.types.map((ty) => [ty.name, (ty.enumValues ?? []).map((v) => v.name)]));
    tables = await t.sql(
      `SELECT table_schema AS s, table_name AS n FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = ANY($1) ORDER BY 1, 2`,
      [RECORD_SCHEMAS],
    );
  });
  afterAll(async () => {
    log.mockRestore();
    await t?.stop();
  });

  const send = async (subject: PolicySubject, query: string, variables: Record<string, unknown>): Promise<Answer> => {
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(subject)}`, 'x-purpose': PURPOSE },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, requestId: res.headers.get('x-request-id')!, body: (await res.json()) as Answer['body'] };
  };

  let schema: { mutationType: { name: string }; types: FullType[] };
  let enums: Map<string, string[]>;
  let tables: { s: string; n: string }[];
  const made = async (subject: PolicySubject, query: string, variables: Record<string, unknown>) => {
    const a = await send(subject, query, variables);
    expect(a.body.errors).toBeUndefined();
    return Object.values(a.body.data!)[0] as { id: string };
  };
  const fuzzerOf = (ids: Record<string, string>) => {
    const fuzzer = new Fuzzer(ids, new Date());
    for (const ty of schema.types) fuzzer.types.set(ty.name, ty);
    return fuzzer;
  };
  const mutationFields = (fuzzer: Fuzzer) => fuzzer.types.get(schema.mutationType.name)!.fields!.filter((f) => !f.name.startsWith('_'));
  /** The valid call of a mutation, every argument given (`marker` in its texts; `seq` picks its ID numbers, one child or person per round). */
  const validCall = (fuzzer: Fuzzer, field: FieldDef, marker: string, seq: number) => {
    const args: Record<string, unknown> = {};
    for (const arg of field.args) {
      const v = fuzzer.valid(arg.type, arg.name, field.name, marker, seq, true);
      if (v !== null) args[arg.name] = v;
    }
    const decl = field.args.filter((a) => a.name in args).map((a) => `$${a.name}: ${typeText(a.type)}`);
    const use = field.args.filter((a) => a.name in args).map((a) => `${a.name}: $${a.name}`);
    return { args, query: `mutation W${decl.length ? `(${decl.join(', ')})` : ''} { ${field.name}${use.length ? `(${use.join(', ')})` : ''}${selectionOf(field.type, fuzzer)} }` };
  };
  const fingerprint = async (): Promise<Map<string, string>> => {
    const [row] = await t.sql(`SELECT ${tables.map(({ s, n }, i) => `(SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM "${s}"."${n}" x) AS c${i}`).join(', ')}`);
    return new Map(tables.map(({ s, n }, i) => [`${s}.${n}`, row[`c${i}`] as string]));
  };
  const changed = (a: Map<string, string>, b: Map<string, string>) => [...a.keys()].filter((k) => a.get(k) !== b.get(k)).sort();
  /** Rows each table gained (or lost) from `a` to `b`, the tables that changed in number only. */
  const grown = (a: Map<string, string>, b: Map<string, string>) =>
    Object.fromEntries([...a.keys()].map((k) => [k, parseInt(b.get(k)!, 10) - parseInt(a.get(k)!, 10)]).filter(([, n]) => n !== 0));
  /** Per mutation swept, the role that got it served and the rows one served call added to each table. */
  const servedAs = new Map<string, { subject: PolicySubject; rows: Record<string, number> }>();

  it('leaves nothing of any write that fails at its commit or at any table it writes, audits it as an ERROR without change, and audits the write once served', async () => {
    const ids = await callIds(t, made, (name) => enums.get(name)![0]);
    const fuzzer = fuzzerOf(ids);

    // One switch for every table: off, fail at COMMIT whatever was written, or fail as a row of one table is written.
    await t.sql(`CREATE TABLE public.sweep_failure (mode text NOT NULL, target text)`);
    await t.sql(`GRANT SELECT ON public.sweep_failure TO PUBLIC`);
    await t.sql(`CREATE FUNCTION public.sweep_fail() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM public.sweep_failure WHERE mode = TG_ARGV[0] AND (target IS NULL OR target = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME)) THEN
          RAISE EXCEPTION '${MARK} on %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME;
        END IF;
        RETURN NULL;
      END $$`);
    for (const { s, n } of tables) {
      await t.sql(`CREATE CONSTRAINT TRIGGER sweep_fail_commit AFTER INSERT OR UPDATE OR DELETE ON "${s}"."${n}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.sweep_fail('commit')`);
      await t.sql(`CREATE TRIGGER sweep_fail_row AFTER INSERT OR UPDATE OR DELETE ON "${s}"."${n}" FOR EACH ROW EXECUTE FUNCTION public.sweep_fail('row')`);
    }
    const failAt = async (mode: 'commit' | 'row' | null, target: string | null = null) => {
      await t.sql(`DELETE FROM public.sweep_failure`);
      if (mode) await t.sql(`INSERT INTO public.sweep_failure (mode, target) VALUES ($1, $2)`, [mode, target]);
    };

    const WRITE = /(?<!\bFOR (?:NO KEY )?)\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([a-z_]+)"?\."?([a-z_]+)"?/gi;
    const problems: string[] = [];
    const swept: string[] = [];

    /** What is wrong with a write that was made to fail: its answer, its event, what it left behind. */
    const failedProblems = async (what: string, field: string, a: Answer, before: Map<string, string>) => {
      const out: string[] = [];
      const codes = (a.body.errors ?? []).map((e) => String(e.extensions?.code));
      if (!codes.length || !codes.every((c) => FAILED.includes(c))) out.push(`${what}: answered ${codes.join(', ') || 'no error'}`);
      if (a.body.data?.[field] != null) out.push(`${what}: answered data ${JSON.stringify(a.body.data[field]).slice(0, 120)}`);
      const leak = LEAK.exec(JSON.stringify(a.body.errors ?? []));
      if (leak) out.push(`${what}: the error shows "${leak[0]}"`);
      const left = changed(before, await fingerprint());
      if (left.length) out.push(`${what}: left ${left.join(', ')} written`);
      const events = await eventsOf(t, a.requestId);
      const final = events.filter((e) => e.outcome !== 'STARTED');
      if (events[0]?.outcome !== 'STARTED') out.push(`${what}: no STARTED event first`);
      if (final.length !== 1 || final[0].outcome !== 'ERROR' || final[0].body.changes.length) {
        out.push(`${what}: final events ${JSON.stringify(final.map((e) => [e.outcome, e.body.changes]))}`);
      }
      return out;
    };

    for (const field of mutationFields(fuzzer)) {
      const key = `Mutation.${field.name}`;
      const allowed = POLICY_SUBJECTS.filter((s) => policy.access(s, key) !== Access.DENY);
      const { args, query } = validCall(fuzzer, field, fuzzer.marker(), 0);

      // Failing at COMMIT: every statement of the write ran. The first role it gets that far for is the one swept.
      await failAt('commit');
      let subject: PolicySubject | undefined;
      let written: string[] = [];
      const refusals: string[] = [];
      for (const s of allowed) {
        const before = await fingerprint();
        let a!: Answer;
        const statements = await statementsDuring(t, async () => {
          a = await send(s, query, args);
        });
        const codes = (a.body.errors ?? []).map((e) => String(e.extensions?.code));
        if (!codes.some((c) => FAILED.includes(c)) && a.body.data?.[field.name] == null) {
          refusals.push(`${s}: ${(a.body.errors ?? []).map((e) => `${String(e.extensions?.code)} ${e.message}`).join('; ')}`);
          continue; // refused before writing: another role
        }
        if (a.body.data?.[field.name] != null && !codes.length) {
          // Served though every table fails at COMMIT: it wrote none of them (allowed only if nothing changed).
          const left = changed(before, await fingerprint());
          if (left.length) problems.push(`${field.name}: served under a failing COMMIT and left ${left.join(', ')}`);
          subject = s;
          break;
        }
        subject = s;
        if (!distributed) {
          written = [...new Set(statements.flatMap((st) => [...st.query.matchAll(WRITE)].map((m) => `${m[2]}.${m[3]}`)).filter((x) => RECORD_SCHEMAS.includes(x.split('.')[0])))].sort();
          tablesWritten.set(field.name, written);
        } else {
          written = tablesWritten.get(field.name) ?? [];
        }
        problems.push(...(await failedProblems(`${field.name} as ${s}, failing at COMMIT`, field.name, a, before)));
        break;
      }
      if (!subject) {
        problems.push(`${field.name}: no role allowed by the policy (${allowed.join(', ')}) got its valid call as far as a write: ${refusals.join(' | ')}`);
        continue;
      }
      // Failing as each table it writes is written: the statements before it ran, the ones after never did.
      let served: { a: Answer; before: Map<string, string> } | undefined;
      for (const table of written) {
        await failAt('row', table);
        const before = await fingerprint();
        const a = await send(subject, query, args);
        // A write made only when needed (the bar list's key check, once): served, it wrote no row
        // there. The first such answer is checked below as the one served.
        if (!a.body.errors && a.body.data?.[field.name] != null && before.get(table) === (await fingerprint()).get(table)) {
          served ??= { a, before };
          continue;
        }
        problems.push(...(await failedProblems(`${field.name} as ${subject}, failing at ${table}`, field.name, a, before)));
      }
      // Nothing failing: served, and its event says what it changed.
      await failAt(null);
      const before = served?.before ?? (await fingerprint());
      const a = served?.a ?? (await send(subject, query, args));
      const answered = a.body.data?.[field.name] as Record<string, unknown> | null | undefined;
      if (a.body.errors || answered == null) {
        problems.push(`${field.name} as ${subject}: not served once nothing failed: ${JSON.stringify(a.body.errors ?? null).slice(0, 200)}`);
        continue;
      }
      const after = await fingerprint();
      const wrote = changed(before, after);
      const unexpected = wrote.filter((x) => !written.includes(x));
      if (unexpected.length) problems.push(`${field.name}: wrote ${unexpected.join(', ')}, which no statement seen at the failing COMMIT named`);
      const events = await eventsOf(t, a.requestId);
      const final = events.filter((e) => e.outcome !== 'STARTED');
      if (final.length !== 1 || final[0].outcome !== 'SUCCESS') {
        problems.push(`${field.name}: final events ${JSON.stringify(final.map((e) => e.outcome))}`);
        continue;
      }
      const body = final[0].body;
      const [department, role] = SUBJECT_TOKENS.find(([s]) => s === subject)!.slice(1);
      if (body.department !== department || body.role !== role || body.purpose?.code !== 'CASE_HANDLING' || body.purpose?.reference !== 'writes sweep') {
        problems.push(`${field.name}: event names ${JSON.stringify([body.department, body.role, body.purpose])}`);
      }
      if (wrote.length && !body.changes.some((c: { mutation: string }) => c.mutation === field.name)) problems.push(`${field.name}: wrote ${wrote.join(', ')} and its event records no change`);
      // The record answered is the record written (a webhook's registration answers it inside its result).
      const record = (answered.id ?? (answered as { webhook?: { id?: string } }).webhook?.id) as string | undefined;
      if (record && wrote.length && !body.changes.some((c: { id: string | null }) => c.id === record)) {
        problems.push(`${field.name}: answered ${record}, its event's changes name ${JSON.stringify(body.changes.map((c: { id: string | null }) => c.id))}`);
      }
      servedAs.set(field.name, { subject, rows: grown(before, after) });
      swept.push(`${field.name} as ${subject}: ${written.join(' ') || 'no table'}`);
    }
    await failAt(null);
    if (process.env.SWEEP_VERBOSE || problems.length) console.log(`swept:\n${swept.join('\n')}\nproblems:\n${problems.join('\n')}`);
    expect(problems).toEqual([]);
    // Every mutation was swept, each by a role the policy lets call it.
    expect(swept.length).toBe(mutationFields(fuzzer).length);
    // The failures were logged for an operator, never shown to the client.
    expect(logged.join('\n')).toContain(MARK);
  });
  it('answers every write sent twice at once with typed answers only, each served call that changed something audited so and adding the records of one call', async () => {
    expect(servedAs.size).toBeGreaterThan(0);
    // Fresh records to act on: the sweep above answered the referrals, moved the report and revoked the bar it was given.
    const fuzzer = fuzzerOf(await callIds(t, made, (name) => enums.get(name)![0]));
    const problems: string[] = [];
    const twice: string[] = [];
    for (const field of mutationFields(fuzzer)) {
      const as = servedAs.get(field.name);
      if (!as) continue;
      const { args, query } = validCall(fuzzer, field, fuzzer.marker(), 1);
      const before = await fingerprint();
      const answers = await Promise.all([send(as.subject, query, args), send(as.subject, query, args)]);
      const after = await fingerprint();
      let served = 0;
      let recorded = 0;
      for (const a of answers) {
        const codes = (a.body.errors ?? []).map((e) => String(e.extensions?.code));
        const events = (await eventsOf(t, a.requestId)).filter((e) => e.outcome !== 'STARTED');
        const changes = events[0]?.body.changes ?? [];
        if (!codes.length && a.body.data?.[field.name] != null) {
          served++;
          // A write that changed nothing (an update to the values stored, a category the child has)
          // records no change; one that moved its parent on (an action closing a report) records both.
          if (changes.length) recorded++;
          if (events.length !== 1 || events[0].outcome !== 'SUCCESS' || changes.some((c: { mutation: string }) => c.mutation !== field.name)) {
            problems.push(`${field.name}: served, audited ${JSON.stringify(events.map((e) => [e.outcome, e.body.changes]))}`);
          }
        } else {
          // The loser of a race is told why in the terms of the API (already done, no longer there), not a failure.
          if (!codes.length || codes.some((c) => !['BAD_USER_INPUT', 'NOT_FOUND', 'LIMIT_EXCEEDED'].includes(c))) problems.push(`${field.name}: the other answered ${codes.join(', ') || 'no error, no data'}: ${a.body.errors?.[0]?.message}`);
          if (LEAK.test(JSON.stringify(a.body.errors ?? []))) problems.push(`${field.name}: the refusal shows ${JSON.stringify(a.body.errors)}`);
          if (changes.length) problems.push(`${field.name}: refused, audited the change ${JSON.stringify(changes)}`);
        }
      }
      if (changed(before, after).length && !recorded) problems.push(`${field.name}: ${changed(before, after).join(', ')} changed, and neither event records a change`);
      // Each call served added the records of one call, and a call refused none. Notifications are
      // left out: a level already told is not told again, and each goes to as many webhooks as are registered.
      const records = (rows: Record<string, number>) => Object.fromEntries(Object.entries(rows).filter(([k]) => !['workflow.notification', 'workflow.webhook_delivery'].includes(k)));
      const expected = records(Object.fromEntries(Object.entries(as.rows).map(([k, n]) => [k, n * recorded]).filter(([, n]) => n !== 0)));
      const rows = records(grown(before, after));
      if (JSON.stringify(Object.entries(rows).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
        problems.push(`${field.name}: ${served} served, rows added ${JSON.stringify(rows)}, one call adds ${JSON.stringify(as.rows)}`);
      }
      if (served === 0 && changed(before, after).length) problems.push(`${field.name}: neither served, yet ${changed(before, after).join(', ')} changed`);
      if (served === 2) twice.push(field.name);
    }
    if (process.env.SWEEP_VERBOSE || problems.length) console.log(`served twice: ${twice.join(' ')}\nproblems:\n${problems.join('\n')}`);
    expect(problems).toEqual([]);
  });
  it('refuses every write whose STARTED event cannot be written AUDIT_UNAVAILABLE, changing nothing; one whose final event cannot be written is answered no data, 500 when it made its change and 503 when it changed nothing', async () => {
    expect(servedAs.size).toBeGreaterThan(0);
    const fuzzer = fuzzerOf(await callIds(t, made, (name) => enums.get(name)![0]));
    const problems: string[] = [];
    const madeUnconfirmed: string[] = [];
    // The trail refuses one kind of event at a time: a mutation's STARTED, or every other (its final one).
    await t.sql(`CREATE TABLE public.sweep_trail_failure (started boolean NOT NULL)`);
    await t.sql(`GRANT SELECT ON public.sweep_trail_failure TO PUBLIC`);
    await t.sql(`CREATE FUNCTION public.sweep_fail_trail() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM public.sweep_trail_failure WHERE started = (NEW.outcome = 'STARTED')) THEN RAISE EXCEPTION '${MARK} in the trail'; END IF;
        RETURN NEW;
      END $$`);
    await t.sql(`CREATE TRIGGER sweep_fail_trail BEFORE INSERT ON audit.event FOR EACH ROW EXECUTE FUNCTION public.sweep_fail_trail()`);
    const trailFails = async (started: boolean | null) => {
      await t.hub.audit.drain();
      await t.sql(`DELETE FROM public.sweep_trail_failure`);
      if (started !== null) await t.sql(`INSERT INTO public.sweep_trail_failure (started) VALUES ($1)`, [started]);
    };
    try {
      for (const field of mutationFields(fuzzer)) {
        const as = servedAs.get(field.name);
        if (!as) continue;
        const { args, query } = validCall(fuzzer, field, fuzzer.marker(), 2);
        await trailFails(true);
        let before = await fingerprint();
        const refused = await send(as.subject, query, args);
        await trailFails(null);
        const codes = (refused.body.errors ?? []).map((e) => String(e.extensions?.code));
        if (refused.status !== 503 || codes.join() !== 'AUDIT_UNAVAILABLE' || refused.body.data?.[field.name] != null) {
          problems.push(`${field.name}, STARTED refused: HTTP ${refused.status}, ${codes.join(', ')}, data ${JSON.stringify(refused.body.data ?? null).slice(0, 80)}`);
        }
        const left = changed(before, await fingerprint());
        if (left.length) problems.push(`${field.name}, STARTED refused: left ${left.join(', ')} written`);
        // Nothing was done: the same call is made once its final event is what fails.
        await trailFails(false);
        before = await fingerprint();
        const unconfirmed = await send(as.subject, query, args);
        await trailFails(null);
        // A change made is told as made or maybe made (500: "check before making it again"); a call
        // that changed nothing (an update to the values stored) may be sent again (503).
        const made = changed(before, await fingerprint()).length > 0;
        if (made) madeUnconfirmed.push(field.name);
        const unconfirmedCodes = (unconfirmed.body.errors ?? []).map((e) => String(e.extensions?.code));
        if (unconfirmed.status !== (made ? 500 : 503) || unconfirmedCodes.join() !== 'AUDIT_UNAVAILABLE' || unconfirmed.body.data?.[field.name] != null) {
          problems.push(`${field.name}, final event refused: HTTP ${unconfirmed.status}, ${unconfirmedCodes.join(', ')}, data ${JSON.stringify(unconfirmed.body.data ?? null).slice(0, 80)}, change made: ${made}`);
        }
        // Its STARTED event stands alone: the anomaly a data officer is shown.
        const events = await eventsOf(t, unconfirmed.requestId);
        if (events.map((e) => e.outcome).join() !== 'STARTED') problems.push(`${field.name}, final event refused: events ${events.map((e) => e.outcome).join(', ')}`);
        if (LEAK.test(JSON.stringify([refused.body.errors, unconfirmed.body.errors]))) problems.push(`${field.name}: an error shows ${JSON.stringify([refused.body.errors, unconfirmed.body.errors])}`);
      }
    } finally {
      await trailFails(null);
      await t.sql(`DROP TRIGGER sweep_fail_trail ON audit.event`);
    }
    if (process.env.SWEEP_VERBOSE || problems.length) console.log(`made unconfirmed: ${madeUnconfirmed.join(' ')}\nproblems:\n${problems.join('\n')}`);
    expect(problems).toEqual([]);
    // Writes of every kind made their change with their final event refused (a few of the third round's
    // calls meet what the rounds before did: a dropout report closed, a webhook's address taken).
    expect(madeUnconfirmed).toEqual(expect.arrayContaining(['createMinor', 'addGuardian', 'recordAssessment', 'createDropoutReport', 'fileMandatoryReport', 'transitionReport', 'createReferral', 'acceptReferral', 'addBarredPerson', 'employmentCheck']));
    expect(madeUnconfirmed.length).toBeGreaterThan(30);
  });
});
