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
 * changed here, so that every table shows the same status for the same cell. The line rules are
 * necessary, not sufficient: `hideDetermined` then solves each table's lines as a reader would.
 */

export interface Cell {
  value: number;
  suppressed: boolean;
  /** Status decided by an earlier table; never changed here. */
  fixed: boolean;
  /** Deterministic tie-break: equal data gives equal choices in every request. */
  order: number;
  /**
   * A zero hidden as small (`suppressSmall`): "none of the children here is X" is a statement about
   * the children there, so solved it is disclosed as any other count. A zero hidden only as a
   * complement, where zeros are published, tells nothing published zeros do not.
   */
  zeroTells?: boolean;
  /**
   * What every reader knows the cell to be at least, hidden or not: a region's count of children
   * is 1 or more wherever it is not published as 0 (statistics.cube.ts `childlessNodes`).
   */
  atLeast?: number;
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
  for (const c of cells) {
    if (c.fixed) continue;
    c.suppressed = c.value < k && (zeroIsSmall || c.value > 0);
    c.zeroTells = zeroIsSmall && c.value === 0;
  }
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

/** Published for good: a zero every reader knows (a registry rule, a region without children). */
const known = (c: Cell) => c.fixed && !c.suppressed;

/**
 * Complementary suppression; mutates `suppressed` of the free cells. A cell that is the only
 * member of a line with a published total, known zeros aside, equals that total and can never be hidden.
 */
export function protectLines(lines: Line[], k: number): void {
  const locked = new Set<Cell>();
  for (const line of lines) {
    if (line.total.suppressed) continue;
    const open = line.members.filter((m) => !known(m));
    if (open.length === 1) locked.add(open[0]);
  }
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
    const open = line.members.filter((m) => !known(m));
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

/** How long the exact check runs before it lets the event loop answer others. */
const YIELD_AFTER_MS = 20;

/**
 * Hidden cells a reader can solve exactly from one table's lines: every line is an equation (its
 * members sum to its total), published cells are constants, hidden ones unknowns. The line rules
 * above are necessary, not sufficient: in street × risk level with both margins published, a
 * hidden cell joining two groups of hidden cells (a bridge) is their rows' remainders less their
 * columns', one child read back exactly. By Gauss–Jordan elimination of each connected part: a
 * hidden cell is determined when its unit vector lies in the equations' row space — its column a
 * pivot whose row holds nothing else once every pivot is eliminated from every other row. Returns
 * the first such cell of each part that is not zero. One table at a time (a region level's cells of
 * one set of dimensions, with its totals): the equations of a whole lattice make parts of thousands
 * (46 s for the demo district's).
 *
 * Sparse, and yielding every YIELD_AFTER_MS: a part is one region's sub-regions by the dimensions'
 * values, tens of thousands of unknowns for a community of 220 grids, where dense rows took 1.8 GB
 * and a minute without answering anyone. A row is eliminated from the rows holding the pivot's
 * column only, and the pivot is the shortest row left (a line's members), its column the one fewest
 * rows hold, which keeps the fill-in of these nested sums small.
 */
export async function determinedCells(lines: Line[]): Promise<Cell[]> {
  const unknown = new Map<Cell, number>();
  const cellsOf: Cell[] = [];
  const equations: number[][] = [];
  for (const line of lines) {
    const eq: number[] = [];
    for (const c of [...line.members, line.total]) {
      if (!c.suppressed) continue;
      let i = unknown.get(c);
      if (i === undefined) {
        unknown.set(c, (i = cellsOf.length));
        cellsOf.push(c);
      }
      eq.push(c === line.total ? -(i + 1) : i + 1);
    }
    if (eq.length) equations.push(eq);
  }
  // Connected parts: unknowns sharing an equation.
  const parent = cellsOf.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (const eq of equations) for (const v of eq.slice(1)) parent[root(Math.abs(v) - 1)] = root(Math.abs(eq[0]) - 1);
  const parts = new Map<number, number[][]>();
  for (const eq of equations) {
    const r = root(Math.abs(eq[0]) - 1);
    const part = parts.get(r);
    if (part) part.push(eq);
    else parts.set(r, [eq]);
  }

  const found: Cell[] = [];
  let ran = performance.now();
  const breathe = async () => {
    // A lattice's tables take seconds in all: other requests are answered meanwhile.
    if (performance.now() - ran > YIELD_AFTER_MS) {
      await new Promise(setImmediate);
      ran = performance.now();
    }
  };
  for (const part of parts.values()) {
    await breathe();
    const rows = part.map((eq) => {
      const row = new Map<number, number>();
      for (const v of eq) {
        const u = Math.abs(v) - 1;
        const x = (row.get(u) ?? 0) + (v > 0 ? 1 : -1);
        if (x === 0) row.delete(u);
        else row.set(u, x);
      }
      return row;
    });
    /** The rows holding each unknown. */
    const holding = new Map<number, Set<number>>();
    rows.forEach((row, i) => {
      for (const u of row.keys()) {
        const set = holding.get(u);
        if (set) set.add(i);
        else holding.set(u, new Set([i]));
      }
    });
    const pivotOf = new Map<number, number>();
    const done = new Array<boolean>(rows.length).fill(false);
    // Rows by their size when queued; one whose size changed since is queued again.
    const queue = new MinHeap();
    rows.forEach((row, i) => queue.push(row.size, i));
    for (;;) {
      await breathe();
      const next = queue.pop();
      if (!next) break;
      const [size, r] = next;
      if (done[r] || size !== rows[r].size) continue;
      done[r] = true;
      const pivot = rows[r];
      let j = -1;
      for (const [u, x] of pivot) if (Math.abs(x) > 1e-9 && (j < 0 || holding.get(u)!.size < holding.get(j)!.size)) j = u;
      if (j < 0) continue;
      const p = pivot.get(j)!;
      for (const [u, x] of pivot) pivot.set(u, x / p);
      pivotOf.set(j, r);
      for (const i of [...holding.get(j)!]) {
        if (i === r) continue;
        const row = rows[i];
        const f = row.get(j)!;
        for (const [u, x] of pivot) {
          const y = (row.get(u) ?? 0) - f * x;
          if (Math.abs(y) < 1e-9) {
            row.delete(u);
            holding.get(u)!.delete(i);
          } else {
            if (!row.has(u)) holding.get(u)!.add(i);
            row.set(u, y);
          }
        }
        if (!done[i]) queue.push(row.size, i);
      }
    }
    // The first in the table's order, whichever the elimination met first.
    let first = -1;
    for (const [j, r] of pivotOf) {
      // A hidden zero solved tells that no child is there, unless zeros are published (`zeroTells`):
      // a street's one YELLOW child gone, the page's three questions read its YELLOW back as 0 (red team 23).
      if (rows[r].size === 1 && (cellsOf[j].value !== 0 || cellsOf[j].zeroTells) && (first < 0 || j < first)) first = j;
    }
    if (first >= 0) found.push(cellsOf[first]);
  }
  return found;
}

/** A binary min-heap of [key, value] pairs, the least key (then value) first. */
class MinHeap {
  private readonly items: [number, number][] = [];

  push(key: number, value: number): void {
    const items = this.items;
    items.push([key, value]);
    for (let i = items.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!MinHeap.less(items[i], items[up])) break;
      [items[i], items[up]] = [items[up], items[i]];
      i = up;
    }
  }

  pop(): [number, number] | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length && last) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && MinHeap.less(items[l], items[m])) m = l;
        if (r < items.length && MinHeap.less(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }

  private static less(a: [number, number], b: [number, number]): boolean {
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }
}

