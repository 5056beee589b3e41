import type { DataSource } from 'typeorm';

/**
 * Known jurisdiction codes, so that a token naming a region that does not exist is refused
 * instead of silently seeing nothing. Reloaded at most every 30 s on a miss.
 */
export class RegionDirectory {
  private codes = new Set<string>();
  private loadedAt = 0;

  constructor(private readonly ds: DataSource) {}

  async has(code: string): Promise<boolean> {
    if (this.codes.has(code)) return true;
    if (Date.now() - this.loadedAt > 30_000) {
      const rows: { code: string }[] = await this.ds.query('SELECT code FROM registry.region');
      this.codes = new Set(rows.map((r) => r.code));
      this.loadedAt = Date.now();
    }
    return this.codes.has(code);
  }
}
