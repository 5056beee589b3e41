import { format } from 'node:util';
import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { post } from './support/audit-helpers';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { cloneTemplateDatabase, errorCodes, startTestHub, TestHub, testConfig } from './support/test-hub';
import { birthYearsAgo } from './support/birth-dates';

/** Everything the process wrote to its console while `run` ran. */
async function outputDuring(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const spies = (['log', 'error', 'warn', 'info', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...args) => void lines.push(format(...args))));
  const writes = [process.stdout, process.stderr].map((s) =>
    jest.spyOn(s, 'write').mockImplementation(((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    }) as never),
  );
  try {
    await run();
  } finally {
    [...spies, ...writes].forEach((s) => s.mockRestore());
  }
  return lines.join('\n');
}

/**
 * Operators, log shippers and support staff read the process's output without any of the hub's
 * permissions or audit: whatever fails, no value a client sent about a child may reach it.
 */
describe('logs: no child’s personal data reaches stdout/stderr', () => {
  let t: TestHub;
  let civil: string;
  let grid: string;
  const NAME = '欧阳保密';
  const ADDRESS = '浙江省杭州市上城区保密街道机密社区77号';
  const PHONE = '13912345678';
  const NOTES = '孩子说父亲酗酒后打他';
  const ID = buildIdNumber('330102', birthYearsAgo(8), 515);
  const personal = [NAME, ADDRESS, PHONE, NOTES, ID, ID.slice(0, 14), '保密'];
  const expectClean = (logged: string) => {
    for (const v of personal) expect(logged).not.toContain(v);
  };

  beforeAll(async () => {
    // Short, for the held-lock test below, but not 1 s: the limit also bounds each new connection,
    // which a CI machine busy starting other files' hubs took longer than 1 s to open.
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '3000' } });
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`);
  });
  afterAll(() => t.stop());

  const CREATE = `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id } }`;
  const input = () => ({ name: NAME, idNumber: ID, householdRegistration: ADDRESS, currentAddress: ADDRESS, gridCode: grid });

  it('logs nothing of a child for refused and failed writes and reads: duplicates, bad ids, cursors, wrong variables, malformed JSON', async () => {
    let minorId = '';
    const logged = await outputDuring(async () => {
      const first = await t.gql(civil, CREATE, { input: input() });
      expect(first.errors).toBeUndefined();
      minorId = first.data.createMinor.id;
      // duplicate, via variables and inline
      await t.gql(civil, CREATE, { input: input() });
      await t.gql(civil, `mutation { createMinor(input: { name: "${NAME}", idNumber: "${ID}", householdRegistration: "${ADDRESS}", currentAddress: "${ADDRESS}", gridCode: "${grid}" }) { id } }`);
      // bad ids carrying values
      await t.gql(civil, `query($id: ID!) { minor(id: $id) { name } }`, { id: ID + NAME });
      await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "${NOTES}" }) { id } }`, { id: ID });
      await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: MOTHER, name: "${NAME}", phone: "${PHONE}" }) { id } }`, { id: ID });
      await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: MOTHER, name: "${NAME}", phone: "${PHONE}x" }) { id } }`, { id: minorId });
      // variables of the wrong type, unknown enum values
      await t.gql(civil, CREATE, { input: { ...input(), gender: NAME } });
      await t.gql(civil, CREATE, { input: { ...input(), gridCode: { v: ADDRESS } } });
      // a cursor and filters carrying values into SQL
      const cursor = Buffer.from(`minor:${ID}${NAME}`).toString('base64url');
      await t.gql(civil, `query($a: String) { minors(first: 1, after: $a) { edges { node { id } } } }`, { a: cursor });
      await t.gql(civil, `query($r: String) { minors(first: 1, filter: { regionCode: $r }) { edges { node { id } } } }`, { r: ID });
      // malformed JSON holding the values
      await post(t, civil, `{"query":"mutation { createMinor(input: {name: \\"${NAME}\\", idNumber: \\"${ID}\\"}) { id } }", "variables": {"x": "${ADDRESS}"`);
    });
    expectClean(logged);
  });

  it('logs an audit write that fails on a check by its constraint, not the failing row (the event holds the document with its literals)', async () => {
    await t.sql(`ALTER TABLE audit.event ADD CONSTRAINT probe_refused CHECK (body NOT LIKE '%createMinor%') NOT VALID`);
    try {
      const logged = await outputDuring(async () => {
        const r = await t.gql(civil, `mutation { createMinor(input: { name: "${NAME}", idNumber: "${buildIdNumber('330102', birthYearsAgo(8), 517)}", householdRegistration: "${ADDRESS}", currentAddress: "${ADDRESS}", gridCode: "${grid}" }) { id } }`);
        expect(errorCodes(r)).toContain('AUDIT_UNAVAILABLE');
        await t.hub.audit.drain().catch(() => undefined);
      });
      expect(logged).toMatch(/audit/);
      expectClean(logged);
    } finally {
      await t.sql(`ALTER TABLE audit.event DROP CONSTRAINT probe_refused`);
    }
  });

  it('logs a statement timeout behind a held lock without the statement’s values', async () => {
    const locker = new Client({ connectionString: t.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE registry.minor IN EXCLUSIVE MODE');
      const logged = await outputDuring(async () => {
        const r = await t.gql(civil, CREATE, { input: { ...input(), idNumber: buildIdNumber('330102', birthYearsAgo(8), 519) } });
        expect(errorCodes(r)).toEqual(['DATABASE_UNAVAILABLE']);
      });
      expectClean(logged);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });
});

describe('logs, distributed: a remote subgraph and the gateway log no child’s data', () => {
  let t: TestHub;
  let subgraph: SubgraphServer;
  let civil: string;
  let minorId: string;
  const NAME = '欧阳保密';
  const PHONE = '13912345678';
  const NOTES = '孩子说父亲酗酒后打他';
  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const secret = 'test-gateway-secret-of-sufficient-length';
    const config = testConfig({ databaseUrl, gatewaySecret: secret });
    subgraph = await startSubgraphServer('registry', config, 0);
    t = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: { registry: subgraph.url } });
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    await t.stop();
    await subgraph.stop();
  });

  it('logs a remote subgraph’s check violations by constraint, and the client sees neither SQL nor values', async () => {
    await t.sql(`ALTER TABLE registry.visit ADD CONSTRAINT probe_v CHECK (notes NOT LIKE '%酗酒%') NOT VALID`);
    await t.sql(`ALTER TABLE registry.guardian ADD CONSTRAINT probe_g CHECK (phone IS DISTINCT FROM '${PHONE}') NOT VALID`);
    try {
      const logged = await outputDuring(async () => {
        const v = await t.gql(civil, `mutation($id: ID!, $n: String!) { recordVisit(minorId: $id, input: { notes: $n }) { id } }`, { id: minorId, n: NOTES });
        expect(errorCodes(v)).toEqual(['INTERNAL_SERVER_ERROR']);
        const g = await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: MOTHER, name: "${NAME}", phone: "${PHONE}" }) { id } }`, { id: minorId });
        expect(errorCodes(g)).toEqual(['INTERNAL_SERVER_ERROR']);
        expect(JSON.stringify([v, g])).not.toMatch(/probe_|酗酒|13912345678|INSERT/);
      });
      for (const v of [NAME, PHONE, NOTES, '酗酒']) expect(logged).not.toContain(v);
    } finally {
      await t.sql(`ALTER TABLE registry.visit DROP CONSTRAINT probe_v; ALTER TABLE registry.guardian DROP CONSTRAINT probe_g`);
    }
  });
});
