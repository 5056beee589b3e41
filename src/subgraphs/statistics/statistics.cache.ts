import type { DataSource } from 'typeorm';
import type { ProtectedTable, TableOptions } from './statistics.cube';

/*
 * Protected tables are deterministic between two refreshes: the same question on the same
 * summaries gets the same cells and the same suppression, whoever asks. Computing a large one
 * (an officer's grid table: a lattice of 60,000 cells) costs far more than cutting a cached one to
 * the caller's jurisdiction, which every request still does itself.
 */

/** Lattice cells kept per database, summed over the cached tables: about 20 MB (docs/statistics.md). */
export const CACHE_CELLS = 250_000;

type CachedTable = ProtectedTable & { size: number };

class TableCache {
  /** The newest generation of the summaries seen (statistics.refresh.ts); only its tables are kept. */
  private generation = -Infinity;
  private cells = 0;
  /** In use order, least recently used first. */
  private readonly tables = new Map<string, { table: CachedTable; opts: TableOptions }>();
  /** The questions cached for the summaries before the current ones, most recently used first. */
  private previous: TableOptions[] = [];

  async get(generation: number, key: string, opts: TableOptions, compute: () => Promise<CachedTable>): Promise<ProtectedTable> {
    this.see(generation);
    // A snapshot taken before the last refresh seen: its tables are answered, never kept.
    if (generation < this.generation) return compute();
    const hit = this.tables.get(key);
    if (hit) {
      this.tables.delete(key);
      this.tables.set(key, hit);
      return hit.table;
    }
    const table = await compute();
    // A newer refresh may have been seen while this one was computed.
    if (generation !== this.generation || table.size > CACHE_CELLS || this.tables.has(key)) return table;
    this.tables.set(key, { table, opts });
    this.cells += table.size;
    for (const [old, t] of this.tables) {
      if (this.cells <= CACHE_CELLS) break;
      this.tables.delete(old);
      this.cells -= t.table.size;
    }
    return table;
  }

  /** Drops the tables of older summaries once newer ones are seen, remembering what was asked. */
  see(generation: number): void {
    if (generation <= this.generation) return;
    this.previous = [...this.tables.values()].reverse().map((e) => e.opts);
    this.tables.clear();
    this.cells = 0;
    this.generation = generation;
  }

  /** The questions of the previous summaries, handed out once (to the warm-up after a refresh). */
  takePrevious(): TableOptions[] {
    const previous = this.previous;
    this.previous = [];
    return previous;
  }
}

// Per database, not per process: two hubs of one process (tests) may have equal generations on
// different data.
const caches = new WeakMap<DataSource, TableCache>();

export function tableCache(ds: DataSource): TableCache {
  let cache = caches.get(ds);
  if (!cache) caches.set(ds, (cache = new TableCache()));
  return cache;
}
