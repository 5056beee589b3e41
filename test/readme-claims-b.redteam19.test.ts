import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Lexer, parse, Source, TokenKind } from 'graphql';
import { Department, Role } from '../src/auth/principal';
import { auditDocument } from '../src/audit/document-signature';
import { eventCount, eventOf, eventsOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * The README's "Limits" and "Audit trail" paragraphs, claim by claim, at their exact boundaries
 * (N served, N+1 refused), through the public endpoint, in process and with every subgraph served
 * alone (red team 19).
 */
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; readme-b' };
const tokens = (query: string) => {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
};
const aliased = (n: number, field: string, prefix = 'a') => Array.from({ length: n }, (_, i) => `${prefix}${i}: ${field}`).join(' ');

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('README limits at their boundaries, %s (redteam19)', (_mode, distributed) => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'readme-b-civil' });
  });
  afterAll(() => t?.stop());

  /** Refused with LIMIT_EXCEEDED, 413, no data, one event of that outcome with the caller and declared purpose. */
  async function refused(body: unknown, message: RegExp, headers: Record<string, string> = PURPOSE) {
    const before = await eventCount(t);
    const r = await post(t, civil, body, headers);
    expect([r.status, r.json?.data, r.json?.errors?.map((e: any) => e.extensions?.code)]).toEqual([413, undefined, ['LIMIT_EXCEEDED']]);
    expect(r.json.errors[0].message).toMatch(message);
    expect(await eventCount(t)).toBe(before + 1);
    const event = await eventOf(t, r.requestId);
    expect(event).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'], userId: 'readme-b-civil', reads: [], purpose: { code: 'CASE_HANDLING', reference: 'readme-b' } });
    return event;
  }
  async function served(body: unknown, headers: Record<string, string> = PURPOSE) {
    const r = await post(t, civil, body, headers);
    expect([r.status, r.json?.errors]).toEqual([200, undefined]);
    return r;
  }

  it('tokens: 5,000 served, 5,001 refused', async () => {
    const at = `{ ${aliased(1666, '__typename')} }`;
    expect(tokens(at)).toBe(5000);
    await served({ query: at });
    const over = `{ ${aliased(1666, '__typename')} __typename }`;
    expect(tokens(over)).toBe(5001);
    const event = await refused({ query: over }, /^Documents of more than 5000 tokens are not served$/);
    expect(event.document).toBeNull();
  });

  it('fragment definitions: 50 served, 51 refused, the event keeping the document', async () => {
    const doc = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `...F${i}`).join(' ')} } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { f${i}: __typename }`).join(' ')}`;
    await served({ query: doc(50) });
    const event = await refused({ query: doc(51) }, /^Documents defining more than 50 fragments are not served$/);
    expect(event.document).toContain('fragment F50 on Query');
  });

  it('fields, a fragment counted where it is spread and once where it is defined: 5,000 served, 5,001 refused', async () => {
    // 50 roots and 3 more fields, 97 fields of F spread under each root, and F's own 97: 5,000.
    const fragment = `fragment F on Minor { ${aliased(97, '__typename', 't')} }`;
    const roots = `${aliased(50, 'minor(id: $id) { ...F }', 'm')} ${aliased(3, '__typename', 'r')}`;
    const id = '00000000-0000-4000-8000-000000000000';
    await served({ query: `query($id: ID!) { ${roots} } ${fragment}`, variables: { id } });
    await refused({ query: `query($id: ID!) { ${roots} __typename } ${fragment}`, variables: { id } }, /^Operations selecting more than 5000 fields \(a fragment counted wherever it is spread and where it is defined\)/);
  });

  it('fields: a fragment is counted once more for its definition, which validation compares too (50 + 50 × 98 + 98 = 5,048 refused)', async () => {
    const fragment = `fragment F on Minor { ${aliased(98, '__typename', 't')} }`;
    const roots = aliased(50, 'minor(id: $id) { ...F }', 'm');
    await refused({ query: `query($id: ID!) { ${roots} } ${fragment}`, variables: { id: '00000000-0000-4000-8000-000000000000' } }, /^Operations selecting more than 5000 fields/);
  });

  it('fields: fragments spread in fragments are counted at every place they are spread, in the operation and in each definition that spreads them', async () => {
    // F0 spreads F1, which spreads F2, … F49: two fields each. Each root holds the 100 fields of the
    // 50 fragments and itself; each definition Fi the 2 × (50 − i) of those it reaches: 2,550.
    const fragments = Array.from({ length: 50 }, (_, i) => `fragment F${i} on Minor { f${i}a: __typename f${i}b: __typename${i < 49 ? ` ...F${i + 1}` : ''} }`).join(' ');
    const roots = (n: number) => aliased(n, 'minor(id: $id) { ...F0 }', 'm');
    const variables = { id: '00000000-0000-4000-8000-000000000000' };
    // 24 × 101 + 2,550 = 4,974 served; 25 × 101 + 2,550 = 5,075 refused.
    await served({ query: `query($id: ID!) { ${roots(24)} } ${fragments}`, variables });
    await refused({ query: `query($id: ID!) { ${roots(25)} } ${fragments}`, variables }, /^Operations selecting more than 5000 fields/);
  });

  it('depth: selections 12 deep served, 13 refused, in the operation and through a fragment', async () => {
    const chain = (parents: number) => `${'parent { '.repeat(parents)}code${' }'.repeat(parents)}`;
    // regions (1), ten parents (2–11), code (12).
    await served({ query: `{ regions { ${chain(10)} } }` });
    await refused({ query: `{ regions { ${chain(11)} } }` }, /^Selections deeper than 12 levels are not served$/);
    await served({ query: `{ regions { ...D } } fragment D on Region { ${chain(10)} }` });
    await refused({ query: `{ regions { ...D } } fragment D on Region { ${chain(11)} }` }, /^Selections deeper than 12 levels are not served$/);
  });

  it('operation text: 64 KiB (literals and ignored characters aside) served and kept whole, one character more refused and kept as its first 2 KiB and hash', async () => {
    const doc = (length: number) => `{ ${'x'.repeat(length - 13)}: __typename }`;
    const at = doc(65536);
    expect(auditDocument(parse(at)).text).toHaveLength(65536);
    const r = await served({ query: at });
    const kept = await eventOf(t, r.requestId);
    expect(kept.document).toHaveLength(65536);
    const over = doc(65537);
    const full = auditDocument(parse(over));
    expect(full.oversized).toBe(true);
    const event = await refused({ query: over }, /^Operations longer than 64 KiB/);
    expect(event.document.length).toBeLessThanOrEqual(2049);
    expect(event.documentHash).toBe(full.hash);
    expect(event.documentHash).toBe(createHash('sha256').update(`{${'x'.repeat(65537 - 13)}:__typename}`).digest('hex'));
    // A long literal is not counted: a 200 KB string argument is served.
    const literal = await post(t, civil, { query: `{ minor(id: "${'0'.repeat(200_000)}") { id } }` }, PURPOSE);
    expect(literal.status).not.toBe(413);
    expect((literal.json.errors ?? []).map((e: any) => e.extensions.code)).not.toContain('LIMIT_EXCEEDED');
  });

  it('declared variables: 100 served with 100 HMACs, 101 refused with the HMACs of 100', async () => {
    const doc = (n: number) => `query(${Array.from({ length: n }, (_, i) => `$v${i}: Boolean!`).join(', ')}) { ${Array.from({ length: n }, (_, i) => `a${i}: __typename @include(if: $v${i})`).join(' ')} }`;
    const vars = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, true]));
    const r = await served({ query: doc(100), variables: vars(100) });
    expect(Object.keys((await eventOf(t, r.requestId)).variables)).toHaveLength(100);
    const event = await refused({ query: doc(101), variables: vars(101) }, /^Operations declaring more than 100 variables are not served$/);
    expect(Object.keys(event.variables)).toHaveLength(100);
  });

  describe('the body: 1 MB', () => {
    const LIMIT = 1024 * 1024;
    /** A JSON body of exactly `bytes` bytes: a valid request with an undeclared variable as padding. */
    const body = (bytes: number) => {
      const shell = JSON.stringify({ query: '{ __typename }', variables: { pad: '' } });
      const text = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes - shell.length) } });
      expect(Buffer.byteLength(text)).toBe(bytes);
      return text;
    };
    const send = async (payload: Buffer | string, headers: Record<string, string>) => {
      const res = await fetch(t.hub.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${civil}`, ...PURPOSE, ...headers }, body: payload });
      return { status: res.status, requestId: res.headers.get('x-request-id')!, json: (await res.json()) as any };
    };
    const expectServed = (r: { status: number; json: any }) => expect([r.status, r.json.errors, r.json.data]).toEqual([200, undefined, { __typename: 'Query' }]);
    const expectRefused = async (r: { status: number; requestId: string; json: any }) => {
      expect([r.status, r.json.data, r.json.errors]).toEqual([413, undefined, [{ message: 'Request body too large', extensions: { code: 'LIMIT_EXCEEDED' } }]]);
      expect(await eventsOf(t, r.requestId)).toEqual([
        { seq: expect.any(Number), outcome: 'LIMIT_EXCEEDED', body: expect.objectContaining({ errorCodes: ['LIMIT_EXCEEDED'], userId: 'readme-b-civil', purpose: { code: 'CASE_HANDLING', reference: 'readme-b' } }) },
      ]);
    };

    it('plain: 1,048,576 bytes served, one more refused and audited', async () => {
      expectServed(await send(body(LIMIT), {}));
      await expectRefused(await send(body(LIMIT + 1), {}));
    });

    it('gzip and deflate: measured decompressed, at the limit served, one byte more refused', async () => {
      expectServed(await send(gzipSync(body(LIMIT)), { 'content-encoding': 'gzip' }));
      await expectRefused(await send(gzipSync(body(LIMIT + 1)), { 'content-encoding': 'gzip' }));
      expectServed(await send(deflateSync(body(LIMIT)), { 'content-encoding': 'deflate' }));
      await expectRefused(await send(deflateSync(body(LIMIT + 1)), { 'content-encoding': 'deflate' }));
      // A small bomb: 10 KB that inflates to 10 MB.
      await expectRefused(await send(gzipSync(body(10 * LIMIT)), { 'content-encoding': 'gzip' }));
    });

    it('chunked (no content-length): at the limit served, one byte more refused', async () => {
      const chunked = (text: string) =>
        new Promise<{ status: number; requestId: string; json: any }>((resolve, reject) => {
          const req = httpRequest(t.hub.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${civil}`, ...PURPOSE } }, (res) => {
            let s = '';
            res.on('data', (c) => (s += c));
            res.on('end', () => resolve({ status: res.statusCode!, requestId: String(res.headers['x-request-id']), json: JSON.parse(s) }));
          });
          req.on('error', reject);
          for (let i = 0; i < text.length; i += 65536) req.write(text.slice(i, i + 65536));
          req.end();
        });
      expectServed(await chunked(body(LIMIT)));
      await expectRefused(await chunked(body(LIMIT + 1)));
    });

    it('brotli: the limit is of the decompressed body, or the encoding is refused as unreadable', async () => {
      const at = await send(brotliCompressSync(body(LIMIT)), { 'content-encoding': 'br' });
      expect([200, 415]).toContain(at.status);
      if (at.status === 200) expectServed(at);
      const over = await send(brotliCompressSync(body(LIMIT + 1)), { 'content-encoding': 'br' });
      if (at.status === 200) await expectRefused(over);
      else expect(over.status).toBe(415);
    });

    it('charset parameters: UTF-8 however spelled is served; a charset body-parser cannot read is refused 415, typed and audited with the caller', async () => {
      for (const type of ['application/json; charset=UTF-8', 'application/json;charset=utf-8', 'application/json; charset="utf-8"', 'Application/JSON']) {
        const r = await send(body(1000), { 'content-type': type });
        expect([type, r.status, r.json.errors]).toEqual([type, 200, undefined]);
      }
      const r = await send(body(1000), { 'content-type': 'application/json; charset=iso-8859-1' });
      expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([415, undefined, ['BAD_USER_INPUT']]);
      const [only] = await eventsOf(t, r.requestId);
      expect(only.body).toMatchObject({ userId: 'readme-b-civil', errorCodes: ['BAD_USER_INPUT'], purpose: { code: 'CASE_HANDLING', reference: 'readme-b' } });
    });

    it('charset utf-16: the limit is of the bytes sent', async () => {
      const text = body(LIMIT / 2 - 2);
      const utf16 = Buffer.from(`\ufeff${text}`, 'utf16le');
      expect(utf16.length).toBe(LIMIT - 2);
      const r = await send(utf16, { 'content-type': 'application/json; charset=utf-16' });
      // Either served or refused as unreadable; never past the limit, never a 500.
      expect([200, 415]).toContain(r.status);
      const big = Buffer.from(`\ufeff${body(LIMIT / 2 + 2)}`, 'utf16le');
      const over = await send(big, { 'content-type': 'application/json; charset=utf-16' });
      expect([413, 415]).toContain(over.status);
    });
  });

  it('a list without paging: 50 guardians served, 51 refused for that child alone (null, LIMIT_EXCEEDED on its path, HTTP 200, PARTIAL, the read audited DENY)', async () => {
    const [{ id: a }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 3 LIMIT 1`);
    const [{ id: b }] = await t.sql(`SELECT id FROM registry.minor WHERE id <> $1 ORDER BY id OFFSET 4 LIMIT 1`, [a]);
    const [{ n: seeded }] = await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [a]);
    const [{ n: ofB }] = await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [b]);
    const guardians = async (n: number) => {
      await t.sql(`DELETE FROM registry.guardian WHERE minor_id = $1 AND name LIKE '红队监护人%'`, [a]);
      await t.sql(
        `INSERT INTO registry.guardian (id, minor_id, relationship, name, situation)
         SELECT gen_random_uuid(), $1, 'OTHER_RELATIVE', '红队监护人' || k, 'NORMAL' FROM generate_series(1, $2::int) k`,
        [a, n - seeded],
      );
    };
    const query = `query($a: ID!, $b: ID!) { a: minor(id: $a) { name guardians { name } } b: minor(id: $b) { name guardians { name } } }`;
    try {
      await guardians(50);
      const whole = await post(t, civil, { query, variables: { a, b } }, PURPOSE);
      expect([whole.status, whole.json.errors, whole.json.data.a.guardians.length]).toEqual([200, undefined, 50]);
      await guardians(51);
      const r = await post(t, civil, { query, variables: { a, b } }, PURPOSE);
      expect(r.status).toBe(200);
      expect([r.json.data.a.name, r.json.data.a.guardians, r.json.data.b.guardians.length]).toEqual([expect.any(String), null, ofB]);
      expect(r.json.errors.map((e: any) => [e.extensions.code, e.path])).toEqual([['LIMIT_EXCEEDED', ['a', 'guardians']]]);
      const event = await eventOf(t, r.requestId);
      expect(event).toMatchObject({ outcome: 'PARTIAL', errorCodes: ['LIMIT_EXCEEDED'] });
      expect(event.reads.find((c: any) => c.minorId === a).fields).toMatchObject({ 'Minor.name': 'ALLOW', 'Minor.guardians': 'DENY' });
    } finally {
      await guardians(seeded);
    }
  });

  it('outcome: the root\'s own __typename and introspection are no data — beside a child refused, the request is not PARTIAL', async () => {
    const street = await t.token(Department.CIVIL_AFFAIRS, { region: '330102001', user: 'readme-b-street' });
    const [{ id: other }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '330102001%' ORDER BY id LIMIT 1`);
    const plain = await post(t, street, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: other } }, PURPOSE);
    expect(plain.json.data?.minor ?? null).toBeNull();
    const baseline = (await eventOf(t, plain.requestId)).outcome;
    expect(baseline).not.toBe('PARTIAL');
    for (const query of [
      `query($id: ID!) { __typename minor(id: $id) { name } }`,
      `query($id: ID!) { t: __typename minor(id: $id) { name } }`,
      `query($id: ID!) { ...Q minor(id: $id) { name } } fragment Q on Query { kind: __typename }`,
      `query($id: ID!) { ... on Query { __typename } minor(id: $id) { name } }`,
      `query($id: ID!) { __type(name: "Minor") { name } minor(id: $id) { name } }`,
      `query($id: ID!) { s: __schema { queryType { name } } minor(id: $id) { name } }`,
    ]) {
      const r = await post(t, street, { query, variables: { id: other } }, PURPOSE);
      expect([query, r.json.data?.minor ?? null]).toEqual([query, null]);
      expect([query, (await eventOf(t, r.requestId)).outcome]).toEqual([query, baseline]);
    }
  });

  it('x-request-id is a UUID of version 7 beginning with its millisecond, and names the request\'s events', async () => {
    const before = Date.now();
    const r = await post(t, civil, { query: '{ __typename }' }, PURPOSE);
    const refused = await post(t, null, { query: '{ __typename }' }, PURPOSE);
    const after = Date.now();
    for (const id of [r.requestId, refused.requestId]) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before - 5);
      expect(ms).toBeLessThanOrEqual(after + 5);
      expect(await eventsOf(t, id)).toHaveLength(1);
    }
  });

  it('a request refused by the validation bound keeps, like every event, the names of the variables it declares with their HMACs', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    // 11 times one response name (refused in the HTTP layer) / 101 variables (refused in the plugin): the latter keeps them.
    const bound = `query Probe($id: ID!, $unused: String) { minor(id: $id) {${' name'.repeat(11)} } }`;
    const event = await refused({ query: bound, variables: { id, unused: 'x', undeclared: 'y' } }, /^Selecting one response name more than 10 times/);
    expect([event.operationName, event.operationType]).toEqual(['Probe', 'query']);
    expect(Object.keys(event.variables).sort()).toEqual(['id', 'unused']);
    // The same value served under the bound: the same HMAC.
    const ok = await post(t, civil, { query: `query Probe($id: ID!) { minor(id: $id) { name } }`, variables: { id } }, PURPOSE);
    expect([ok.status, ok.json.errors]).toEqual([200, undefined]);
    expect((await eventOf(t, ok.requestId)).variables).toEqual({ id: event.variables.id });
    // Refused by validation (a variable it never uses): named, with its variables' HMACs, all the same.
    const invalid = await post(t, civil, { query: `query Probe($id: ID!, $unused: String) { minor(id: $id) { name } }`, variables: { id, unused: 'x' } }, PURPOSE);
    expect([invalid.status, invalid.json.errors[0].extensions.code]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    const invalidEvent = await eventOf(t, invalid.requestId);
    expect([invalidEvent.operationName, invalidEvent.operationType, invalidEvent.variables]).toEqual(['Probe', 'query', event.variables]);
  });

  it('a body that is not JSON (read ahead by the compiled reads\' listener) is refused BAD_USER_INPUT, audited with the caller and the purpose declared', async () => {
    const r = await post(t, civil, '{"query": "{ __typename }", ', PURPOSE);
    expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([400, undefined, ['BAD_USER_INPUT']]);
    const [only] = await eventsOf(t, r.requestId);
    expect(only.body).toMatchObject({ userId: 'readme-b-civil', errorCodes: ['BAD_USER_INPUT'], purpose: { code: 'CASE_HANDLING', reference: 'readme-b' } });
  });

  it('a request Apollo Server refuses after the document parsed (variables not an object) keeps its operation and document in its event', async () => {
    const r = await post(t, civil, { query: 'query Look($id: ID!) { minor(id: $id) { name } }', variables: '{"id":"x"}' }, PURPOSE);
    expect(r.status).toBe(400);
    expect(r.json.data).toBeUndefined();
    const [only] = await eventsOf(t, r.requestId);
    expect(only.body).toMatchObject({ userId: 'readme-b-civil', purpose: { code: 'CASE_HANDLING', reference: 'readme-b' } });
    expect([only.body.operationName, only.body.document]).toEqual(['Look', expect.stringContaining('minor(id:$id)')]);
  });

  it('inline fragments nested a thousand deep (within 5,000 tokens): answered, or refused LIMIT_EXCEEDED, quickly and never a 500', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    for (const [query, variables] of [
      [`{ ${'... on Query { '.repeat(995)}__typename${' }'.repeat(995)} }`, {}],
      [`{ regions { ${'... on Region { '.repeat(990)}code${' }'.repeat(990)} } }`, {}],
      [`query($id: ID!) { minor(id: $id) { ${'... on Minor { '.repeat(990)}name schoolEnrollments { id }${' }'.repeat(990)} } }`, { id }],
    ] as const) {
      expect(tokens(query)).toBeLessThanOrEqual(5000);
      const started = performance.now();
      const r = await post(t, civil, { query, variables }, PURPOSE);
      const took = performance.now() - started;
      expect([query.slice(0, 40), r.status === 200 || (r.status === 413 && r.json.errors[0].extensions.code === 'LIMIT_EXCEEDED')]).toEqual([query.slice(0, 40), true]);
      if (r.status === 200) expect(r.json.errors).toBeUndefined();
      expect(took).toBeLessThan(3000);
    }
  });

  it('a batch (a JSON array) is refused whole, executes nothing, and leaves one event', async () => {
    const before = await eventCount(t);
    const [{ n: visits }] = await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE outcome = 'STARTED'`);
    const r = await post(t, civil, [{ query: '{ __typename }' }, { query: 'mutation { __typename }' }], PURPOSE);
    expect(r.status).toBe(400);
    expect(r.json.data).toBeUndefined();
    expect(await eventCount(t)).toBe(before + 1);
    const [{ n: after }] = await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE outcome = 'STARTED'`);
    expect(after).toBe(visits);
    const [only] = await eventsOf(t, r.requestId);
    expect(only.body).toMatchObject({ userId: 'readme-b-civil', purpose: { code: 'CASE_HANDLING', reference: 'readme-b' } });
    expect(only.outcome).not.toBe('SUCCESS');
  });
});

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('README audit-trail claims at their boundaries, %s (redteam19)', (_mode, distributed) => {
  let t: TestHub;
  let auditor: string;
  let child: string;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'readme-b-auditor' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    // Some events in the trail, one of them naming the child.
    const officer = await t.token(Department.CIVIL_AFFAIRS, { user: 'readme-b-officer' });
    for (let i = 0; i < 3; i++) await t.gql(officer, `query($id: ID!) { minor(id: $id) { name } }`, { id: child });
  });
  afterAll(() => t?.stop());

  const codes = (r: { json: any }) => (r.json.errors ?? []).map((e: any) => e.extensions?.code);

  it('auditVerify: 10,000 anchors of the longest sequence numbers (a 1 MB body) served, 10,001 refused BAD_USER_INPUT', async () => {
    const [{ hash }] = await t.sql(`SELECT hash FROM audit.event ORDER BY seq LIMIT 1`);
    const anchors = (n: number) => [{ seq: '1', hash }, ...Array.from({ length: n - 1 }, () => ({ seq: '999999999999999', hash }))];
    const query = 'query($a: [AuditChainAnchor!]) { auditVerify(anchors: $a) { ok anchorsChecked firstBreak { reason } } }';
    const body = { query, variables: { a: anchors(10_000) } };
    expect(JSON.stringify(body).length).toBeGreaterThan(1_000_000);
    expect(JSON.stringify(body).length).toBeLessThanOrEqual(1024 * 1024);
    const r = await post(t, auditor, body, {});
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
    expect(r.json.data.auditVerify).toMatchObject({ ok: false, anchorsChecked: 1, firstBreak: { reason: expect.stringMatching(/TRUNCATED/) } });
    const over = await post(t, auditor, { query, variables: { a: anchors(10_001) } }, {});
    expect(codes(over)).toEqual(['BAD_USER_INPUT']);
    expect(over.json.data?.auditVerify ?? null).toBeNull();
  });

  it('minorAccessHistory: first 1000 served, 1001 and 0 refused BAD_USER_INPUT, the refused look-ups recording no read of the child', async () => {
    const q = (first: number) => ({ query: `query($m: ID!) { minorAccessHistory(minorId: $m, first: ${first}) { seq userId } }`, variables: { m: child } });
    const ok = await post(t, auditor, q(1000), {});
    expect([ok.status, ok.json.errors]).toEqual([200, undefined]);
    expect(ok.json.data.minorAccessHistory.length).toBeGreaterThanOrEqual(3);
    expect((await eventOf(t, ok.requestId)).reads).toEqual([expect.objectContaining({ minorId: child, fields: { 'Query.minorAccessHistory': 'ALLOW' } })]);
    for (const first of [1001, 0]) {
      const r = await post(t, auditor, q(first), {});
      expect([first, codes(r)]).toEqual([first, ['BAD_USER_INPUT']]);
      expect((await eventOf(t, r.requestId)).reads).toEqual([]);
    }
  });

  it('auditEvents: first 500 served, 501 refused BAD_USER_INPUT', async () => {
    const q = (first: number) => ({ query: `{ auditEvents(first: ${first}) { edges { node { seq } } pageInfo { hasNextPage } } }` });
    const ok = await post(t, auditor, q(500), {});
    expect([ok.status, ok.json.errors]).toEqual([200, undefined]);
    const r = await post(t, auditor, q(501), {});
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('the trail answers each field once: a field selected twice under its one name, or through a fragment spread twice, is served; under two names refused before the child is recorded', async () => {
    const same = await post(t, auditor, {
      query: `query($m: ID!) { auditEvents(first: 5, filter: { minorId: $m }) { edges { node { seq userId seq ...E } } ...P } }
              fragment E on AuditEvent { seq outcome }
              fragment P on AuditEventConnection { edges { node { ...E } } }`,
      variables: { m: child },
    }, {});
    expect([same.status, same.json.errors]).toEqual([200, undefined]);
    expect(same.json.data.auditEvents.edges.length).toBeGreaterThan(0);
    const history = await post(t, auditor, { query: `query($m: ID!) { minorAccessHistory(minorId: $m, first: 5) { seq ... on MinorAccess { seq userId } } }`, variables: { m: child } }, {});
    expect([history.status, history.json.errors]).toEqual([200, undefined]);
    for (const query of [
      `query($m: ID!) { auditEvents(first: 5, filter: { minorId: $m }) { edges { node { seq other: seq } } } }`,
      `query($m: ID!) { minorAccessHistory(minorId: $m, first: 5) { seq ... on MinorAccess { other: seq } } }`,
    ]) {
      const r = await post(t, auditor, { query, variables: { m: child } }, {});
      expect(codes(r)).toEqual(['LIMIT_EXCEEDED']);
      const event = await eventOf(t, r.requestId);
      expect([event.outcome, event.reads]).toEqual(['LIMIT_EXCEEDED', []]);
    }
  });

  it('a field the client selects once, under an alias of its own (`kind: __typename`), is served by the trail\'s queries', async () => {
    for (const query of [
      `{ auditEvents(first: 1) { edges { node { kind: __typename seq } } } }`,
      `{ auditEvents(first: 1) { kind: __typename edges { node { seq } } } }`,
      `query($m: ID!) { minorAccessHistory(minorId: $m, first: 1) { kind: __typename seq } }`,
      `{ auditAnomalies { k: __typename kind } }`,
      `{ auditVerify { k: __typename ok } }`,
    ]) {
      const r = await post(t, auditor, { query, variables: { m: child } }, {});
      expect([query, r.status, r.json.errors]).toEqual([query, 200, undefined]);
    }
  });

  it('filters: an empty requestId, userId, department or minorId is BAD_USER_INPUT; a userId or department refused only for U+0000 or a lone surrogate', async () => {
    const q = 'query($f: AuditEventFilter) { auditEvents(first: 1, filter: $f) { edges { node { seq } } } }';
    for (const f of [{ requestId: '' }, { userId: '' }, { department: '' }, { minorId: '' }, { userId: 'a\u0000b' }, { department: '\ud800' }, { userId: 'x\udc00' }]) {
      const r = await post(t, auditor, { query: q, variables: { f } }, {});
      expect([f, codes(r)]).toEqual([f, ['BAD_USER_INPUT']]);
    }
    for (const f of [{ userId: 'a\u0007b' }, { department: 'POLICE\u202e' }, { userId: '\u200b' }, { userId: '😀' }]) {
      const r = await post(t, auditor, { query: q, variables: { f } }, {});
      expect([f, r.status, r.json.errors, r.json.data.auditEvents.edges]).toEqual([f, 200, undefined, []]);
    }
    // An id as the caller quotes it, in capitals, finds the request's events.
    const [{ request_id: rid }] = await t.sql(`SELECT request_id::text FROM audit.event ORDER BY seq DESC LIMIT 1`);
    const found = await post(t, auditor, { query: q, variables: { f: { requestId: rid.toUpperCase() } } }, {});
    expect([found.json.errors, found.json.data.auditEvents.edges.length]).toEqual([undefined, 1]);
  });

  it('each trail root field once per request: a second alias of auditVerify, auditAnomalies, auditEvents or minorAccessHistory is LIMIT_EXCEEDED', async () => {
    for (const [a, b] of [
      ['auditVerify { ok }', 'auditVerify { ok }'],
      ['auditAnomalies { kind }', 'auditAnomalies { kind }'],
      ['auditEvents(first: 1) { edges { node { seq } } }', 'auditEvents(first: 1) { edges { node { seq } } }'],
      [`minorAccessHistory(minorId: "${child}", first: 1) { seq }`, `minorAccessHistory(minorId: "${child}", first: 1) { seq }`],
    ]) {
      const r = await post(t, auditor, { query: `{ x: ${a} y: ${b} }` }, {});
      expect([a, codes(r)]).toEqual([a, ['LIMIT_EXCEEDED']]);
      expect(r.json.data.x).not.toBeNull();
      expect(r.json.data.y).toBeNull();
    }
  });
});
