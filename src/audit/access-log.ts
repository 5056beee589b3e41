import { Access } from '../policy/policy.types';
import type { AccessRecord, Change, ReadGroup } from './audit.types';

const REVEALS: Record<Access, number> = { DENY: 0, MASK: 1, ALLOW: 2 };

/**
 * What one child's reads amount to so far: the fields read and how each was served. Children
 * resolved alike (a page) go through the same fields in the same order, so instead of a map of
 * its own per child — a page makes thousands of reads — each child points at a shared, unchanging
 * `ReadShape`, and a new read moves it to the next shape, built once per request. A shape is the
 * one before it plus one read, not a copy of its fields, and makes its step maps only once a read
 * leaves it: copies and maps made up front were most of what the audit allocated for a single
 * child (bench/optimisations.md, entry 54).
 */
class ReadShape {
  // Per way of serving (REVEALS), so that a step needs no key built per read.
  private next?: Map<string, ReadShape>[];
  private ordered?: Record<string, Access>;

  constructor(
    private readonly before: ReadShape | null,
    private readonly field: string | null,
    private readonly access: Access | null,
  ) {}

  /** This shape with one more read; `this` when the read changes nothing. */
  with(field: string, access: Access): ReadShape {
    const steps = ((this.next ??= [])[REVEALS[access]] ??= new Map());
    let shape = steps.get(field);
    if (!shape) {
      // A field served two ways in one answer is recorded the most revealing way: denied on one
      // path and served on another, it was served; masked in a notification's payload and exact
      // under a referral's grant, the exact value went out.
      const had = this.accessOf(field);
      shape = had !== undefined && REVEALS[had] >= REVEALS[access] ? this : new ReadShape(this, field, access);
      steps.set(field, shape);
    }
    return shape;
  }

  /** How the field was served, the latest read first (a later one is only ever more revealing). */
  private accessOf(field: string): Access | undefined {
    for (let s: ReadShape | null = this; s?.field != null; s = s.before) if (s.field === field) return s.access!;
    return undefined;
  }

  /** The fields in key order (the canonical form hashes keys as they come). */
  inKeyOrder(): Record<string, Access> {
    if (!this.ordered) {
      const fields = new Map<string, Access>();
      for (let s: ReadShape | null = this; s?.field != null; s = s.before) if (!fields.has(s.field)) fields.set(s.field, s.access!);
      this.ordered = {};
      for (const field of [...fields.keys()].sort()) this.ordered[field] = fields.get(field)!;
    }
    return this.ordered;
  }
}

/**
 * What the subgraphs actually resolved for one request, child by child, and what mutations
 * wrote: filled by the policy's access wrappers as fields resolve (including through `_entities`),
 * merged at the gateway, and written into the request's audit event.
 */
export class AccessLog {
  private readonly none = new ReadShape(null, null, null);
  private readonly byMinor = new Map<string, ReadShape>();
  private readonly changes: Change[] = [];
  /** Children of records a mutation wrote whose answer does not name the child (an id, a receipt). */
  private readonly children = new Map<string, string>();
  /** Children whose records a look-up or a page returned, with the record's type. */
  private readonly located = new Map<string, string>();
  /** Remote subgraphs a fetch of this request went to whose account of it never came back. */
  private readonly lost = new Set<string>();
  /** Whether a field of a child's record that names no child to the reader was served (servedUnnamedChild). */
  private unnamed = false;
  /** Answers of mutations that found their record already as asked (unchanged). */
  private readonly unchangedAnswers = new WeakSet<object>();
  /** Answers of partial updates, with the names of the arguments whose values they changed. */
  private readonly changedArguments = new WeakMap<object, string[]>();

  read(minorId: string, field: string, access: Access): void {
    const shape = this.byMinor.get(minorId) ?? this.none;
    const next = shape.with(field, access);
    if (next !== shape) this.byMinor.set(minorId, next);
  }

  /**
   * A field of a child's record was served that names no child to this reader — or such a record
   * was loaded by a mutation, or tested by a filter: a report of a child not registered, or of one
   * outside the reader's jurisdiction (`asSeenBy`). The trail has no child
   * to name, but a purpose bound to one child does not cover the read (audit.plugin).
   */
  servedUnnamedChild(): void {
    this.unnamed = true;
  }

  /** See servedUnnamedChild. */
  hasServedUnnamedChild(): boolean {
    return this.unnamed;
  }

