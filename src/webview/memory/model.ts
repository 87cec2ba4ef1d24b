// The Machine Memory map's view model: frame runs indexed for lookup by mpn, the grid layout,
// the legend (the adapter's census by owner and use), and the frames whose owner or use changed
// between two stops. Pure and DOM-free: unit-tested in node.
import type { FrameMapWire, FrameRunWire } from '../../debugAdapter/viewsProtocol';
import { count, hex } from '../shared/format';

/**
 * Every use a machine frame can have, in palette order. Ballooned and swapped guest pages have
 * no machine frame: they are drawn on the guest strips (guestModel.ts), not here.
 */
export const USES = ['guest-data', 'guest-pt', 'shadow-pt', 'ept', 'vmm', 'shared', 'free'] as const;
export type PaletteUse = (typeof USES)[number];

export const USE_LABELS: Record<PaletteUse, string> = {
  'guest-data': 'guest data', 'guest-pt': 'guest page table', 'shadow-pt': 'shadow page table', ept: 'EPT', vmm: 'hypervisor',
  shared: 'shared (copy-on-write)', free: 'free',
};

/** A shared frame's reference count (the guest pages mapping it), when the run carries counts. */
export function refsAt(run: FrameRunWire, mpn: number): number | undefined {
  return run.refs?.[mpn - run.mpn];
}

/** "shared by 3 guest pages" — what a reference count means, in words. */
export function sharedBy(refs: number): string {
  return `shared by ${count(refs)} guest page${refs === 1 ? '' : 's'}`;
}

/** Runs sorted by mpn, looked up by binary search; frames outside [from, to) are not loaded. */
export class FrameIndex {
  readonly runs: FrameRunWire[];

  constructor(runs: FrameRunWire[], readonly from: number, readonly to: number) {
    this.runs = [...runs].sort((a, b) => a.mpn - b.mpn);
  }

  loaded(mpn: number): boolean {
    return mpn >= this.from && mpn < this.to;
  }

  /** The run holding `mpn`; undefined when it is not loaded or no run covers it (the adapter omits nothing: treat as unknown). */
  runAt(mpn: number): FrameRunWire | undefined {
    if (!this.loaded(mpn)) return undefined;
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.runs[mid];
      if (mpn < r.mpn) hi = mid - 1;
      else if (mpn >= r.mpn + r.count) lo = mid + 1;
      else return r;
    }
    return undefined;
  }
}

/** Frames per row: a power of two that fits, so each row starts at a round mpn. */
export function columnsFor(widthPx: number, cellPx: number, gutterPx: number): number {
  const fit = Math.max(1, Math.floor((widthPx - gutterPx) / cellPx));
  let c = 1;
  while (c * 2 <= fit && c < 512) c *= 2;
  return c;
}

/** The mpn range of rows [firstRow, lastRow] in a grid of `columns`, clipped to the memory. */
export function rowRange(firstRow: number, lastRow: number, columns: number, total: number): { from: number; to: number } {
  return { from: Math.max(0, firstRow * columns), to: Math.min(total, (lastRow + 1) * columns) };
}

export interface LegendRow {
  owner: string;
  total: number;
  byUse: Partial<Record<PaletteUse, number>>;
}

export interface Legend {
  owners: LegendRow[];
  /** Uses with at least one frame, in palette order, with totals. */
  uses: { use: PaletteUse; count: number }[];
  total: number;
  free: number;
}

export function legend(map: FrameMapWire): Legend {
  const totals = new Map<PaletteUse, number>();
  const owners: LegendRow[] = Object.entries(map.owners).map(([owner, byUse]) => {
    let total = 0;
    const row: Partial<Record<PaletteUse, number>> = {};
    for (const [use, n] of Object.entries(byUse)) {
      if (!n || use === 'free') continue;
      row[use as PaletteUse] = n;
      total += n;
      totals.set(use as PaletteUse, (totals.get(use as PaletteUse) ?? 0) + n);
    }
    return { owner, total, byUse: row };
  }).filter((o) => o.total > 0);
  const free = map.free ?? 0;
  if (free > 0) totals.set('free', free);
  return { owners, uses: USES.filter((u) => totals.has(u)).map((use) => ({ use, count: totals.get(use) ?? 0 })), total: map.total, free };
}

/** Owner name → palette slot (hypervisor 0, VMs 1.. in the order the census lists them). */
export function ownerSlots(map: FrameMapWire): Map<string, number> {
  const slots = new Map<string, number>();
  let next = 1;
  for (const name of Object.keys(map.owners)) {
    if (name === 'hypervisor') slots.set(name, 0);
    else slots.set(name, next++);
  }
  return slots;
}

/** Frames in [from, to) whose owner or use differs between two stops (only where both are loaded). */
export function changedFrames(before: FrameIndex, after: FrameIndex, from: number, to: number): Set<number> {
  const out = new Set<number>();
  for (let mpn = from; mpn < to; mpn++) {
    if (!before.loaded(mpn) || !after.loaded(mpn)) continue;
    const a = before.runAt(mpn);
    const b = after.runAt(mpn);
    if (a?.owner !== b?.owner || a?.use !== b?.use) out.add(mpn);
  }
  return out;
}

/** The hover / screen-reader text of one frame. */
export function describeFrame(mpn: number, run: FrameRunWire | undefined, loaded: boolean): string[] {
  const head = `mpn ${hex(mpn)} · mpa ${hex(mpn * 4096)}`;
  if (!loaded) return [head, 'loading…'];
  if (!run) return [head, 'no frame'];
  const use = (USE_LABELS as Record<string, string>)[run.use] ?? run.use;
  const end = run.mpn + run.count - 1;
  const span = run.count === 1 ? 'a run of 1 frame' : `run ${hex(run.mpn)}–${hex(end)} (${count(run.count)} frames)`;
  const refs = refsAt(run, mpn);
  const shared = refs === undefined ? [] : [`references: ${count(refs)} — ${sharedBy(refs)}`];
  return [head, `owner: ${run.ownerName}`, `use: ${use}`, ...shared, span];
}
