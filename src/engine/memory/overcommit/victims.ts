// Which private pages the hypervisor swapper writes out. Three policies:
//   random — ESX's choice (Waldspurger 2002 §3.3): uniformly at random among eligible pages,
//            from a seeded generator so a run replays exactly.
//   clock  — second chance over the p2m's referenced bit, which the p2m sets whenever the VMM
//            maps the page (a fault path's back()); the hand clears it as it passes.
//   lru    — the page whose last mapping by the VMM is oldest.
// The VMM cannot see the guest's accesses, only its own mappings (a hit in the TLB or through an
// existing spte/EPT entry never reaches it), so clock and LRU here are approximations of the
// guest's recency — and, worse, they approximate the same recency the guest's own replacement
// uses. A guest under pressure pages out its least recently used pages; a VMM that also prefers
// cold pages picks those same pages, and the guest then writes out pages the VMM has already
// written out (double paging: each is read back in only to be written out again). Random victims
// are independent of the guest's choice, which is why ESX uses them (docs/overcommit/swapping.md).
import type { P2m } from '../../vmm/p2m';
import { seededRandom, type RandomSource } from './seededRandom';

export type VictimPolicy = 'random' | 'clock' | 'lru';
export const VICTIM_POLICIES: readonly VictimPolicy[] = ['random', 'clock', 'lru'];

/**
 * A page the swapper may take: private, not refused (page table, hypervisor page, pinned,
 * paravirtual), never the page being faulted in, and — unless `spareRecent` is false — none of
 * the pages touched just before it (p2m.recentlyTouched: the pages one instruction may need at
 * once, which would otherwise evict each other forever on a machine with a frame to spare).
 */
export function swappable(p2m: P2m, ppn: number, spareRecent = true): boolean {
  if (!p2m.isPrivate(ppn) || ppn === p2m.lastTouched) return false;
  if (spareRecent && p2m.recentlyTouched(ppn)) return false;
  return p2m.whyNot(ppn, 'swap') === null;
}

export class VictimSelector {
  private readonly random: RandomSource;
  /** The clock hand of each VM's p2m. */
  private readonly hands = new WeakMap<P2m, number>();

  constructor(readonly policy: VictimPolicy, seed = 1) {
    this.random = seededRandom(seed);
  }

  /**
   * Up to `n` distinct swappable pages of the VM, in the order to swap them. Pages touched just
   * now are spared (`spareRecent` true) or not (false); by default they are spared while any
   * other page of the VM can go, and a VM with nothing else left gives those too.
   */
  choose(p2m: P2m, n: number, spareRecent?: boolean): number[] {
    if (n <= 0) return [];
    if (spareRecent !== undefined) return this.pick(p2m, n, spareRecent);
    const picked = this.pick(p2m, n, true);
    return picked.length > 0 ? picked : this.pick(p2m, n, false);
  }

  private pick(p2m: P2m, n: number, spareRecent: boolean): number[] {
    if (this.policy === 'clock') return this.clock(p2m, n, spareRecent);
    if (this.policy === 'lru') return this.lru(p2m, n, spareRecent);
    return this.randomPages(p2m, n, spareRecent);
  }

  /**
   * A partial Fisher–Yates shuffle of the p2m's private-page set, keeping the swappable pages:
   * the first k kept are a uniform random k-subset of the swappable pages, in random order.
   * The shuffle is virtual (the few displaced positions in a map), so it costs O(n + the refused
   * pages drawn), not O(pages of the VM), and leaves the set as it was: the same seed on the
   * same p2m chooses the same pages.
   */
  private randomPages(p2m: P2m, n: number, spareRecent: boolean): number[] {
    const set = p2m.privatePages();
    const moved = new Map<number, number>();
    const out: number[] = [];
    const size = set.size;
    for (let i = 0; i < size && out.length < n; i++) {
      const j = i + Math.floor(this.random() * (size - i));
      const p = moved.get(j) ?? set.at(j);
      moved.set(j, moved.get(i) ?? set.at(i));
      if (swappable(p2m, p, spareRecent)) out.push(p);
    }
    return out;
  }

  /**
   * The n pages whose last mapping by the VMM is oldest (pages never mapped since tracking
   * began, tick 0, first; ties by lowest ppn), in that order: a bounded max-heap over the
   * private pages, O(private · log n) rather than sorting every page of the VM.
   */
  private lru(p2m: P2m, n: number, spareRecent: boolean): number[] {
    p2m.trackMappingTimes();
    const set = p2m.privatePages();
    // Max-heap on (tick, ppn): the root is the newest of the n oldest kept so far.
    const heap: number[] = [];
    const newer = (a: number, b: number): boolean => {
      const ta = p2m.lastMapped(a);
      const tb = p2m.lastMapped(b);
      return ta !== tb ? ta > tb : a > b;
    };
    const down = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && newer(heap[l], heap[m])) m = l;
        if (r < heap.length && newer(heap[r], heap[m])) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    for (let i = 0; i < set.size; i++) {
      const p = set.at(i);
      if (heap.length === n && !newer(heap[0], p)) continue;
      if (!swappable(p2m, p, spareRecent)) continue;
      if (heap.length < n) {
        heap.push(p);
        for (let c = heap.length - 1; c > 0; ) {
          const up = (c - 1) >> 1;
          if (!newer(heap[c], heap[up])) break;
          [heap[c], heap[up]] = [heap[up], heap[c]];
          c = up;
        }
      } else {
        heap[0] = p;
        down(0);
      }
    }
    return heap.sort((a, b) => p2m.lastMapped(a) - p2m.lastMapped(b) || a - b);
  }

  /** Second chance: a referenced page loses its bit and is passed over once. */
  private clock(p2m: P2m, n: number, spareRecent: boolean): number[] {
    const out: number[] = [];
    const pages = p2m.pages;
    let hand = this.hands.get(p2m) ?? 0;
    // Two sweeps find every eligible page: the first clears the bits it passes.
    for (let steps = 0; steps < 2 * pages && out.length < n; steps++) {
      const p = hand;
      hand = hand + 1 === pages ? 0 : hand + 1;
      if (!swappable(p2m, p, spareRecent)) continue;
      if (p2m.referenced(p)) {
        p2m.clearReferenced(p);
        continue;
      }
      out.push(p);
    }
    this.hands.set(p2m, hand);
    return out;
  }
}
