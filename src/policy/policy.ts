import { PolicySubject, POLICY_SUBJECTS } from '../auth/principal';
import { forbidden } from '../errors/hub.exception';
import { SENSITIVE_CATEGORIES } from './masks';
import { Access, MaskKind, PolicyRow } from './policy.types';

/** Federation plumbing present in every subgraph; reachable only through the gateway. */
export const FEDERATION_FIELDS = new Set(['Query._service', 'Query._entities', '_Service.sdl']);

/**
 * The compiled policy table: one lookup per `Type.field` and subject. Built once at start-up
 * from every slice's rows; unknown fields and subjects are DENY.
 */
export class Policy {
  private readonly rows = new Map<string, PolicyRow>();

  constructor(rows: PolicyRow[]) {
    for (const row of rows) {
      const key = `${row.type}.${row.field}`;
      if (this.rows.has(key)) throw new Error(`Policy table lists ${key} twice`);
      const masked = POLICY_SUBJECTS.filter((s) => row.access[s] === Access.MASK);
      if (masked.length && !row.mask) throw new Error(`Policy row ${key} masks for ${masked.join(', ')} but names no mask kind`);
      this.rows.set(key, row);
    }
  }

  all(): PolicyRow[] {
    return [...this.rows.values()];
  }

  row(key: string): PolicyRow | undefined {
    return this.rows.get(key);
  }

  access(subject: PolicySubject, key: string): Access {
    return this.rows.get(key)?.access[subject] ?? Access.DENY;
  }

  /**
   * A filter argument on a field is an oracle for its value, so filtering needs the right to read
   * the exact value. The one exception: a category filter under a SENSITIVE_CATEGORY mask may use
   * categories that the mask would show unchanged anyway.
   */
  assertFilterable(subject: PolicySubject, key: string, argument: string, values: readonly string[] = []): void {
    const access = this.access(subject, key);
    if (access === Access.ALLOW) return;
    const row = this.rows.get(key);
    if (
      access === Access.MASK &&
      row?.mask === MaskKind.SENSITIVE_CATEGORY &&
      values.every((v) => !SENSITIVE_CATEGORIES.has(v))
    ) {
      return;
    }
    throw forbidden(`Filtering by ${argument} needs read access to ${key}`, { field: key, argument });
  }

  /** Fields of a schema the table does not cover: start-up refuses to serve them. */
  uncovered(fieldKeys: Iterable<string>): string[] {
    return [...fieldKeys].filter((k) => !this.rows.has(k) && !FEDERATION_FIELDS.has(k));
  }
}
