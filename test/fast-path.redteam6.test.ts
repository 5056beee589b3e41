import { Department, POLICY_SUBJECTS, PolicySubject } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { FastPathGateway } from '../src/gateway/fast-path.gateway';
import { eventsOf } from './support/audit-helpers';
import { startTestHub, subjectToken, TestHub } from './support/test-hub';

/**
 * Differential test of FastPathGateway against the planned gateway path: the same request is sent
 * twice to one hub (compiled reads off), once as it is and once with the fast path's choice of a
 * subgraph forced to none (FastPathGateway's private `target`, replaced for this file), so that
 * @apollo/gateway plans it. Status, body and audit events (a mutation's STARTED one too) must be
 * the same, but for the errors' `locations`, which the gateway drops from a subgraph's errors.
 */
describe('fast path, differential (redteam 6)', () => {
  let t: TestHub;
  const STREET = '330102001';
  let own: string;
  let other: string;
  let adult: { id: string; birth_date: string };
  let ownIdNumber: string;
  const UNKNOWN = '00000000-0000-4000-8000-000000000000';
  const target = (FastPathGateway.prototype as any).target;
  let planned = false;
  let cutoff: string;

  beforeAll(async () => {
    (FastPathGateway.prototype as any).target = function (this: unknown, doc: unknown) {
      return planned ? null : target.call(this, doc);
    };
    t = await startTestHub({ env: { HUB_BENCH_DISABLE: 'compiled' } });
    [{ id: own, id_number: ownIdNumber }] = await t.sql(
      `SELECT id, id_number FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) AND EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id) ORDER BY id LIMIT 1`,
    );
    [{ id: other }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 1`);
    [adult] = await t.sql(`SELECT id, birth_date::text AS birth_date FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND id <> $1 ORDER BY id LIMIT 1`, [own]);
    await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult.id, yearsBefore(new Date(), 18)]);
    cutoff = new Date().toISOString();
  });
  afterAll(async () => {
    (FastPathGateway.prototype as any).target = target;
    if (adult) await t?.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult.id, adult.birth_date]);
    await t?.stop();
  });

  const tokenFor = (subject: PolicySubject, region: string) => subjectToken(t, subject, { region, user: `${subject}-street` });

  async function ask(token: string, body: unknown, headers: Record<string, string>) {
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const events = (await eventsOf(t, res.headers.get('x-request-id')!)).map(({ outcome, body: { requestId, time, durationMs, ...event } }) => ({ outcome, ...event }));
    const json = JSON.parse(text);
    // The gateway drops locations from a subgraph's errors; where the fast path keeps them is not a divergence of substance.
    for (const e of json.errors ?? []) delete e.locations;
    return { status: res.status, json, events };
  }

  const diffs: string[] = [];
  // One test per subject (or department), so that each stays well inside the timeout on a slow machine.
  beforeEach(() => {
    diffs.length = 0;
  });
  /** Collects the differences, so that one run lists them all. */
  async function both(label: string, token: string, body: unknown, headers: Record<string, string> = { 'x-purpose': 'CASE_HANDLING' }) {
    planned = false;
    const a = await ask(token, body, headers);
    planned = true;
    const b = await ask(token, body, headers);
    planned = false;
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${label}\n  fast:    ${JSON.stringify(a)}\n  planned: ${JSON.stringify(b)}`);
  }

  const REFERRED = Object.values(Department).filter((d) => d !== Department.CIVIL_AFFAIRS);
  it.each(REFERRED)('serves what an open referral grants %s, and withholds other children under it, alike on both paths', async (department) => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const CHILD = `id name idNumber currentAddress categories { category } guardians { name phone address situation situationNote } latestAssessment { reasons }`;
    const created = await t.gql(civil, `mutation { createReferral(input: { minorId: "${own}", type: PLACEMENT, toDepartment: "${department}", need: "n" }) { id } }`);
    const referral = created.data.createReferral.id;
    const token = await t.token(department, { region: STREET });
    for (const id of [own, other, adult.id, UNKNOWN]) {
      for (const purpose of [`REFERRAL; ${referral}`, 'REFERRAL', `REFERRAL; ${UNKNOWN}`, 'CASE_HANDLING']) {
        await both(`${department} ${purpose} ${id}`, token, { query: `query Q($id: ID!) { minor(id: $id) { ${CHILD} } }`, variables: { id } }, { 'x-purpose': purpose });
        await both(`${department} ${purpose} ${id} compiled shape`, token, { query: `query Q($id: ID!) { minor(id: $id) { id name } }`, variables: { id } }, { 'x-purpose': purpose });
      }
    }
    expect(diffs).toEqual([]);
  });

  it.each(POLICY_SUBJECTS)('answers %s\'s mutations that change nothing alike on both paths', async (subject) => {
    const muts: [string, (id: unknown) => unknown][] = [
      ['updateMinor', (id) => ({ query: `mutation M($id: ID!) { updateMinor(id: $id, input: { school: "x" }) { id school } }`, variables: { id } })],
      ['recordVisit', (id) => ({ query: `mutation M($id: ID!) { recordVisit(minorId: $id, input: { notes: "n" }) { id } }`, variables: { id } })],
      ['addGuardian', (id) => ({ query: `mutation M($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王五" }) { id } }`, variables: { id } })],
      ['recordAssessment', (id) => ({ query: `mutation M($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "r" }) { id } }`, variables: { id } })],
      ['removeCategory', (id) => ({ query: `mutation M($id: ID!) { removeCategory(minorId: $id, category: ORPHAN) { id } }`, variables: { id } })],
      ['createDropoutReport', (id) => ({ query: `mutation M($id: ID!) { createDropoutReport(minorId: $id, input: { school: "s", reportedOn: "2026-01-01", daysAbsent: 3 }) { id } }`, variables: { id } })],
      ['removeGuardian', (id) => ({ query: `mutation M($id: ID!) { removeGuardian(guardianId: $id) }`, variables: { id } })],
      ['acknowledge', (id) => ({ query: `mutation M($id: ID!) { acknowledge(id: $id) { id } }`, variables: { id } })],
      ['acceptReferral', (id) => ({ query: `mutation M($id: ID!) { acceptReferral(id: $id) { id } }`, variables: { id } })],
      ['two roots', (id) => ({ query: `mutation M($id: ID!) { a: removeGuardian(guardianId: $id) b: acknowledge(id: $id) { id } }`, variables: { id } })],
    ];
    const token = await tokenFor(subject, STREET);
    for (const [name, make] of muts) for (const id of [other, adult.id, UNKNOWN, 'nope']) await both(`${subject} ${name} ${id}`, token, make(id));
    expect(diffs).toEqual([]);
  });

  const SUBJECT_REGIONS = POLICY_SUBJECTS.flatMap((subject) => [STREET, '330102'].map((region) => [subject, region] as const));
  it.each(SUBJECT_REGIONS)('answers %s at %s alike on both paths', async (subject, region) => {
    const CHILD = `id name idNumber birthDate age gender currentAddress householdRegistration school riskLevel nextVisitDue updatedAt
      grid { code name level parent { code } } categories { category identifiedAt } guardians { id relationship name phone address situation situationNote }
      latestAssessment { id level reasons assessor assessedAt nextVisitDue } assessments(first: 3) { id level reasons } visits(first: 2) { id visitedAt visitor notes }`;
    const docs: [string, (id: unknown) => unknown][] = [
      ['child', (id) => ({ query: `query Q($id: ID!) { minor(id: $id) { ${CHILD} } }`, variables: { id } })],
      ['child typename', (id) => ({ query: `query Q($id: ID!) { __typename minor(id: $id) { __typename } }`, variables: { id } })],
      ['two aliases', (id) => ({ query: `query Q($id: ID!, $o: ID!) { a: minor(id: $id) { id name } b: minor(id: $o) { id riskLevel } }`, variables: { id, o: own } })],
      ['root include', (id) => ({ query: `query Q($id: ID!, $x: Boolean!) { minor(id: $id) @include(if: $x) { id name } regions { code } }`, variables: { id, x: false } })],
      ['root skip true', (id) => ({ query: `query Q($id: ID!, $x: Boolean!) { minor(id: $id) @skip(if: $x) { id name } }`, variables: { id, x: true } })],
      ['spread skipped', (id) => ({ query: `query Q($id: ID!, $x: Boolean = true) { minor(id: $id) { id ...M @skip(if: $x) } } fragment M on Minor { name guardians { name } }`, variables: { id } })],
      ['inline include', (id) => ({ query: `query Q($id: ID!, $x: Boolean!) { minor(id: $id) { id ... @include(if: $x) { idNumber birthDate } } }`, variables: { id, x: true } })],
      ['include null', (id) => ({ query: `query Q($id: ID!, $x: Boolean!) { minor(id: $id) { id name @include(if: $x) } }`, variables: { id, x: null } })],
      ['default id', (id) => ({ query: `query Q($id: ID = "${String(id)}") { minor(id: $id) { id name } }` })],
      ['second operation', (id) => ({ query: `query A { regions { code } } query B($id: ID!) { minor(id: $id) { id name idNumber } }`, variables: { id }, operationName: 'B' })],
      ['mutation named but query chosen', (id) => ({ query: `mutation A($id: ID!) { removeGuardian(guardianId: $id) } query B($id: ID!) { minor(id: $id) { id } }`, variables: { id }, operationName: 'B' })],
      ['no operation chosen', (id) => ({ query: `query A { regions { code } } query B($id: ID!) { minor(id: $id) { id } }`, variables: { id } })],
      ['wrong variable type', (id) => ({ query: `query Q($id: ID!) { minor(id: $id) { id } }`, variables: { id: [id] } })],
      ['variable declared String', (id) => ({ query: `query Q($id: String!) { minor(id: $id) { id } }`, variables: { id } })],
      ['same field twice, different args', (id) => ({ query: `query Q($id: ID!) { minor(id: $id) { id assessments(first: 1) { id } a2: assessments(first: 2) { id } } }`, variables: { id } })],
      ['fragment', (id) => ({ query: `query Q($id: ID!) { ...R } fragment R on Query { minor(id: $id) { ...M } } fragment M on Minor { id name guardians { name } }`, variables: { id } })],
    ];
    const pages = [
      `{ minors(first: 3) { totalCount edges { cursor node { id name idNumber currentAddress } } pageInfo { hasNextPage endCursor } } }`,
      `{ minors(first: 2, filter: { riskLevels: [RED, ORANGE], ageMin: 3 }) { totalCount edges { node { id riskLevel age } } } }`,
      `{ minors(first: 2, filter: { categories: [DOMESTIC_VIOLENCE] }) { totalCount edges { node { id categories { category } } } } }`,
      `{ minors(first: 2, filter: { nextVisitDueBefore: "2100-01-01T00:00:00Z" }) { totalCount edges { node { id nextVisitDue } } } }`,
      `{ minors(first: 2, filter: { regionCode: "330102002" }) { totalCount edges { node { id } } } }`,
      `{ minors(first: 0) { totalCount } }`,
      `{ minors(first: 5000) { totalCount } }`,
      `{ minors(first: 2, after: "bad") { totalCount } }`,
      `{ regions { code name level children { code } } }`,
      `{ minorByIdNumber(idNumber: "${ownIdNumber}") { id name } }`,
      `{ minorByIdNumber(idNumber: "123") { id name } }`,
      `{ __typename }`,
      `{ dropoutReports(first: 2) { totalCount nodes { id minor { id } school reportedOn daysAbsent status outcome closedOn persuasionActions { __typename } } } }`,
      `{ policeIncidents(first: 2) { totalCount nodes { id minor { id } type occurredOn status handlingUnit narrative } } }`,
      `{ incarceratedParents(first: 2) { totalCount nextCursor } }`,
      `{ carePlans(first: 2) { totalCount nextCursor } }`,
      `{ notifications { id kind minor { id } payload { field value } } }`,
      `{ overdueVisits { minor { id } riskLevel gridCode nextVisitDue lastVisitAt daysOverdue responsibleWorker } }`,
      `{ mandatoryReports { id minor { id } harmType childIdNumber status } }`,
      `{ referrals { id type status regionCode } }`,
      `{ myReports { id status } }`,
      `{ statisticsScope { regionCode level finestLevel suppressionK } statisticsFreshness { __typename } }`,
      // Events written before the test: later ones (this test's own) would make the two answers differ.
      `{ auditEvents(first: 2, filter: { to: "${cutoff}" }) { edges { node { userId outcome reads { minorId } } } pageInfo { hasNextPage } } }`,
      `{ auditAnomalies { __typename } }`,
    ];
    const token = await tokenFor(subject, region);
    for (const [name, make] of docs) for (const id of [own, other, adult.id, UNKNOWN, 'nope']) await both(`${subject}@${region} ${name} ${id}`, token, make(id));
    for (const query of pages) await both(`${subject}@${region} ${query}`, token, { query });
    expect(diffs).toEqual([]);
  });
});
