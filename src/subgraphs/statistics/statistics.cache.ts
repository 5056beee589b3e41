import type { DataSource } from 'typeorm';
import type { ProtectedTable, TableOptions } from './statistics.cube';
import type { Summaries } from './statistics.refresh';

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
  /** The newest summaries seen (statistics.refresh.ts); only their tables are kept. */
  private current: Summaries | null = null;
  private cells = 0;
  /** In use order, least recently used first. */
  private readonly tables = new Map<string, { table: CachedTable; opts: TableOptions }>();
  /** The questions cached for the summaries before the current ones, most recently used first. */
  private previous: TableOptions[] = [];
  /** The computations under way, by summaries and question. */
  private readonly running = new Map<string, Promise<CachedTable>>();

  async get(summaries: Summaries, key: string, opts: TableOptions, compute: () => Promise<CachedTable>): Promise<ProtectedTable> {
    this.see(summaries);
    // A snapshot taken before the last refresh seen: its tables are answered, never kept.
    if (!this.isCurrent(summaries)) return this.once(summaries, key, compute);
    const hit = this.tables.get(key);
    if (hit) {
      this.tables.delete(key);
      this.tables.set(key, hit);
      return hit.table;
    }
    const table = await this.once(summaries, key, compute);
    // A newer refresh may have been seen while this one was computed.
    if (!this.isCurrent(summaries) || table.size > CACHE_CELLS || this.tables.has(key)) return table;
    this.tables.set(key, { table, opts });
    this.cells += table.size;
    for (const [old, t] of this.tables) {
      if (this.cells <= CACHE_CELLS) break;
      this.tables.delete(old);
      this.cells -= t.table.size;
    }
    return table;
  }

  /**
   * One computation of a question on the same summaries at a time, whoever asks: after a refresh a
   * burst of dashboards asking the same first question each computed the whole lattice, taking turns
   * (the exact check yields), and each answer's snapshot, idle meanwhile, outlived the statement
   * timeout (DATABASE_UNAVAILABLE for all of them). A request that waited on another's computation
   * and saw it fail computes itself: the failure may be that other request's (its snapshot ended).
   */
  private async once(summaries: Summaries, key: string, compute: () => Promise<CachedTable>): Promise<CachedTable> {
    const id = `${summaries.generation}/${summaries.at.getTime()}/${key}`;
    const running = this.running.get(id);
    if (running) return running.catch(compute);
    const computing = compute();
    this.running.set(id, computing);
    try {
      return await computing;
    } finally {
      this.running.delete(id);
    }
  }

  /**
   * Drops the tables of older summaries once newer ones are seen, remembering what was asked.
   * Newer: a generation or a stamp past the current one's, or the same generation stamped
   * otherwise. Either alone can go back — the stamp with the database's clock, the generation with
   * a failover to a standby that missed a refresh, or a restore — and the other then moves on; a
   * snapshot older than the current summaries has both behind. Summaries whose generation came
   * back to the current one after a failover, on other data, are not the current ones.
   */
  see(summaries: Summaries): void {
    const c = this.current;
    if (c && !(summaries.generation > c.generation || summaries.at > c.at || (summaries.generation === c.generation && summaries.at.getTime() !== c.at.getTime()))) return;
    this.previous = [...this.tables.values()].reverse().map((e) => e.opts);
    this.tables.clear();
    this.cells = 0;
    this.current = summaries;
  }

  private isCurrent(summaries: Summaries): boolean {
    return summaries.generation === this.current!.generation && summaries.at.getTime() === this.current!.at.getTime();
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
