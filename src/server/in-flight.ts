import type http from 'node:http';

interface Entry {
  res: http.ServerResponse | null;
  prev: Entry | null;
  next: Entry | null;
}

/**
 * The responses a listener has started and not yet closed, for its stop. Not a Set: a Set that
 * lives as long as the server and takes and drops an entry per request is rehashed every few dozen
 * requests, and V8 links each table it leaves to the next one (for iterators) without clearing it.
 * Once one such table has been promoted to the old generation, the scavenger keeps the chain behind
 * it alive until the next full collection, and with each table the responses in flight when it was
 * left, each holding its whole request: about 1.3 MB of requests promoted at every scavenge under
 * single-child load, against 0.01 MB with this list (bench/optimisations.md, entry 52). An entry taken
 * out is emptied, so a promoted one holds nothing.
 */
export class InFlight {
  private readonly head: Entry = { res: null, prev: null, next: null };

  constructor() {
    this.head.prev = this.head.next = this.head;
  }

  /** Counts `res` in; the function returned takes it out (once; later calls do nothing). */
  add(res: http.ServerResponse): () => void {
    const last = this.head.prev!;
    const entry: Entry = { res, prev: last, next: this.head };
    last.next = entry;
    this.head.prev = entry;
    return () => {
      if (!entry.res) return;
      entry.prev!.next = entry.next;
      entry.next!.prev = entry.prev;
      entry.res = entry.prev = entry.next = null;
    };
  }

  /** The responses in flight, oldest first. */
  *[Symbol.iterator](): IterableIterator<http.ServerResponse> {
    for (let e = this.head.next!; e !== this.head; e = e.next!) yield e.res!;
  }
}
