import { PURPOSE_HEADER } from '../audit/purpose';
import type { Purpose, PurposeCode } from '../audit/audit.types';
import { isDepartment } from '../auth/principal';
import { badInput } from '../errors/hub.exception';
import type { HubContext } from '../server/hub.context';

/**
 * A field grant: fields of one child's record opened to a department beyond its policy row, for
 * as long as the granting record (an open referral) lasts. Grants are data, not policy rows: the
 * table says which fields a kind of grant may open, the records say to whom and for which child.
 * A request uses the one grant its purpose names (the granting record's id as reference), settled
 * before it runs: that record's child and the fields it opens of that child.
 */
export interface SettledGrant {
  minorId: string;
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
  /** The grant of the open granting record `reference` names, addressed to the caller's department; else null. */
  openGrant(ctx: HubContext, reference: string): Promise<SettledGrant | null>;
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
   * The grant the request's purpose names (null when no source governs the purpose), refused
   * (BAD_USER_INPUT) unless its reference names an open record of that source addressed to the
   * caller's department — whatever the request reads, so that a read under such a purpose always
   * leads back to its granting record; its child is the one child such a request may read. The
   * hub settles it for every request before execution and hands it to each subgraph's context
   * (a remote subgraph's in its assertion): a record that the request itself closes, or that is
   * closed while it runs, grants to the end of that request, and from the next request on no more.
   * A context not handed one settles it on first use, once.
   */
  settle(ctx: HubContext): Promise<SettledGrant | null> {
    const source = this.sources.find((s) => s.purpose === ctx.purpose?.code);
    if (!source) return Promise.resolve(null);
    return (ctx.grant ??= (async () => {
      const reference = ctx.purpose!.reference;
      const grant = isDepartment(ctx.subject) && reference ? await source.openGrant(ctx, reference) : null;
      if (!grant) throw badInput(PURPOSE_HEADER, `purpose ${source.purpose} needs the id of an open record addressed to your department as its reference, written as the hub writes it (lower case)`);
      return grant;
    })());
  }

  /** Whether the request's grant opens `key` of this child to the caller, under its purpose naming the granting record. */
  async isGranted(ctx: HubContext, key: string, minorId: string): Promise<boolean> {
    if (!isDepartment(ctx.subject)) return false;
    const source = this.sources.find((s) => s.purpose === ctx.purpose?.code);
    if (!source?.fields.has(key)) return false;
    const grant = await this.settle(ctx);
    return grant?.minorId === minorId && grant.fields.has(key);
  }
}
