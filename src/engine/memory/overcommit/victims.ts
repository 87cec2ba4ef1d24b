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

/** A page the swapper may take: private, not the page being faulted in, and not refused (page table, hypervisor page, pinned, paravirtual). */
export function swappable(p2m: P2m, ppn: number): boolean {
  return p2m.stateOf(ppn) === 'private' && ppn !== p2m.lastTouched && p2m.whyNot(ppn, 'swap') === null;
}

export class VictimSelector {
  private readonly random: RandomSource;
  /** The clock hand of each VM's p2m. */
  private readonly hands = new WeakMap<P2m, number>();

  constructor(readonly policy: VictimPolicy, seed = 1) {
    this.random = seededRandom(seed);
  }

  /** Up to `n` distinct swappable pages of the VM, in the order to swap them. */
  choose(p2m: P2m, n: number): number[] {
    if (n <= 0) return [];
    if (this.policy === 'clock') return this.clock(p2m, n);
    const eligible: number[] = [];
    for (let p = 0; p < p2m.pages; p++) if (swappable(p2m, p)) eligible.push(p);
    if (this.policy === 'lru') {
      p2m.trackMappingTimes();
      // Stable: pages never mapped since tracking began (tick 0) go first, lowest ppn first.
      return eligible.sort((a, b) => p2m.lastMapped(a) - p2m.lastMapped(b) || a - b).slice(0, n);
    }
    // A partial Fisher–Yates shuffle: the first k are a uniform random k-subset, in random order.
    const k = Math.min(n, eligible.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.random() * (eligible.length - i));
      const t = eligible[i];
      eligible[i] = eligible[j];
      eligible[j] = t;
    }
    return eligible.slice(0, k);
  }

  /** Second chance: a referenced page loses its bit and is passed over once. */
  private clock(p2m: P2m, n: number): number[] {
    const out: number[] = [];
    const pages = p2m.pages;
    let hand = this.hands.get(p2m) ?? 0;
    // Two sweeps find every eligible page: the first clears the bits it passes.
    for (let steps = 0; steps < 2 * pages && out.length < n; steps++) {
      const p = hand;
      hand = (hand + 1) % pages;
      if (!swappable(p2m, p)) continue;
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
