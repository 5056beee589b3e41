import type { Access } from '../policy/policy.types';
import type { AccessRecord, Change, ReadGroup } from './audit.types';

/**
 * What the subgraphs actually resolved for one request, child by child, and what mutations
 * wrote: filled by the policy middleware as fields resolve (including through `_entities`),
 * merged at the gateway, and written into the request's audit event.
 */
export class AccessLog {
  private readonly byMinor = new Map<string, Record<string, Access>>();
  private readonly changes: Change[] = [];
  /** Children of records a mutation wrote whose answer does not name the child (an id, a receipt). */
  private readonly children = new Map<string, string>();

  read(minorId: string, field: string, access: Access): void {
    let fields = this.byMinor.get(minorId);
    if (!fields) {
      fields = {};
      this.byMinor.set(minorId, fields);
    }
    // A field denied on one path and served on another was, in the end, served.
    if (fields[field] === undefined || fields[field] === 'DENY') fields[field] = access;
  }

  /** Said by a mutation's resolver: the record it wrote belongs to this child (for its change's `minorId`). */
  belongsTo(recordId: string, minorId: string): void {
    this.children.set(recordId, minorId);
  }

  childOf(recordId: string | null): string | null {
    return (recordId && this.children.get(recordId)) ?? null;
  }

  changed(change: Change): void {
    this.changes.push(change);
  }

  merge(record: AccessRecord): void {
    for (const r of record.reads) for (const [field, access] of Object.entries(r.fields)) this.read(r.minorId, field, access);
    for (const c of record.changes) this.changed(c);
  }

  /**
   * The reads as the event stores them: children read alike in one group, groups in the order of
   * their first child, children and fields in order. Each child's map is only walked in insertion
   * order: children resolved alike (a page) share that order, and sorting is done once per shape.
   */
  forEvent(): { reads: ReadGroup[]; changes: Change[] } {
    return { reads: this.readGroups(), changes: this.changes };
  }

  private readGroups(): ReadGroup[] {
    const byShape = new Map<string, ReadGroup>();
    const byFields = new Map<string, ReadGroup>();
    for (const minorId of [...this.byMinor.keys()].sort()) {
      const read = this.byMinor.get(minorId)!;
      let shape = '';
      for (const field in read) shape += `${field}\u0000${read[field]}\u0000`;
      let group = byShape.get(shape);
      if (!group) {
        const fields = inKeyOrder(read);
        // Another insertion order of the same reads is the same group.
        const text = JSON.stringify(fields);
        group = byFields.get(text) ?? { fields, minorIds: [] };
        byFields.set(text, group);
        byShape.set(shape, group);
      }
      group.minorIds.push(minorId);
    }
    return [...byFields.values()];
  }

  toJSON(): AccessRecord {
    const reads = [...this.byMinor.keys()].sort().map((minorId) => ({ minorId, fields: inKeyOrder(this.byMinor.get(minorId)!) }));
    return { reads, changes: this.changes };
  }
}

/** A child's reads with its fields in key order (the canonical form hashes keys as they come). */
function inKeyOrder(read: Record<string, Access>): Record<string, Access> {
  const fields: Record<string, Access> = {};
  for (const field of Object.keys(read).sort()) fields[field] = read[field];
  return fields;
}
