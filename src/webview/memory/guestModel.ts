// The guest strips under the Machine Memory map: each VM's guest-physical pages by p2m state
// (private, shared, ballooned, swapped, unbacked) over one ppn window shared by every VM, so the
// same ppn lines up across VMs. Pure and DOM-free: unit-tested in node.
import type { GuestPageRunWire, GuestPagesWire, PageState } from '../../debugAdapter/viewsProtocol';
import { count, hex } from '../shared/format';
import { sharedBy } from './model';

/** The strips' palette and legend order. */
export const STATES: readonly PageState[] = ['private', 'shared', 'ballooned', 'swapped', 'unbacked'];

/** The legend's words: each state, and what it means for the page's memory. */
export const STATE_HINTS: Record<PageState, string> = {
  private: 'its own machine frame',
  shared: 'copy-on-write frame',
  ballooned: 'given to the balloon: no frame',
  swapped: 'in the swap file: no frame',
  unbacked: 'no frame yet: reads as zeros',
};

export const STATE_LABELS = Object.fromEntries(Object.entries(STATE_HINTS).map(([s, hint]) => [s, `${s} (${hint})`])) as Record<PageState, string>;

/** One VM's runs in the window, looked up by ppn. */
export class GuestIndex {
  readonly runs: GuestPageRunWire[];

  constructor(readonly pages: GuestPagesWire) {
    this.runs = [...pages.runs].sort((a, b) => a.ppn - b.ppn);
  }

  loaded(ppn: number): boolean {
    return ppn >= this.pages.fromPpn && ppn < this.pages.toPpn;
  }

  runAt(ppn: number): GuestPageRunWire | undefined {
    if (!this.loaded(ppn)) return undefined;
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.runs[mid];
      if (ppn < r.ppn) hi = mid - 1;
      else if (ppn >= r.ppn + r.count) lo = mid + 1;
      else return r;
    }
    return undefined;
  }
}

/** The hover / screen-reader text of one guest page. */
export function describePage(vm: GuestPagesWire, ppn: number, run: GuestPageRunWire | undefined): string[] {
  const head = `${vm.name} · ppn ${hex(ppn)} · gpa ${hex(ppn * 4096)}`;
  if (ppn >= vm.pages) return [head, `outside ${vm.name}'s memory (${count(vm.pages)} pages)`];
  if (!run) return [head, 'loading…'];
  const i = ppn - run.ppn;
  const lines = [head, `state: ${STATE_LABELS[run.state]}`];
  if (run.state === 'shared' && run.mpns && run.refs) {
    lines.push(`machine frame: mpn ${hex(run.mpns[i])} · ${count(run.refs[i])} reference${run.refs[i] === 1 ? '' : 's'} (${sharedBy(run.refs[i])})`);
  }
  if (run.state === 'swapped' && run.slots) lines.push(`swap slot ${count(run.slots[i])} of ${vm.swapFile}`);
  const end = run.ppn + run.count - 1;
  lines.push(run.count === 1 ? 'a run of 1 page' : `run ${hex(run.ppn)}–${hex(end)} (${count(run.count)} pages)`);
  return lines;
}

/** Pages with a frame the memory view can show without changing the page's state (a read of a swapped page would swap it in). */
export function openable(run: GuestPageRunWire | undefined): boolean {
  return run?.state === 'private' || run?.state === 'shared';
}

/**
 * The window [from, from + size) to show, clamped so it starts inside the largest VM and on a
 * multiple of `size` (rows then start at round ppns).
 */
export function pageWindow(from: number, size: number, maxPages: number): { from: number; to: number } {
  const s = Math.max(1, size);
  const last = Math.max(0, Math.ceil(maxPages / s) - 1);
  const page = Math.min(last, Math.max(0, Math.floor(from / s)));
  return { from: page * s, to: page * s + s };
}

/** Counts per state, in legend order, with their share of the VM. */
export function stateCounts(vm: GuestPagesWire): { state: PageState; pages: number }[] {
  return STATES.map((state) => ({ state, pages: vm.counts[state] ?? 0 }));
}

/** Pages in [from, to) whose state differs between two stops (only where both are loaded). */
export function changedPages(before: GuestIndex, after: GuestIndex, from: number, to: number): Set<number> {
  const out = new Set<number>();
  for (let ppn = from; ppn < to; ppn++) {
    if (!before.loaded(ppn) || !after.loaded(ppn)) continue;
    if (before.runAt(ppn)?.state !== after.runAt(ppn)?.state) out.add(ppn);
  }
  return out;
}
