import { auditEvent } from '../src/audit/audit-event';
import { AuditOutcome } from '../src/audit/audit.types';
import { canonicalJson } from '../src/audit/canonical';
import { AccessLog } from '../src/audit/access-log';
import { Access } from '../src/policy/policy.types';

/** The definition, written plainly: keys sorted at every level, undefined members dropped. */
function reference(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toJSON();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : reference(v)));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined && typeof v !== 'function') out[key] = reference(v);
  }
  return out;
}
const sortedText = (value: unknown) => {
  // An object enumerates integer-like keys first whatever the insertion order: write key by key.
  const write = (v: unknown): string =>
    v === null || typeof v !== 'object'
      ? JSON.stringify(v) ?? 'null'
      : Array.isArray(v)
        ? `[${v.map(write).join(',')}]`
        : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return write(reference(value));
};

describe('canonical JSON of audit events', () => {
  const cases: [string, unknown][] = [
    ['keys out of order at every level', { b: 1, a: { d: [{ y: 1, x: 2 }], c: null } }],
    ['keys already in order', { a: { c: null, d: [{ x: 2, y: 1 }] }, b: 'é 中 😀 "quoted" \\ back' }],
    ['undefined members and holes', { b: [undefined, 1], a: undefined, c: { z: undefined } }],
    ['integer-like keys, which objects enumerate first', { a: 3, '2': 2, '10': 1 }],
    ['dates, as JSON.stringify writes them', { t: new Date(0), n: [new Date(1000)] }],
    ['functions dropped like undefined', { f: () => 1, a: 1 }],
    ['scalars', 'text'],
    ['an empty object and array', { b: [], a: {} }],
  ];
  it.each(cases)('%s', (_name, value) => {
    expect(canonicalJson(value)).toBe(sortedText(value));
  });

  it('groups the children read alike, whatever order their fields resolved in', () => {
    const access = new AccessLog();
    access.read('m3', 'Minor.name', Access.ALLOW);
    access.read('m3', 'Minor.id', Access.ALLOW);
    access.read('m1', 'Minor.id', Access.ALLOW);
    access.read('m1', 'Minor.name', Access.ALLOW);
    access.read('m2', 'Minor.id', Access.ALLOW);
    access.read('m2', 'Minor.name', Access.DENY);
    access.read('m4', 'Minor.id', Access.ALLOW);
    access.read('m4', 'Minor.name', Access.DENY);
    access.read('m4', 'Minor.name', Access.ALLOW); // denied on one path, served on another: served
    access.read('m5', 'Minor.id', Access.ALLOW);
    access.read('m5', 'Minor.name', Access.ALLOW);
    access.read('m5', 'Minor.name', Access.DENY); // … in either order
    access.read('m6', 'Minor.id', Access.ALLOW);
    access.read('m6', 'Minor.name', Access.MASK);
    access.read('m6', 'Minor.name', Access.ALLOW); // masked on one path, exact on another: exact
    access.read('m7', 'Minor.id', Access.ALLOW);
    access.read('m7', 'Minor.name', Access.ALLOW);
    access.read('m7', 'Minor.name', Access.MASK); // … in either order
    access.read('m8', 'Minor.id', Access.ALLOW);
    access.read('m8', 'Minor.name', Access.DENY);
    access.read('m8', 'Minor.name', Access.MASK); // denied and masked: masked
    expect(access.forEvent().reads).toEqual([
      { fields: { 'Minor.id': 'ALLOW', 'Minor.name': 'ALLOW' }, minorIds: ['m1', 'm3', 'm4', 'm5', 'm6', 'm7'] },
      { fields: { 'Minor.id': 'ALLOW', 'Minor.name': 'DENY' }, minorIds: ['m2'] },
      { fields: { 'Minor.id': 'ALLOW', 'Minor.name': 'MASK' }, minorIds: ['m8'] },
    ]);
  });

  it('groups children alike however many kinds of reads a request mixes (each child against a plain grouping)', () => {
    const access = new AccessLog();
    const plain = new Map<string, Record<string, Access>>();
    const kinds = [Access.ALLOW, Access.MASK, Access.DENY];
    for (let i = 0; i < 600; i++) {
      const minorId = `m${String((i * 7919) % 600).padStart(3, '0')}`;
      const fields: Record<string, Access> = {};
      // 30 shapes: which of five fields were read, and how the last one was served; in varying order.
      const shape = i % 30;
      const names = ['Minor.id', 'Minor.name', 'Guardian.phone', 'Minor.address', 'Minor.riskLevel'].filter((_, k) => k === 0 || shape & (1 << (k % 4)));
      if (i % 2) names.reverse();
      names.forEach((name, k) => (fields[name] = k === names.length - 1 ? kinds[shape % 3] : Access.ALLOW));
      for (const [name, served] of Object.entries(fields)) access.read(minorId, name, served);
      plain.set(minorId, fields);
    }
    const expected = new Map<string, { fields: Record<string, Access>; minorIds: string[] }>();
    for (const minorId of [...plain.keys()].sort()) {
      const fields = Object.fromEntries(Object.entries(plain.get(minorId)!).sort(([a], [b]) => (a < b ? -1 : 1)));
      const key = JSON.stringify(fields);
      if (!expected.has(key)) expected.set(key, { fields, minorIds: [] });
      expected.get(key)!.minorIds.push(minorId);
    }
    expect(expected.size).toBeGreaterThan(8);
    expect(access.forEvent().reads).toEqual([...expected.values()]);
  });

  it('builds events whose keys are in canonical order already, down to each child read', () => {
    const access = new AccessLog();
    access.read('m2', 'Minor.name', Access.ALLOW);
    access.read('m1', 'Minor.riskLevel', Access.MASK);
    access.read('m1', 'Minor.id', Access.ALLOW);
    access.changed({ fields: ['input.notes'], id: 'v1', minorId: 'm1', mutation: 'recordVisit' });
    const event = auditEvent({
      requestId: 'r',
      startedAt: performance.now(),
      principal: { userId: 'u', department: 'POLICE', role: 'OFFICER', region: '330102' } as never,
      clientAddress: null,
      outcome: AuditOutcome.SUCCESS,
      errorCodes: [],
      purpose: { code: 'CASE_HANDLING' } as never,
      variables: { b: 'x', a: 'y' },
      access: access.forEvent(),
    });
    const inOrder = (v: unknown): boolean =>
      v === null || typeof v !== 'object' || (Array.isArray(v) ? v.every(inOrder) : Object.keys(v).every((k, i, ks) => (!i || ks[i - 1] < k) && inOrder((v as Record<string, unknown>)[k])));
    expect(inOrder(event)).toBe(false); // the variables were given out of order …
    event.variables = { a: 'y', b: 'x' }; // … hashVariables writes them in order (below)
    expect(inOrder(event)).toBe(true);
    expect(canonicalJson(event)).toBe(JSON.stringify(event));
    expect(canonicalJson(event)).toBe(sortedText(event));
  });
});