/**
 * Hidden cells a reader can pin from the lines of a whole lattice together, knowing that no count is
 * negative: bound propagation, each line's total and members bounding one another until nothing
 * changes. Equations alone (`determinedCells`) miss what the bounds chain across tables: a district's
 * YELLOW girls aged 3–5, one street's published, another's at most its YELLOW children aged 3–5, left
 * the third street's at least all its girls aged 3–5 — every one of them YELLOW, the other levels'
 * hidden zeros read back (red team 24). Returns each hidden cell whose bounds meet, zeros that tell
 * nothing aside (as `determinedCells`).
 */
export async function pinnedCells(lines: Line[]): Promise<Cell[]> {
  const lo = new Map<Cell, number>();
  const hi = new Map<Cell, number>();
  const linesOf = new Map<Cell, Line[]>();
  for (const line of lines) {
    for (const c of [...line.members, line.total]) {
      if (!c.suppressed) continue;
      lo.set(c, c.atLeast ?? 0);
      hi.set(c, Infinity);
      const of = linesOf.get(c);
      if (of) of.push(line);
      else linesOf.set(c, [line]);
    }
  }
  const low = (c: Cell) => (c.suppressed ? lo.get(c)! : c.value);
  const high = (c: Cell) => (c.suppressed ? hi.get(c)! : c.value);
  const queue = lines.filter((line) => linesOf.has(line.total) || line.members.some((m) => m.suppressed));
  const queued = new Set(queue);
  const tighten = (c: Cell, l: number, h: number) => {
    const raise = l > lo.get(c)!;
    const lower = h < hi.get(c)!;
    if (raise) lo.set(c, l);
    if (lower) hi.set(c, h);
    if (!raise && !lower) return;
    for (const other of linesOf.get(c)!) {
      if (!queued.has(other)) {
        queued.add(other);
        queue.push(other);
      }
    }
  };
  let ran = performance.now();
  for (let head = 0; head < queue.length; head++) {
    if (performance.now() - ran > YIELD_AFTER_MS) {
      await new Promise(setImmediate);
      ran = performance.now();
    }
    const line = queue[head];
    queued.delete(line);
    // The members' sum bounds, an unbounded high counted apart so that one member's can be taken out.
    let sumLo = 0;
    let sumHi = 0;
    let unbounded = 0;
    for (const m of line.members) {
      sumLo += low(m);
      if (high(m) === Infinity) unbounded++;
      else sumHi += high(m);
    }
    const total = line.total;
    if (total.suppressed) tighten(total, sumLo, unbounded ? Infinity : sumHi);
    const [tLo, tHi] = [low(total), high(total)];
    for (const m of line.members) {
      if (!m.suppressed) continue;
      const othersLo = sumLo - low(m);
      const othersUnbounded = unbounded - (high(m) === Infinity ? 1 : 0);
      const othersHi = othersUnbounded ? Infinity : sumHi - (high(m) === Infinity ? 0 : high(m));
      tighten(m, Math.max(0, tLo - othersHi), tHi - othersLo);
    }
  }
  return [...lo.keys()].filter((c) => lo.get(c) === hi.get(c) && (c.value !== 0 || c.zeroTells));
}