  /**
   * A record of this child was returned, or loaded by a mutation that may yet refuse and say why
   * (its status, its dates); its fields, if any are selected, are read later.
   */
  found(minorId: string, recordType: string): void {
    if (!this.located.has(minorId)) this.located.set(minorId, recordType);
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

  /**
   * Said by a mutation's resolver of the answer it returns when it found everything already as asked
   * (acknowledged, deactivated, the same values): the call is audited as a read, and its event
   * records no change — a data officer reads the trail's changes as changes made.
   */
  unchanged<T extends object>(answer: T): T {
    this.unchangedAnswers.add(answer);
    return answer;
  }

  changedNothing(answer: object): boolean {
    return this.unchangedAnswers.has(answer);
  }

  /**
   * Said by a partial update's resolver of the answer it returns: of the arguments and input fields
   * it was given, only these changed the record (a field given null, which such an update leaves
   * alone, or given the value it held, did not). Its change names these, not every field it was
   * given: a data officer reads the names as fields changed.
   */
  changedOnly<T extends object>(answer: T, names: string[]): T {
    this.changedArguments.set(answer, [...names].sort());
    return answer;
  }

  argumentsChanged(answer: object): string[] | undefined {
    return this.changedArguments.get(answer);
  }

  /**
   * A remote subgraph's answer came back without its access record, or not at all: it may have
   * read and written (its transaction committed before the connection dropped), or served someone
   * else who presented the gateway's assertion first. What it did is not known here.
   */
  answerLost(subgraph: string): void {
    this.lost.add(subgraph);
  }

  /** A change was recorded, or a remote subgraph's answer lost (it may have committed one): see changeMayStand. */
  mayHaveChanged(): boolean {
    return this.changes.length > 0 || this.lost.size > 0;
  }

  /** The subgraphs of answerLost, in order. */
  lostAnswers(): string[] {
    return [...this.lost].sort();
  }

  merge(record: AccessRecord): void {
    // A remote subgraph settles what it found on its own; here other fetches may have read the child
    // or changed its record, as they would have in process, where nothing is settled before the end.
    const found = new Map<string, string>();
    for (const f of Array.isArray(record.found) ? record.found : []) {
      if (typeof f?.minorId === 'string' && typeof f.recordType === 'string') found.set(f.minorId, f.recordType);
    }
    for (const r of record.reads) {
      const recordType = found.get(r.minorId);
      const fields = Object.keys(r.fields);
      if (recordType && fields.length === 1 && fields[0] === `${recordType}.__typename`) {
        this.found(r.minorId, recordType);
        continue;
      }
      for (const [field, access] of Object.entries(r.fields)) this.read(r.minorId, field, access);
    }
    for (const c of record.changes) this.changed(c);
    if (record.unnamed === true) this.unnamed = true;
  }

  /**
   * The reads as the event stores them: children read alike in one group, groups in the order of
   * their first child, children and fields in order. Children whose fields resolved in another
   * order reach other shapes with the same reads: those are grouped by their written-out fields.
   */
  forEvent(): { reads: ReadGroup[]; changes: Change[] } {
    this.settleFound();
    return { reads: this.readGroups(), changes: this.changes };
  }

  /**
   * A child found with nothing of it read (only `__typename` selected, or a mutation refused after
   * loading its record) was still told to exist: recorded as a read of its record type's
   * `__typename`, so that "who looked at this child" shows it. A change names the child already.
   */
  private settleFound(): void {
    if (!this.located.size) return;
    const changed = new Set(this.changes.map((c) => c.minorId));
    for (const [minorId, recordType] of this.located) {
      if (!this.byMinor.has(minorId) && !changed.has(minorId)) this.read(minorId, `${recordType}.__typename`, Access.ALLOW);
    }
    this.located.clear();
  }

  private readGroups(): ReadGroup[] {
    // One child (a look-up, the commonest request): nothing to group or order.
    if (this.byMinor.size === 1) for (const [minorId, shape] of this.byMinor) return [{ fields: shape.inKeyOrder(), minorIds: [minorId] }];
    const byShape = new Map<ReadShape, ReadGroup>();
    const byFields = new Map<string, ReadGroup>();
    for (const minorId of [...this.byMinor.keys()].sort()) {
      const shape = this.byMinor.get(minorId)!;
      let group = byShape.get(shape);
      if (!group) {
        const fields = shape.inKeyOrder();
        const text = JSON.stringify(fields);
        group = byFields.get(text) ?? { fields, minorIds: [] };
        byFields.set(text, group);
        byShape.set(shape, group);
      }
      group.minorIds.push(minorId);
    }
    return [...byFields.values()];
  }

  /**
   * What this subgraph's fetch read and wrote, for the gateway. Children found with nothing read are
   * settled into `reads` as everywhere (a gateway of the release before takes `reads` alone) and also
   * named in `found`, so that the gateway settles them with what the request's other fetches did.
   */
  toJSON(): AccessRecord {
    const changed = new Set(this.changes.map((c) => c.minorId));
    const found = [...this.located].filter(([minorId]) => !this.byMinor.has(minorId) && !changed.has(minorId)).map(([minorId, recordType]) => ({ minorId, recordType }));
    this.settleFound();
    const reads = [...this.byMinor.keys()].sort().map((minorId) => ({ minorId, fields: this.byMinor.get(minorId)!.inKeyOrder() }));
    const record: AccessRecord = found.length ? { reads, changes: this.changes, found } : { reads, changes: this.changes };
    if (this.unnamed) record.unnamed = true;
    return record;
  }
}
