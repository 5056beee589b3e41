import { Rng } from '../src/common/rng';
import { Cell, determinedCells, hideDetermined, hideDisclosed, Line, pinnedCells, protectJointly, protectLines, suppressSmall, SuppressionError } from '../src/subgraphs/statistics/statistics.suppression';

/** The suppression rules on hand-made lines (the database-backed tables are in statistics.test.ts). */
const K = 5;
let order = 0;
const cell = (value: number, fixed = false, suppressed = false): Cell => ({ value, fixed, suppressed, order: order++ });
const total = (members: Cell[], suppressed = false) => cell(members.reduce((s, m) => s + m.value, 0), true, suppressed);
const hidden = (cells: Cell[]) => cells.filter((c) => c.suppressed).map((c) => c.value);

describe('small-cell suppression', () => {
  it('hides a small cell and, as its complement, the next-smallest cell of the row', () => {
    const row = [cell(40), cell(3), cell(12), cell(9)];
    suppressSmall(row, K, true);
    protectLines([{ members: row, total: total(row) }], K);
    expect(hidden(row)).toEqual([3, 9]);
  });

  it('keeps hiding until the hidden part of a line is at least k (two small cells are not enough)', () => {
    const row = [cell(1), cell(2), cell(50), cell(7), cell(30)];
    suppressSmall(row, K, true);
    protectLines([{ members: row, total: total(row) }], K);
    // 1 + 2 = 3 would be published by difference; 7 makes the hidden part 10.
    expect(hidden(row)).toEqual([1, 2, 7]);
  });

  it('hides a member when the total is hidden but every member is shown', () => {
    const row = [cell(20), cell(8), cell(30)];
    suppressSmall(row, K, true);
    protectLines([{ members: row, total: total(row, true) }], K);
    expect(hidden(row)).toEqual([8]);
  });

  it('protects a hidden total like a published one: its hidden members add up to k, or to the whole below k', () => {
    // The community's 12 are hidden, but its own line one level up leaves them nearly known: grid 2's 1 hidden
    // alone under it was the coarser published cell minus grid 1's 11.
    for (const protect of [protectLines, protectJointly]) {
      const row = [cell(11), cell(1)];
      suppressSmall(row, K, true);
      protect([{ members: row, total: total(row, true) }], K);
      expect(hidden(row)).toEqual([11, 1]);
      const small = [cell(2), cell(1), cell(0)];
      suppressSmall(small, K, false);
      protect([{ members: small, total: total(small, true) }], K);
      expect(hidden(small)).toEqual([2, 1]);
    }
  });

  it('propagates across crossing lines until every row and column holds', () => {
    // 2×2 table with margins: a small cell forces a complement in its row and in its column,
    // and those force the diagonal cell.
    const [a, b, c, d] = [cell(2), cell(10), cell(20), cell(30)];
    const lines: Line[] = [
      { members: [a, b], total: total([a, b]) },
      { members: [c, d], total: total([c, d]) },
      { members: [a, c], total: total([a, c]) },
      { members: [b, d], total: total([b, d]) },
    ];
    suppressSmall([a, b, c, d], K, true);
    protectLines(lines, K);
    expect([a, b, c, d].map((x) => x.suppressed)).toEqual([true, true, true, true]);
  });

  it('never hides a cell that equals a published total, and fails closed when nothing else is left', () => {
    const only = cell(12);
    const small = cell(2);
    const lines = [
      { members: [only], total: total([only]) },
      { members: [small, only], total: total([small, only]) },
    ];
    suppressSmall([only, small], K, true);
    expect(() => protectLines(lines, K)).toThrow(SuppressionError);
  });

  it('publishes zeros where asked to (rates), and a zero total needs no protection', () => {
    const row = [cell(0), cell(0)];
    suppressSmall(row, K, false);
    protectLines([{ members: row, total: total(row) }], K);
    expect(hidden(row)).toEqual([]);
  });

  it('jointly: a cell equal to another by a known zero shares its status, and a line with nothing left to hide hides its total', () => {
    // RED children: on time is a known zero, so RED overdue is the RED count itself.
    const onTime = cell(0, true);
    const overdue = cell(7);
    const red = cell(7);
    const small = cell(3);
    const assessed = cell(10);
    const lines: Line[] = [
      { members: [onTime, overdue], total: red },
      // The RED count was hidden to protect the small cell of its row …
      { members: [red, small], total: assessed },
    ];
    suppressSmall([overdue, red, small, assessed], K, true);
    protectJointly(lines, K);
    // … so RED overdue is hidden with it, or it would publish the RED count.
    expect([overdue, red, small].map((c) => c.suppressed)).toEqual([true, true, true]);
    expect(assessed.suppressed).toBe(false);

    // A published total whose only other member is a known zero: hiding the small member alone
    // would hide nothing, so the total goes too.
    const zero = cell(0, true);
    const lone = cell(3);
    const total = cell(3);
    const line: Line = { members: [zero, lone], total };
    lone.suppressed = true;
    protectJointly([line], K);
    expect(total.suppressed).toBe(true);
  });

  it('closes a bridge: a hidden cell joining two protected groups of a two-way table is solved, and another is hidden until none is', async () => {
    // Streets × risk levels, both margins published (red team 20): every line holds, yet street 1's
    // YELLOW is its row's remainder plus street 2's less the RED and ORANGE columns' remainders.
    const values = [
      [2, 5, 1, 20, 30],
      [5, 1, 20, 21, 31],
      [22, 23, 5, 1, 32],
      [24, 25, 6, 5, 33],
    ];
    const hide = [
      [1, 1, 1, 0, 0],
      [1, 1, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
    ];
    const grid = values.map((row, i) => row.map((v, j) => cell(v, false, hide[i][j] === 1)));
    const rows: Line[] = grid.map((row) => ({ members: row, total: total(row) }));
    const columns: Line[] = values[0].map((_, j) => ({ members: grid.map((row) => row[j]), total: total(grid.map((row) => row[j])) }));
    const lines = [...rows, ...columns];
    // Every line holds as it is: the line rules hide nothing more.
    protectLines(lines, K);
    expect(grid.flat().map((c) => c.suppressed)).toEqual(hide.flat().map((h) => h === 1));
    expect(await determinedCells(lines)).toEqual([grid[0][2]]);
    await hideDetermined([lines], () => protectLines(lines, K));
    expect(await determinedCells(lines)).toEqual([]);
    // One complement more, in a line of the bridge: the rest of the table as it was.
    expect(grid.flat().filter((c) => c.suppressed)).toHaveLength(10);
  });

  it('solves what a dense elimination solves: random three-way tables with every margin, from a fifth of the cells hidden to nine tenths', async () => {
    /** Each hidden cell a reader solves, by dense Gauss–Jordan over all the hidden cells at once. */
    const solvedDensely = (lines: Line[]): Set<Cell> => {
      const unknowns = [...new Set(lines.flatMap((l) => [...l.members, l.total]).filter((c) => c.suppressed))];
      const at = new Map(unknowns.map((c, i) => [c, i]));
      const rows = lines.map((l) => {
        const row = new Array<number>(unknowns.length).fill(0);
        for (const m of l.members) if (m.suppressed) row[at.get(m)!] += 1;
        if (l.total.suppressed) row[at.get(l.total)!] -= 1;
        return row;
      });
      let r = 0;
      for (let j = 0; j < unknowns.length && r < rows.length; j++) {
        let p = r;
        for (let i = r + 1; i < rows.length; i++) if (Math.abs(rows[i][j]) > Math.abs(rows[p][j])) p = i;
        if (Math.abs(rows[p][j]) < 1e-9) continue;
        [rows[r], rows[p]] = [rows[p], rows[r]];
        const pivot = rows[r].map((x) => x / rows[r][j]);
        rows[r] = pivot;
        for (let i = 0; i < rows.length; i++) if (i !== r) rows[i] = rows[i].map((x, c) => x - rows[i][j] * pivot[c]);
        r++;
      }
      return new Set(rows.filter((row) => row.filter((x) => Math.abs(x) > 1e-9).length === 1).map((row) => unknowns[row.findIndex((x) => Math.abs(x) > 1e-9)]));
    };
    const rng = new Rng(21);
    let solvedSome = 0;
    for (let round = 0; round < 60; round++) {
      const [a, b, c] = [rng.int(2, 5), rng.int(2, 4), rng.int(2, 3)];
      // From a few hidden cells (most of them solved) to most (few solved).
      const share = 0.2 + 0.7 * rng.next();
      const inner = Array.from({ length: a }, () => Array.from({ length: b }, () => Array.from({ length: c }, () => cell(rng.int(1, 9), false, rng.next() < share))));
      const lines: Line[] = [];
      const sumOf = (members: Cell[]) => {
        const t = { ...total(members), fixed: false };
        lines.push({ members, total: t });
        return t;
      };
      // Every line of the cube and of its margins, as a lattice's tables share them.
      const ab = inner.map((plane) => plane.map((row) => sumOf(row)));
      const ac = inner.map((plane) => Array.from({ length: c }, (_, k) => sumOf(plane.map((row) => row[k]))));
      const bc = Array.from({ length: b }, (_, j) => Array.from({ length: c }, (_, k) => sumOf(inner.map((plane) => plane[j][k]))));
      const aTotals = ab.map((row) => sumOf(row));
      for (const [i, row] of ac.entries()) lines.push({ members: row, total: aTotals[i] });
      const bTotals = Array.from({ length: b }, (_, j) => sumOf(ab.map((row) => row[j])));
      for (const [j, row] of bc.entries()) lines.push({ members: row, total: bTotals[j] });
      const cTotals = Array.from({ length: c }, (_, k) => sumOf(ac.map((row) => row[k])));
      for (let k = 0; k < c; k++) lines.push({ members: bc.map((row) => row[k]), total: cTotals[k] });
      const grand = sumOf(aTotals);
      lines.push({ members: bTotals, total: grand }, { members: cTotals, total: grand });

      // Mostly after the line rules, as the hub solves them; sometimes as drawn.
      if (rng.next() < 0.7) {
        try {
          protectLines(lines, K);
        } catch (e) {
          if (!(e instanceof SuppressionError)) throw e;
        }
      }
      const dense = solvedDensely(lines);
      const found = await determinedCells(lines);
      // The first solved cell of each connected part: so one at most when every solved cell is in one part.
      for (const f of found) expect(dense.has(f)).toBe(true);
      if ([...dense].some((d) => d.value !== 0)) expect(found.length).toBeGreaterThan(0);
      else expect(found).toEqual([]);
      if (found.length) solvedSome++;
    }
    // The tables are such that some have a cell to solve and some do not.
    expect(solvedSome).toBeGreaterThan(5);
    expect(solvedSome).toBeLessThan(60);
  });
  it('pins what no count being negative tells, which no equation does, and hides beside it until nothing is pinned', async () => {
    // y + z = 0 published: both hidden, each only "minus the other" as equations, yet both 0; so the
    // x hidden beside y in x + y = 12 is 12, and the w beside x in w + x = 15 is 3.
    const [x, y, z, w] = [cell(12, false, true), cell(0, false, true), cell(0, false, true), cell(3, false, true)];
    const zero = cell(0);
    const lines: Line[] = [
      { members: [y, z], total: zero },
      { members: [x, y], total: cell(12) },
      { members: [w, x], total: cell(15) },
    ];
    for (const c of [y, z]) c.zeroTells = true;
    expect(await determinedCells(lines)).toEqual([]);
    expect(new Set(await pinnedCells(lines))).toEqual(new Set([x, y, z, w]));

    // Bounds chained across tables: a + b + c = 67 published with a = 24; b ≤ 20 (b + b' = 20, b'
    // hidden) leaves c ≥ 23, and c + c' = 23 published then pins c at 23 and c' at 0.
    const [b, b2, c, c2] = [cell(20, false, true), cell(0, false, true), cell(23, false, true), cell(0, false, true)];
    for (const zeroCell of [b2, c2]) zeroCell.zeroTells = true;
    const chained: Line[] = [
      { members: [cell(24), b, c], total: cell(67) },
      { members: [b, b2], total: cell(20) },
      { members: [c, c2], total: cell(23) },
    ];
    expect(await determinedCells(chained)).toEqual([]);
    expect(new Set(await pinnedCells(chained))).toEqual(new Set([b, b2, c, c2]));
    await hideDisclosed([chained], () => protectLines(chained, 5));
    expect(await pinnedCells(chained)).toEqual([]);
  });
});
