// The hypervisor's swapper (ESX's swap daemon, Waldspurger 2002 §3.3): when ballooning cannot
// reclaim enough, it writes pages of a VM to the VM's swap file (P2m.swapFile, ESX's per-VM
// .vswp) and frees their frames. Victims come from victims.ts (random by default, as ESX).
// Writes are asynchronous — ESX clusters them and the VM does not wait — so a swap-out costs the
// VM nothing now; the cost comes on the swap-in, when the VM touches the page again: the access
// already exits (hidden #PF in shadow mode, EPT violation in nested mode), the p2m reads the slot
// back and charges the disk's latency to the VM as stall cycles (P2m.back → 'swap-in').
//
// Share before swap (§4.3 of the paper): each victim is first offered to the page-sharing
// engine; a page that turns out to be a copy of a shared page is shared instead of written out.
import type { Machine } from '../../machine/machine';
import type { P2m } from '../../vmm/p2m';
import { VictimSelector } from './victims';
import type { VictimPolicy } from './victims';

export interface HypervisorSwapOptions {
  victim: VictimPolicy;
  /** Seed of the random victim choice. */
  seed: number;
  /** The sharing engine's offer (share before swap): true when the page was shared instead. */
  offer?: (vmId: number, ppn: number) => boolean;
}

export interface HypervisorSwapCounters {
  /** Pages written out. */
  swappedOut: number;
  /** Victims the sharing engine took instead (share before swap). */
  sharedInstead: number;
  /** swapOut calls that wrote something: each is one clustered, asynchronous write. */
  clusters: number;
  /** Pages asked for that could not be found or written (too few eligible, swap file full). */
  shortfall: number;
}

export class HypervisorSwap {
  readonly options: HypervisorSwapOptions;
  readonly selector: VictimSelector;
  readonly counters: HypervisorSwapCounters = { swappedOut: 0, sharedInstead: 0, clusters: 0, shortfall: 0 };

  constructor(private readonly machine: Machine, options: Partial<HypervisorSwapOptions> = {}) {
    this.options = { victim: 'random', seed: 1, ...options };
    this.selector = new VictimSelector(this.options.victim, this.options.seed);
  }

  /** The p2m of VM `vmId` on this machine, or undefined. */
  p2mOf(vmId: number): P2m | undefined {
    for (const vm of this.machine.vms) {
      const parts = this.machine.partsOf(vm);
      if (parts?.vmId === vmId) return parts.p2m;
    }
    return undefined;
  }

  /**
   * Reclaims up to `pages` pages from VM `vmId`: victims are offered for sharing first, the
   * rest written to its swap file. Returns the pages reclaimed (shared or swapped).
   */
  swapOut(vmId: number, pages: number, spareRecent?: boolean): number {
    const p2m = this.p2mOf(vmId);
    if (!p2m || pages <= 0) return 0;
    return this.swapOutOf(vmId, p2m, pages, spareRecent);
  }

  /** swapOut for a p2m in hand (`spareRecent`: VictimSelector.choose). */
  swapOutOf(vmId: number, p2m: P2m, pages: number, spareRecent?: boolean): number {
    let done = 0;
    let wrote = 0;
    for (const ppn of this.selector.choose(p2m, pages, spareRecent)) {
      if (this.options.offer?.(vmId, ppn)) {
        this.counters.sharedInstead++;
        done++;
        continue;
      }
      if (p2m.swapOut(ppn, this.options.victim)) {
        wrote++;
        done++;
      }
    }
    this.counters.swappedOut += wrote;
    if (wrote > 0) this.counters.clusters++;
    this.counters.shortfall += pages - done;
    return done;
  }
}
