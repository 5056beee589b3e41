import { PURPOSE_HEADER } from '../audit/purpose';
import type { Purpose, PurposeCode } from '../audit/audit.types';
import { isDepartment } from '../auth/principal';
import { badInput } from '../errors/hub.exception';
import type { HubContext } from '../server/hub.context';

/**
 * A field grant: fields of one child's record opened to a department beyond its policy row, for
 * as long as the granting record (an open referral) lasts. Grants are data, not policy rows: the
 * table says which fields a kind of grant may open, the records say to whom and for which child.
 */
export interface FieldGrant {
  /** Id of the granting record; the request must name it as its purpose reference. */
  reference: string;
  fields: ReadonlySet<string>;
}

export interface GrantSource {
  /** The purpose a request must declare, with the granting record's id as reference, to use a grant. */
  purpose: PurposeCode;
  /** Every `Type.field` a grant of this source may open; fixed at start-up. */
  fields: ReadonlySet<string>;
  /**
   * Each kind of grant this source issues, with the fields one grant of that kind opens together
   * (a request uses one grant at a time); fixed at start-up and checked then (Policy.rebuildLeaks).
   */
  kinds: Readonly<Record<string, readonly string[]>>;
  /** Open grants to the caller's department for one child (batched per request). */
  grantsFor(ctx: HubContext, minorId: string): Promise<FieldGrant[]>;
  /** The child of the open granting record `reference` names, addressed to the caller's department; else null. */
  openReferenceChild(ctx: HubContext, reference: string): Promise<string | null>;
}

/**
 * Every kind of field grant the hub knows, gathered from the slices (`SubgraphSlice.grantSources`).
 * Only departments' officers ever hold one.
 */
export class FieldGrants {
  /** Every `Type.field` some grant may open: the access wrapper decides these per child. */
  readonly fields: ReadonlySet<string>;

  constructor(private readonly sources: readonly GrantSource[]) {
    this.fields = new Set(sources.flatMap((s) => [...s.fields]));
  }

  /** Every kind of grant, named `<purpose> <kind>`, with the fields one grant of it opens. */
  kinds(): { name: string; fields: ReadonlySet<string> }[] {
    return this.sources.flatMap((s) => Object.entries(s.kinds).map(([kind, fields]) => ({ name: `${s.purpose} ${kind}`, fields: new Set(fields) })));
  }

  /** Whether a grant source governs this purpose: its reference must then name an open granting record. */
  governs(purpose: Purpose | null | undefined): boolean {
    return !!purpose && this.sources.some((s) => s.purpose === purpose.code);
  }

  /**
   * Refuses (BAD_USER_INPUT) a request whose purpose a grant source governs unless its reference
   * names an open record of that source addressed to the caller's department — whatever the
   * request reads, so that a read under such a purpose always leads back to its granting record.
   * Returns the child that record is about (null when no source governs the purpose): the one
   * child such a request may read. The hub checks it for every request before execution;
   * `isGranted` again where a grant is used.
   */
  async checkReference(ctx: HubContext): Promise<string | null> {
    const source = this.sources.find((s) => s.purpose === ctx.purpose?.code);
    if (!source) return null;
    const reference = ctx.purpose!.reference;
    const child = isDepartment(ctx.subject) && reference ? await source.openReferenceChild(ctx, reference) : null;
    if (!child) throw badInput(PURPOSE_HEADER, `purpose ${source.purpose} needs the id of an open record addressed to your department as its reference`);
    return child;
  }

  /** Whether a grant opens `key` of this child to the caller in this request, under its purpose naming it. */
  async isGranted(ctx: HubContext, key: string, minorId: string): Promise<boolean> {
    if (!isDepartment(ctx.subject)) return false;
    for (const source of this.sources) {
      if (!source.fields.has(key) || ctx.purpose?.code !== source.purpose) continue;
      await this.checkReference(ctx);
      const grants = await source.grantsFor(ctx, minorId);
      if (grants.some((g) => g.reference === ctx.purpose!.reference && g.fields.has(key))) return true;
    }
    return false;
  }
}