/**
 * Hides the smallest free published cell of a line of `cell`'s (`own`, else found among `lines`),
 * else of any of `lines`, and returns it; fails closed when none is left.
 */
function hideBeside(lines: Line[], cell: Cell, own = lines.filter((line) => line.total === cell || line.members.includes(cell))): Cell {
  let pick: Cell | undefined;
  for (const of of [own, lines]) {
    for (const line of of) {
      for (const c of [...line.members, line.total]) if (!c.suppressed && !c.fixed && (!pick || before(c, pick))) pick = c;
    }
    if (pick) break;
  }
  if (!pick) throw new SuppressionError('a hidden cell is solved from the published ones and no cell is left to hide');
  pick.suppressed = true;
  return pick;
}

/**
 * Hides more until no hidden cell can be solved from any one table's lines (`determinedCells`):
 * for each one solved, the smallest free published cell of a line of it (of the table when those
 * have none left), then the line rules again (`reprotect`). Hiding only grows, so this ends; fails closed when nothing is left to hide.
 */
export async function hideDetermined(tables: Line[][], reprotect: () => void): Promise<void> {
  // Hiding only grows: a table whose hidden cells are as many as when it was last solved is as it was then.
  const hiddenIn = (lines: Line[]) => {
    const hidden = new Set<Cell>();
    for (const line of lines) for (const c of [...line.members, line.total]) if (c.suppressed) hidden.add(c);
    return hidden.size;
  };
  const solvedWith = new Map<Line[], number>();
  for (;;) {
    let hid = false;
    for (const lines of tables) {
      const hidden = hiddenIn(lines);
      if (solvedWith.get(lines) === hidden) continue;
      const cells = await determinedCells(lines);
      if (!cells.length) solvedWith.set(lines, hidden);
      for (const cell of cells) {
        hideBeside(lines, cell);
        hid = true;
      }
    }
    if (!hid) return;
    reprotect();
  }
}

/**
 * `hideDetermined`, then the same for cells pinned by the whole lattice's bounds (`pinnedCells`),
 * until neither finds one: a complement hidden for a pinned cell may leave one solvable again.
 */
export async function hideDisclosed(tables: Line[][], reprotect: () => void): Promise<void> {
  const all = tables.flat();
  // Each cell's lines, in the lattice's order, found once: a pass may pin hundreds of cells.
  const linesOf = new Map<Cell, Line[]>();
  for (const line of all) {
    for (const c of [...line.members, line.total]) {
      const of = linesOf.get(c);
      if (of) of.push(line);
      else linesOf.set(c, [line]);
    }
  }
  for (;;) {
    await hideDetermined(tables, reprotect);
    const pinned = await pinnedCells(all);
    if (!pinned.length) return;
    // One complement per line a pass: a cell hidden in a line unpins the line's other pinned cells
    // too, more often than not. One hidden for every cell pinned at first had hidden a whole
    // district's lattice (561 pinned, 393 free cells), then failed for want of a cell to hide. The
    // next pass finds those still pinned. A cell whose own lines have nothing left to hide waits for
    // the next pass too, unless nothing else was hidden in this one: it is mostly pinned through
    // another's line (a community equal to its street), and a complement taken from anywhere for each
    // of them had run out of cells (five streets of one child each, red team 33).
    const touched = new Set<Line>();
    let waiting: Cell | undefined;
    for (const cell of pinned) {
      const lines = linesOf.get(cell) ?? [];
      if (lines.some((line) => touched.has(line))) continue;
      if (!lines.some((line) => [...line.members, line.total].some((c) => !c.suppressed && !c.fixed))) {
        waiting ??= cell;
        continue;
      }
      for (const line of linesOf.get(hideBeside(all, cell, lines)) ?? []) touched.add(line);
    }
    if (!touched.size) hideBeside(all, waiting!);
    reprotect();
  }
}
