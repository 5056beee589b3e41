import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

/** COPY text-format encoding of one value: \N for null, backslash escapes for tab/newline. */
function encode(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = v instanceof Date ? v.toISOString() : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * Streams rows into a table with COPY … FROM STDIN: one round trip per table instead of one per
 * row. `rows` is pulled lazily, so a million rows never sit in memory at once.
 */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: Iterable<unknown[]>): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  function* lines() {
    let batch = '';
    for (const row of rows) {
      batch += row.map(encode).join('\t') + '\n';
      if (batch.length > 1 << 16) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  }
  await pipeline(Readable.from(lines()), stream);
}
