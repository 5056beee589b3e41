import type { Access } from '../../policy/policy.types';
import type { HubContext } from '../../server/hub.context';

/**
 * A filter is a read of what it tests: every child a list's answer names — by a node, a cursor —
 * is known to match it, so each is recorded as having had the tested fields read, served as the
 * caller reads them, beside the fields the client selected. Listing the police incidents of type
 * SEXUAL_HARM and selecting only the children's names tells which children were harmed: the
 * trail must say so, not only that names were read.
 */
export interface FilterRead {
  field: string;
  access: Access;
}

/** The tests of one list's filter, each allowed only to a caller who may read what it tests. */
export class FilterTests {
  readonly tested: FilterRead[] = [];

  constructor(private readonly ctx: HubContext) {}

  /** Refuses (FORBIDDEN) a filter on `key` the caller may not read; else notes the test. */
  check(key: string, argument: string, values?: readonly string[]): void {
    const { policy, subject } = this.ctx;
    policy.assertFilterable(subject, key, argument, values);
    if (!this.tested.some((t) => t.field === key)) this.tested.push({ field: key, access: policy.access(subject, key) });
  }
}

/**
 * Records the tests of a filter as reads of the child a returned record (or its `after` item)
 * names; of a record naming no child to the reader, as served about someone unnamed.
 */
export function noteTested(ctx: HubContext, minorId: string | null | undefined, tested: readonly FilterRead[] | undefined): void {
  if (!tested?.length) return;
  if (!minorId) ctx.access.servedUnnamedChild();
  else for (const t of tested) ctx.access.read(minorId, t.field, t.access);
}
