import { Access } from '../policy/policy.types';
import type { AccessRecord, Change, ReadGroup } from './audit.types';

/**
 * What the subgraphs actually resolved for one request, child by child, and what mutations
 * wrote: filled by the policy middleware as fields resolve (including through `_entities`),
 * merged at the gateway, and written into the request's audit event.
 */
export class AccessLog {
  // Maps, not objects: a child's reads are keyed by names such as `Guardian.phone`, and an object
  // given dozens of such keys one by one turns into a slow dictionary (a page makes thousands of reads).
  private readonly byMinor = new Map<string, Map<string, Access>>();
  private readonly changes: Change[] = [];
  /** Children of records a mutation wrote whose answer does not name the child (an id, a receipt). */
  private readonly children = new Map<string, string>();

  read(minorId: string, field: string, access: Access): void {
    let fields = this.byMinor.get(minorId);
    if (!fields) {
      fields = new Map();
      this.byMinor.set(minorId, fields);
    }
    // A field denied on one path and served on another was, in the end, served.
    const had = fields.get(field);
    if (had === undefined || had === Access.DENY) fields.set(field, access);
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
   * their first child, children and fields in order. Children resolved alike (a page) mostly share
   * a few groups, so each child is first compared with the first children of the groups so far
   * (`SHAPES` of them at most); only a child unlike them all has its fields sorted and written out.
   */
  forEvent(): { reads: ReadGroup[]; changes: Change[] } {
    return { reads: this.readGroups(), changes: this.changes };
  }

  private readGroups(): ReadGroup[] {
    const shapes: { read: Map<string, Access>; group: ReadGroup }[] = [];
    const byFields = new Map<string, ReadGroup>();
    for (const minorId of [...this.byMinor.keys()].sort()) {
      const read = this.byMinor.get(minorId)!;
      let group = shapes.find((s) => sameReads(s.read, read))?.group;
      if (!group) {
        const fields = inKeyOrder(read);
        const text = JSON.stringify(fields);
        group = byFields.get(text) ?? { fields, minorIds: [] };
        byFields.set(text, group);
        if (shapes.length < SHAPES) shapes.push({ read, group });
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

/** How many groups' first children another child is compared with before its fields are written out. */
const SHAPES = 8;

function sameReads(a: Map<string, Access>, b: Map<string, Access>): boolean {
  if (a.size !== b.size) return false;
  for (const [field, access] of a) if (b.get(field) !== access) return false;
  return true;
}

/** A child's reads with its fields in key order (the canonical form hashes keys as they come). */
function inKeyOrder(read: Map<string, Access>): Record<string, Access> {
  const fields: Record<string, Access> = {};
  for (const field of [...read.keys()].sort()) fields[field] = read.get(field)!;
  return fields;
}
