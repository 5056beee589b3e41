import fs from 'node:fs';
import { SignJWT } from 'jose';
import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 18, group 03: regression review of recent fixes, probed through the public endpoint.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt18' };

describe('regressions of recent fixes (redteam18, group 03)', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let child: string;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { user: 'rt18-civil', region: '330102001' });
    education = await t.token(ED, { user: 'rt18-edu', region: '330102001' });
    // Old enough for every record (a dropout is of no child under 6).
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  const send = (token: string, query: string, variables: Record<string, unknown> = {}) => post(t, token, { query, variables }, PURPOSE);
  const changesOf = async (requestId: string) => (await eventOf(t, requestId)).changes as { id: string | null; minorId: string | null; mutation: string }[];

  // e3c0ca3 fixed removeBarredPerson and deactivateWebhook for a UUID in capitals; the sibling writes
  // that take an id must serve it too, and answer and audit it as stored (lower case).
  it('writes naming a record by a UUID in capitals are served, answered and audited under the stored id', async () => {
    const upper = (s: string) => s.toUpperCase();
    // A dropout report, then its update and an action under it, named in capitals.
    const created = await send(education, `mutation($m: ID!) { createDropoutReport(minorId: $m, input: { school: "一中", reportedOn: "2026-11-01", daysAbsent: 5 }) { id minor { id } } }`, { m: upper(child) });
    expect(created.json.errors).toBeUndefined();
    const report = created.json.data.createDropoutReport.id as string;
    expect(created.json.data.createDropoutReport.minor.id).toBe(child);
    expect((await changesOf(created.requestId))[0]).toMatchObject({ id: report, minorId: child });

    const updated = await send(education, `mutation($id: ID!) { updateDropoutReport(id: $id, input: { school: "二中", reportedOn: "2026-11-01", daysAbsent: 5 }) { id } }`, { id: upper(report) });
    expect(updated.json.errors).toBeUndefined();
    expect(updated.json.data.updateDropoutReport.id).toBe(report);
    expect((await changesOf(updated.requestId))[0]).toMatchObject({ id: report, minorId: child });

    const acted = await send(education, `mutation($id: ID!) { recordPersuasionAction(reportId: $id, input: { actedOn: "2026-11-02", method: HOME_VISIT, actor: "班主任", note: "家访" }) { id } }`, { id: upper(report) });
    expect(acted.json.errors).toBeUndefined();
    expect((await changesOf(acted.requestId)).every((c) => c.minorId === child)).toBe(true);

    // A guardian added and removed by capitals.
    const added = await send(civil, `mutation($m: ID!) { addGuardian(minorId: $m, input: { relationship: GRANDPARENT, name: "王大爷", phone: "13900001111", situation: NORMAL }) { id } }`, { m: upper(child) });
    expect(added.json.errors).toBeUndefined();
    const guardian = added.json.data.addGuardian.id as string;
    const removed = await send(civil, `mutation($g: ID!) { removeGuardian(guardianId: $g) }`, { g: upper(guardian) });
    expect(removed.json.errors).toBeUndefined();
    expect(removed.json.data.removeGuardian).toBe(guardian);
    expect((await changesOf(removed.requestId))[0]).toMatchObject({ id: guardian, minorId: child });

    // A referral answered by capitals.
    const referred = await send(civil, `mutation($m: ID!) { createReferral(input: { minorId: $m, type: EDUCATION_AID, toDepartment: "EDUCATION", need: "资助" }) { id } }`, { m: upper(child) });
    expect(referred.json.errors).toBeUndefined();
    const referral = referred.json.data.createReferral.id as string;
    const accepted = await send(education, `mutation($id: ID!) { acceptReferral(id: $id, note: "受理") { id status } }`, { id: upper(referral) });
    expect(accepted.json.errors).toBeUndefined();
    expect(accepted.json.data.acceptReferral).toEqual({ id: referral, status: 'ACCEPTED' });
    expect((await changesOf(accepted.requestId))[0]).toMatchObject({ id: referral, minorId: child });

    // The notification it sent, acknowledged by capitals.
    const [{ id: note }] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'EDUCATION'`, [referral]);
    const ack = await send(education, `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt } }`, { id: upper(note) });
    expect(ack.json.errors).toBeUndefined();
    expect(ack.json.data.acknowledge.id).toBe(note);
    expect((await changesOf(ack.requestId))[0]).toMatchObject({ id: note });
  });

  // 2ad5308 made every character of an id's first three outside the scripts ids are written in a
  // possible h, u or b, and names 凵 (Han) as a U among those inside them. Bopomofo's ㄩ (U+3129) is
  // 凵 itself as a Bopomofo letter, drawn the same: `hㄩb:webhook-delivery` reads as the hub's own
  // webhook sender in the trail.
  it('refuses a token subject spelling hub: with Bopomofo ㄩ, drawn as 凵 (a U)', async () => {
    const secret = new TextEncoder().encode(fs.readFileSync(`${t.config.dataDir}/jwt-secret`, 'utf8').trim());
    const sign = (sub: string) =>
      new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(t.config.jwt.issuer)
        .setAudience(t.config.jwt.audience)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(secret);
    // The code's own U lookalike is refused ...
    const han = await post(t, await sign('h\u51f5b:webhook-delivery'), { query: '{ regions { code } }' }, PURPOSE);
    expect(han.status).toBe(401);
    // ... and the same glyph from Bopomofo should be too.
    const bopomofo = await post(t, await sign('h\u3129b:webhook-delivery'), { query: '{ regions { code } }' }, PURPOSE);
    expect({ sub: 'h\u3129b:webhook-delivery', status: bopomofo.status }).toEqual({ sub: 'h\u3129b:webhook-delivery', status: 401 });
  });

  // 0d1fe0e / 5000b47: one line of text (a name, an address) must not be stored looking exactly like
  // another ("two names that look alike would be different names"); user ids and a purpose's
  // reference are refused unless in NFC for that very reason. A name in NFD — Jose + U+0301, or a
  // Hangul name in conjoining jamo — is drawn exactly as its NFC form, yet stored apart from it.
  it('does not store a one-line name outside NFC (decomposed, or a CJK compatibility ideograph), drawn exactly as its NFC form', async () => {
    // José García decomposed; 김순 in conjoining jamo; 王隆 with the CJK compatibility ideograph
    // U+F9DC, whose canonical form (NFC) is U+9686 隆 — drawn the same, a Han name beside 王隆.
    const names = ['Jose\u0301 Garci\u0301a', '\u1100\u1175\u11b7\u1109\u116e\u11ab', '\u738b\uf9dc'];
    const kept: Record<string, string> = {};
    for (const name of names) {
      expect(name.normalize('NFC')).not.toBe(name);
      const r = await send(civil, `mutation($m: ID!, $n: String!) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: $n, phone: "13900002222", situation: NORMAL }) { id } }`, { m: child, n: name });
      if (r.json.errors) {
        kept[name] = r.json.errors[0].extensions.code === 'BAD_USER_INPUT' ? 'refused' : `error ${r.json.errors[0].extensions.code}`;
        continue;
      }
      const [stored] = await t.sql(`SELECT name FROM registry.guardian WHERE id = $1`, [r.json.data.addGuardian.id]);
      // Stored as written: 'José García' (NFD) is then another name than 'José García' (NFC).
      kept[name] = stored.name === stored.name.normalize('NFC') ? 'stored in NFC' : 'stored outside NFC';
    }
    expect(Object.values(kept).filter((v) => v !== 'refused' && v !== 'stored in NFC')).toEqual([]);
  });

  // e3c0ca3's sibling on the read side: a record or cursor named by a UUID in capitals reads as the
  // same record, in every look-up and list that takes one.
  it('reads and cursors naming a record by a UUID in capitals answer as in lower case', async () => {
    const referred = await send(civil, `mutation($m: ID!) { createReferral(input: { minorId: $m, type: LEGAL_AID, toDepartment: "JUSTICE", need: "法律援助" }) { id } }`, { m: child });
    expect(referred.json.errors).toBeUndefined();
    const referral = referred.json.data.createReferral.id as string;
    await send(civil, `mutation($m: ID!) { createReferral(input: { minorId: $m, type: LEGAL_AID, toDepartment: "JUSTICE", need: "法律援助二" }) { id } }`, { m: child });
    await send(civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "家访一" }) { id } }`, { m: child });
    await send(civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "家访二" }) { id } }`, { m: child });
    const cases: [string, (id: string) => Promise<unknown>][] = [
      ['referral(id:)', async (id) => (await send(civil, `query($id: ID!) { referral(id: $id) { id status } }`, { id })).json],
      ['referrals(after:)', async (id) => (await send(civil, `query($id: ID!) { referrals(first: 5, after: $id) { id } }`, { id })).json],
      ['minor(id:) { referrals(after:) }', async (id) => (await send(civil, `query($m: ID!, $id: ID!) { minor(id: $m) { referrals(first: 5, after: $id) { id } } }`, { m: child, id })).json],
    ];
    for (const [name, ask] of cases) {
      const lower = await ask(referral);
      const upper = await ask(referral.toUpperCase());
      expect({ name, upper }).toEqual({ name, upper: lower });
    }
    // A child's visits paged after a visit named in capitals.
    const visits = await send(civil, `query($m: ID!) { minor(id: $m) { visits(first: 5) { id } } }`, { m: child });
    const first = visits.json.data.minor.visits[0].id as string;
    const page = async (after: string) => (await send(civil, `query($m: ID!, $a: ID) { minor(id: $m) { visits(first: 5, after: $a) { id } } }`, { m: child, a: after })).json;
    expect(await page(first.toUpperCase())).toEqual(await page(first));
    // The auditor's look-up of a child in capitals finds the same history.
    const auditor = await t.token(CA, { role: 'AUDITOR' as never, user: 'rt18-auditor', region: '330102' });
    const history = async (id: string) => (await send(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m, first: 5) { requestId } }`, { m: id })).json;
    const h1 = (await history(child)) as any;
    const h2 = (await history(child.toUpperCase())) as any;
    expect(h1.errors).toBeUndefined();
    expect(h2.data.minorAccessHistory.slice(1)).toEqual(h1.data.minorAccessHistory.slice(0, 4));
  });

  // The same class: user ids refuse two spaces in a row as drawn like one (README, `--user`); a page
  // of HTML draws them as one. One line of text keeps them, so 'Maria  Garcia' is another guardian
  // than 'Maria Garcia', drawn alike.
  it('does not store a one-line name with two spaces in a row, drawn as one', async () => {
    const name = 'Maria  Garcia';
    const r = await send(civil, `mutation($m: ID!, $n: String!) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: $n, phone: "13900003333", situation: NORMAL }) { id } }`, { m: child, n: name });
    if (r.json.errors) {
      expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      return;
    }
    const [stored] = await t.sql(`SELECT name FROM registry.guardian WHERE id = $1`, [r.json.data.addGuardian.id]);
    expect(stored.name).not.toMatch(/ {2}/);
  });

  // 1d641fa prices AuditEvent.reads at 100 fields of children per event and stops a page past that:
  // README gives `first: 500` as answering up to 50,000 such fields. A page of 500 with its reads.
  it('answers an auditor a page of first: 500 events with their reads (probe)', async () => {
    const auditor = await t.token(CA, { role: 'AUDITOR' as never, user: 'rt18-auditor-2', region: '330102' });
    const read = await send(civil, `{ minors(first: 3) { edges { node { name } } } }`);
    expect(read.json.errors).toBeUndefined();
    const r = await send(auditor, `{ auditEvents(first: 500) { edges { node { seq reads { minorId fields { field access } } } } pageInfo { hasNextPage endCursor } } }`);
    expect({ status: r.status, codes: (r.json.errors ?? []).map((e: any) => [e.extensions?.code, e.message]) }).toEqual({ status: 200, codes: [] });
    // bb132f2: every child the page's reads name is recorded as read by the auditor.
    const named = new Set<string>(r.json.data.auditEvents.edges.flatMap((e: any) => e.node.reads.map((x: any) => x.minorId.toLowerCase())));
    expect(named.size).toBeGreaterThan(0);
    const event = await eventOf(t, r.requestId);
    const recorded = new Set((event.reads as { minorId: string; fields: Record<string, string> }[]).filter((x) => 'AuditEvent.reads' in x.fields).map((x) => x.minorId));
    expect([...named].filter((id) => !recorded.has(id))).toEqual([]);
  });
});
