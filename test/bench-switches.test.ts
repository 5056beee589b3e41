import { Department } from '../src/auth/principal';
import { eventCount, eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/**
 * HUB_BENCH_DISABLE (benchmarks only, refused in production): each switch turns off its own
 * protection and nothing else, so that bench/RESULTS.md's ON / OFF ratios price that protection.
 * Education reads ID numbers masked and may not read birth dates (docs/permissions.md).
 */
describe('benchmark switches', () => {
  const query = `{ minors(first: 2) { edges { node { id idNumber birthDate } } } }`;
  const single = `query Child($id: ID!) { minor(id: $id) { id idNumber birthDate } }`;
  const stored = async (t: TestHub, id: string) => (await t.sql(`SELECT id_number FROM registry.minor WHERE id = $1`, [id]))[0].id_number;

  describe('policy off', () => {
    let t: TestHub;
    beforeAll(async () => {
      t = await startTestHub({ benchDisable: { policy: true, audit: false, compiled: false } });
    });
    afterAll(() => t.stop());

    it('serves every field unmasked, and still audits each field read', async () => {
      const r = await post(t, await t.token(Department.EDUCATION), { query });
      expect(r.json.errors).toBeUndefined();
      const nodes = r.json.data.minors.edges.map((e: any) => e.node);
      expect(nodes).toHaveLength(2);
      for (const node of nodes) {
        expect(node.idNumber).toBe(await stored(t, node.id));
        expect(node.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
      const event = await eventOf(t, r.requestId);
      expect(event.outcome).toBe('SUCCESS');
      expect(event.reads.map((x: any) => x.minorId)).toEqual(nodes.map((n: any) => n.id).sort());
      for (const read of event.reads) expect(read.fields).toEqual({ 'MinorEdge.node': 'ALLOW', 'Minor.id': 'ALLOW', 'Minor.idNumber': 'ALLOW', 'Minor.birthDate': 'ALLOW' });
    });

    it('lets compiled reads serve what it serves, audited the same way', async () => {
      const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const before = t.hub.compiledReadsServed();
      const r = await post(t, await t.token(Department.EDUCATION), { query: single, variables: { id } });
      expect(t.hub.compiledReadsServed()).toBe(before! + 1);
      expect(r.json).toEqual({ data: { minor: { id, idNumber: await stored(t, id), birthDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) } } });
      const event = await eventOf(t, r.requestId);
      expect(event.reads).toEqual([{ minorId: id, fields: { 'Minor.birthDate': 'ALLOW', 'Minor.id': 'ALLOW', 'Minor.idNumber': 'ALLOW' } }]);
    });
  });

  describe('audit off', () => {
    let t: TestHub;
    beforeAll(async () => {
      t = await startTestHub({ benchDisable: { policy: false, audit: true, compiled: false } });
    });
    afterAll(() => t.stop());

    it('writes no event, and refuses and masks as the policy says', async () => {
      const before = await eventCount(t);
      const r = await post(t, await t.token(Department.EDUCATION), { query });
      expect(errorCodes(r.json)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      const nodes = r.json.data.minors.edges.map((e: any) => e.node);
      expect(nodes).toHaveLength(2);
      for (const node of nodes) {
        expect(node.birthDate).toBeNull();
        expect(node.idNumber).not.toBe(await stored(t, node.id));
        expect(node.idNumber).toMatch(/\*/);
      }
      expect(await eventCount(t)).toBe(before);
    });

    it('writes no event for a compiled read either', async () => {
      const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const before = await eventCount(t);
      const served = t.hub.compiledReadsServed();
      const r = await post(t, await t.token(Department.POLICE), { query: single, variables: { id } });
      expect(r.json).toEqual({ data: { minor: { id, idNumber: await stored(t, id), birthDate: expect.any(String) } } });
      expect(t.hub.compiledReadsServed()).toBe(served! + 1);
      expect(await eventCount(t)).toBe(before);
    });
  });
});
