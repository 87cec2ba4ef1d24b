// Keyboard navigation for grids and lists: one cell in the tab order (roving tabindex), arrow
// keys move between cells, Home/End jump to the row's ends, Enter/Space activate.

/**
 * Wires roving focus over the elements of `container` that match `selector` and carry
 * data-row / data-col. Cells missing from a position are skipped in the arrow's direction.
 */
export function rovingGrid(container: HTMLElement, selector: string, activate: (cell: HTMLElement) => void): void {
  const cells = (): HTMLElement[] => Array.from(container.querySelectorAll<HTMLElement>(selector));
  const pos = (c: HTMLElement): [number, number] => [Number(c.dataset.row), Number(c.dataset.col)];
  const all = cells();
  all.forEach((c, i) => c.setAttribute('tabindex', i === 0 ? '0' : '-1'));
  container.addEventListener('keydown', (e: KeyboardEvent) => {
    const current = (e.target as HTMLElement).closest<HTMLElement>(selector);
    if (!current || !container.contains(current)) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate(current);
      return;
    }
    const list = cells();
    const [r, c] = pos(current);
    let next: HTMLElement | undefined;
    const rowCells = (row: number) => list.filter((x) => pos(x)[0] === row).sort((a, b) => pos(a)[1] - pos(b)[1]);
    const rows = [...new Set(list.map((x) => pos(x)[0]))].sort((a, b) => a - b);
    const nearestIn = (row: number) => rowCells(row).reduce<HTMLElement | undefined>((best, x) => (!best || Math.abs(pos(x)[1] - c) < Math.abs(pos(best)[1] - c) ? x : best), undefined);
    switch (e.key) {
      case 'ArrowRight': next = rowCells(r).find((x) => pos(x)[1] > c); break;
      case 'ArrowLeft': next = [...rowCells(r)].reverse().find((x) => pos(x)[1] < c); break;
      case 'ArrowDown': { const nr = rows.find((x) => x > r); if (nr !== undefined) next = nearestIn(nr); break; }
      case 'ArrowUp': { const nr = [...rows].reverse().find((x) => x < r); if (nr !== undefined) next = nearestIn(nr); break; }
      case 'Home': next = e.ctrlKey ? list[0] : rowCells(r)[0]; break;
      case 'End': next = e.ctrlKey ? list[list.length - 1] : rowCells(r).at(-1); break;
      default: return;
    }
    e.preventDefault();
    if (!next) return;
    current.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
  });
  container.addEventListener('click', (e) => {
    const cell = (e.target as HTMLElement).closest<HTMLElement>(selector);
    if (!cell || !container.contains(cell)) return;
    for (const x of cells()) x.setAttribute('tabindex', x === cell ? '0' : '-1');
    activate(cell);
  });
}
