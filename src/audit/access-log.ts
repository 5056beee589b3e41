import type { Access } from '../policy/policy.types';
import type { AccessRecord, Change } from './audit.types';

/**
 * What the subgraphs actually resolved for one request, child by child, and what mutations
 * wrote: filled by the policy middleware as fields resolve (including through `_entities`),
 * merged at the gateway, and written into the request's audit event.
 */
export class AccessLog {
  private readonly byMinor = new Map<string, Record<string, Access>>();
  private readonly changes: Change[] = [];

  read(minorId: string, field: string, access: Access): void {
    let fields = this.byMinor.get(minorId);
    if (!fields) {
      fields = {};
      this.byMinor.set(minorId, fields);
    }
    // A field denied on one path and served on another was, in the end, served.
    if (fields[field] === undefined || fields[field] === 'DENY') fields[field] = access;
  }

  changed(change: Change): void {
    this.changes.push(change);
  }

  merge(record: AccessRecord): void {
    for (const r of record.reads) for (const [field, access] of Object.entries(r.fields)) this.read(r.minorId, field, access);
    for (const c of record.changes) this.changed(c);
  }

  toJSON(): AccessRecord {
    const reads = [...this.byMinor.keys()].sort().map((minorId) => {
      const read = this.byMinor.get(minorId)!;
      const fields: Record<string, Access> = {};
      for (const field of Object.keys(read).sort()) fields[field] = read[field];
      return { fields, minorId }; // keys in canonical order (canonical.ts)
    });
    return { reads, changes: this.changes };
  }
}
