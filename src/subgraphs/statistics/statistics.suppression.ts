/**
 * Small-cell suppression for additive tables.
 *
 * A table's cells are related by lines: a set of member cells whose sum is a known total (a row
 * or column of a cross-tab and its margin, or the sub-regions of a region and the region). A
 * reader who sees the total and all members but the hidden ones learns the hidden ones' sum, so
 * after primary suppression (value is small) every line must satisfy, until nothing changes:
 *
 *  - total published: either nothing hidden, or at least two hidden members whose sum is at
 *    least k. One hidden member would be recovered exactly; a hidden sum below k would publish
 *    a small group by difference (the "street minus the other grids" attack).
 *  - total hidden: protected like a published one — its hidden members add up to k, or to the
 *    whole total below k (at least one member hidden, or the total is recovered as the sum).
 *
 * A violated line gets its smallest published non-zero member (ties by `order`) suppressed as well.
 * Totals come from coarser tables that were protected before (`fixed`): their status is never
 * changed here, so that every table shows the same status for the same cell.
 */

export interface Cell {
  value: number;
  suppressed: boolean;
  /** Status decided by an earlier table; never changed here. */
  fixed: boolean;
  /** Deterministic tie-break: equal data gives equal choices in every request. */
  order: number;
}

export interface Line {
  members: Cell[];
  total: Cell;
}

export class SuppressionError extends Error {}

/**
 * Complement order: the smallest non-zero cell first. A hidden zero adds nothing to the hidden
 * sum, so it is taken only when nothing else is left.
 */
const before = (a: Cell, b: Cell) =>
  (a.value === 0) !== (b.value === 0) ? b.value === 0 : a.value < b.value || (a.value === b.value && a.order < b.order);

/** Primary suppression of the free cells. */
export function suppressSmall(cells: Iterable<Cell>, k: number, zeroIsSmall: boolean): void {
  for (const c of cells) if (!c.fixed) c.suppressed = c.value < k && (zeroIsSmall || c.value > 0);
}

/**
 * A hidden total is known to a reader up to the other hidden members of its own line one level up,
 * so a single small member hidden under it was the coarser region minus the published sub-regions
 * two levels down: a district of 12 children whose only street and community were hidden (beside an
 * empty street), a grid of 11 published and the other grid's 1 hidden read "1" by difference; and so
 * with 12 reports. Its hidden members must therefore add up to k, or to the whole total below k.
 */
function violated(line: Line, k: number): boolean {
  let hidden = 0;
  let hiddenSum = 0;
  for (const m of line.members) {
    if (m.suppressed) {
      hidden++;
      hiddenSum += m.value;
    }
  }
  if (line.total.suppressed) return line.members.length > 0 && (hidden === 0 || hiddenSum < Math.min(k, line.total.value));
  // A published total of zero (rates publish zeros) says every member is zero: nothing to protect.
  return hidden > 0 && line.total.value > 0 && (hidden < 2 || hiddenSum < k);
}

/**
 * Complementary suppression; mutates `suppressed` of the free cells. A cell that is the only
 * member of a line with a published total equals that total and can never be hidden.
 */
export function protectLines(lines: Line[], k: number): void {
  const locked = new Set<Cell>();
  for (const line of lines) if (line.members.length === 1 && !line.total.suppressed) locked.add(line.members[0]);
  // Only a cell that can still be picked ever needs its lines: most members are fixed or hidden
  // already, and indexing them all dominated the cost of a large table.
  const byMember = new Map<Cell, Line[]>();
  for (const line of lines) {
    for (const m of line.members) {
      if (m.suppressed || m.fixed || locked.has(m)) continue;
      const of = byMember.get(m);
      if (of) of.push(line);
      else byMember.set(m, [line]);
    }
  }

  // Work list of lines to check; suppressing a cell re-checks every line it belongs to.
  const queue = [...lines];
  const queued = new Set(queue);
  for (let head = 0; head < queue.length; head++) {
    const line = queue[head];
    queued.delete(line);
    while (violated(line, k)) {
      let pick: Cell | undefined;
      for (const m of line.members) {
        if (m.suppressed || m.fixed || locked.has(m)) continue;
        if (!pick || before(m, pick)) pick = m;
      }
      // Fail closed: a table that cannot be protected is not published at all.
      if (!pick) throw new SuppressionError('no cell left to suppress in a line');
      pick.suppressed = true;
      for (const other of byMember.get(pick) ?? []) {
        if (other !== line && !queued.has(other)) {
          queued.add(other);
          queue.push(other);
        }
      }
    }
  }
}

/**
 * Complementary suppression of a whole lattice at once: no status is final until every line
 * holds, totals included. Used where cells are tied by more than their lines (a RED child is
 * overdue: RED on time is a known zero, so RED overdue is the RED count itself), which a table
 * protected level by level on fixed totals cannot always satisfy. A violated line gets its
 * smallest published member hidden, or, when none is left that is not equal to a published
 * total of another line, its own total: hiding only ever grows, so this ends.
 */
export function protectJointly(lines: Line[], k: number): void {
  /** Published for good: a zero every reader knows by definition. */
  const published = (c: Cell) => c.fixed && !c.suppressed;
  const of = new Map<Cell, Line[]>();
  const add = <T>(map: Map<Cell, T[]>, cell: Cell, item: T) => {
    const list = map.get(cell);
    if (list) list.push(item);
    else map.set(cell, [item]);
  };
  // A member that is a line's only one not published for good equals that line's total (less
  // known zeros): hiding it while the total is published would hide nothing.
  const twins = new Map<Cell, Cell[]>();
  for (const line of lines) {
    for (const m of line.members) add(of, m, line);
    add(of, line.total, line);
    const open = line.members.filter((m) => !published(m));
    if (open.length === 1) add(twins, open[0], line.total);
  }
  const free = (c: Cell) => !c.suppressed && !c.fixed;
  const smallest = (cells: Cell[]) => cells.reduce<Cell | undefined>((a, c) => (a && !before(c, a) ? a : c), undefined);
  const queue = [...lines];
  const queued = new Set(queue);
  const hide = (cell: Cell) => {
    cell.suppressed = true;
    for (const line of of.get(cell) ?? []) {
      if (!queued.has(line)) {
        queued.add(line);
        queue.push(line);
      }
    }
  };
  for (let head = 0; head < queue.length; head++) {
    const line = queue[head];
    queued.delete(line);
    while (violated(line, k)) {
      const candidates = line.members.filter(free);
      const pick = smallest(candidates.filter((m) => (twins.get(m) ?? []).every((t) => t.suppressed)));
      if (pick) hide(pick);
      else if (free(line.total)) hide(line.total);
      else {
        // Every member left equals a published total elsewhere: hide it with those totals.
        const last = smallest(candidates);
        if (!last) throw new SuppressionError('no cell left to suppress in a line');
        hide(last);
        for (const t of twins.get(last) ?? []) if (free(t)) hide(t);
      }
    }
  }
}
