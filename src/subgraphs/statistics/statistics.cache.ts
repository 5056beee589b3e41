import type { DataSource } from 'typeorm';
import type { ProtectedTable } from './statistics.cube';

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
  /** The newest refresh stamp seen; only tables of these summaries are kept. */
  private refreshedAt = -Infinity;
  private cells = 0;
  /** In use order, least recently used first. */
  private readonly tables = new Map<string, CachedTable>();

  async get(refreshedAt: number, key: string, compute: () => Promise<CachedTable>): Promise<ProtectedTable> {
    if (refreshedAt > this.refreshedAt) {
      this.tables.clear();
      this.cells = 0;
      this.refreshedAt = refreshedAt;
    }
    // A snapshot taken before the last refresh seen: its tables are answered, never kept.
    if (refreshedAt < this.refreshedAt) return compute();
    const hit = this.tables.get(key);
    if (hit) {
      this.tables.delete(key);
      this.tables.set(key, hit);
      return hit;
    }
    const table = await compute();
    // A newer refresh may have been seen while this one was computed.
    if (refreshedAt !== this.refreshedAt || table.size > CACHE_CELLS || this.tables.has(key)) return table;
    this.tables.set(key, table);
    this.cells += table.size;
    for (const [old, t] of this.tables) {
      if (this.cells <= CACHE_CELLS) break;
      this.tables.delete(old);
      this.cells -= t.size;
    }
    return table;
  }
}

// Per database, not per process: two hubs of one process (tests) may have equal refresh stamps on
// different data.
const caches = new WeakMap<DataSource, TableCache>();

export function tableCache(ds: DataSource): TableCache {
  let cache = caches.get(ds);
  if (!cache) caches.set(ds, (cache = new TableCache()));
  return cache;
}
