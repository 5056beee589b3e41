import type http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { InFlight } from '../src/server/in-flight';

/**
 * The listener's record of the responses in flight (src/server/in-flight.ts): what a stop sees, and
 * that what a request leaves behind in it does not outlive the request through the young
 * generation's collections, as it did in a long-lived Set.
 */
const response = (name: string) => ({ name }) as unknown as http.ServerResponse;
const names = (inFlight: InFlight) => [...inFlight].map((r) => (r as unknown as { name: string }).name);

test('a stop sees the responses still in flight, oldest first, each once', () => {
  const inFlight = new InFlight();
  const leaveA = inFlight.add(response('a'));
  const leaveB = inFlight.add(response('b'));
  inFlight.add(response('c'));
  expect(names(inFlight)).toEqual(['a', 'b', 'c']);
  leaveB();
  leaveB(); // a response's and its socket's `close` may both come: the second does nothing
  expect(names(inFlight)).toEqual(['a', 'c']);
  leaveA();
  inFlight.add(response('d'));
  expect(names(inFlight)).toEqual(['c', 'd']);
});

describe('requests that have left are not kept through scavenges', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
  const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

  /**
   * 20,000 requests of about 5 KB each, 10 in flight at a time, through a record that lives as long
   * as the server, the young generation collected every 500 requests: what the old generation grew
   * by across those collections is what they promoted (a full collection V8 starts on its own in
   * between shrinks it, and is not counted against the promotions before it).
   */
  function promotedThrough(record: { add(res: http.ServerResponse): () => void }): number {
    gc();
    gc();
    let promoted = 0;
    let last = oldSpace();
    const inFlight: (() => void)[] = [];
    for (let i = 1; i <= 20_000; i++) {
      const res = { payload: Array.from({ length: 100 }, (_, k) => ({ k })) } as unknown as http.ServerResponse;
      inFlight.push(record.add(res));
      if (inFlight.length > 10) inFlight.shift()!();
      if (i % 500 === 0) {
        gc({ type: 'minor' });
        const now = oldSpace();
        promoted += Math.max(0, now - last);
        last = now;
      }
    }
    return promoted;
  }

  test('through the InFlight list: nothing but the requests in flight', () => {
    expect(promotedThrough(new InFlight())).toBeLessThan(1_000_000);
  });

  test('through a Set (what the listener used): every request in flight at each rehash, and the requests they reach', () => {
    const set = new Set<http.ServerResponse>();
    const record = { add: (res: http.ServerResponse) => (set.add(res), () => void set.delete(res)) };
    expect(promotedThrough(record)).toBeGreaterThan(10_000_000);
  });
});
