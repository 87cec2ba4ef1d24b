// The page-sharing scanner (ESX §4.3): visits guest pages at random, at a per-VM rate and under a
// system-wide cap, in pages per simulated second, and offers each eligible page to the global
// share table. Also the "share before swap" entry: the hypervisor swapper offers a victim first,
// and a page that shares needs no swap I/O. Counters follow KSM's names (Documentation/admin-guide/
// mm/ksm.rst). The p2m raises 'page-shared' on the remapped page's VM bus; the scanner listens
// for 'cow-break' there to keep the table's reference counts current.
import type { EventBus } from '../../../events';
import { PAGE_SIZE } from '../../frame';
import { ShareTable } from './shareTable';
import type { PageHashFn, SharingHost } from './shareTable';
import { ScanOrder } from './scanOrder';
import { seededRandom, type RandomSource } from '../seededRandom';

/** One VM as the scanner sees it. */
export interface ScanVm {
  vmId: number;
  /** Guest-physical pages: the scan covers 0 … pages-1. */
  pages: number;
  bus: EventBus;
  /**
   * Whether the page has a private frame now — a cheap state test the scanner makes before
   * offering a page (optional: without it every draw is offered). A 1 GiB VM that touched 1 %
   * of its memory has 99 draws in 100 land on a page with no frame, and those must cost a byte
   * read, not an offer.
   */
  resident?: (ppn: number) => boolean;
  /** How many pages are resident and private now (optional): with none, the scanner does not draw at all. */
  residentPages?: () => number;
}

/** The hypervisor side the scanner works on: the table's host plus the list of VMs. */
export interface ScanHost extends SharingHost {
  vms(): readonly ScanVm[];
}

/** memsched.sharing (design): defaults from ESX 2.x, Mem.ShareScanVM and Mem.ShareScanTotal. */
export interface SharingOptions {
  enabled: boolean;
  /** Pages hashed per simulated second per VM (Mem.ShareScanVM = 50). */
  scanPagesPerSecPerVm: number;
  /** Pages hashed per simulated second over all VMs (Mem.ShareScanTotal = 200). */
  scanPagesPerSecTotal: number;
}

export const DEFAULT_SHARING_OPTIONS: SharingOptions = { enabled: true, scanPagesPerSecPerVm: 50, scanPagesPerSecTotal: 200 };

export interface ScannerOptions extends Partial<SharingOptions> {
  /** Seed of the scan order (runs repeat exactly). */
  seed?: number;
  /** The page hash (tests force collisions with a tiny one). */
  hash?: PageHashFn;
}

/** KSM's counters (the names in /sys/kernel/mm/ksm/) plus the ESX table's own. */
export interface SharingStats {
  /** Shared frames in use (KSM pages_shared). */
  pagesShared: number;
  /** Guest pages mapping a shared frame beyond the first: machine pages saved (KSM pages_sharing). */
  pagesSharing: number;
  /** Hint frames: unique pages still re-checked (KSM pages_unshared). */
  pagesUnshared: number;
  /** Hints dropped because their page had changed when rehashed (KSM pages_volatile, cumulative). */
  pagesVolatile: number;
  /** Passes over every VM's memory completed (KSM full_scans). */
  fullScans: number;
  /** Eligible pages hashed by the scanner (KSM pages_scanned). */
  pagesScanned: number;
  /** Guest pages mapping the zero frame (KSM ksm_zero_pages). */
  zeroPages: number;
  /** Hash matches whose full compare failed (page not shared). */
  falseMatches: number;
  /** Hints dropped because their page had left (shared elsewhere, swapped, ballooned, freed). */
  departedHints: number;
  /** Copy-on-write breaks in the VMs (KSM cow_ksm). */
  cowBreaks: number;
  /** Pages the swapper offered first ("share before swap") and how many of them shared. */
  offered: number;
  offeredShared: number;
  /** Machine memory saved, net of the table's own records. */
  savedPages: number;
  savedBytes: number;
  tableBytes: number;
}

interface VmScan {
  vm: ScanVm;
  order: ScanOrder;
  credit: number;
  /** Eligible pages this VM has had hashed. */
  scanned: number;
  unsubscribe: () => void;
}

/** The residency test of a VM that gives none: every page is offered. */
const everyPage = (): boolean => true;

export class SharingScanner {
  readonly table: ShareTable;
  readonly options: SharingOptions;
  private readonly random: RandomSource;
  private readonly scans = new Map<number, VmScan>();
  private totalCredit = 0;
  /** Round-robin start, rotated every advance so the total cap starves no VM. */
  private startAt = 0;
  private pagesScanned = 0;
  private cowBreaks = 0;
  private offered = 0;
  private offeredShared = 0;

  constructor(
    private readonly host: ScanHost,
    options: ScannerOptions = {},
  ) {
    this.options = {
      enabled: options.enabled ?? DEFAULT_SHARING_OPTIONS.enabled,
      scanPagesPerSecPerVm: options.scanPagesPerSecPerVm ?? DEFAULT_SHARING_OPTIONS.scanPagesPerSecPerVm,
      scanPagesPerSecTotal: options.scanPagesPerSecTotal ?? DEFAULT_SHARING_OPTIONS.scanPagesPerSecTotal,
    };
    if (!(this.options.scanPagesPerSecPerVm >= 0 && this.options.scanPagesPerSecTotal >= 0)) throw new RangeError('scan rates must be ≥ 0 pages per second');
    this.random = seededRandom(options.seed ?? 0x5ca9);
    this.table = new ShareTable(host, { hash: options.hash });
  }

  /**
   * `seconds` of simulated time went by: hash what the rates allow. A VM's unused credit does
   * not pile up beyond one page (a VM idle for an hour does not get an hour's scanning at once).
   * Returns the pages hashed.
   */
  advance(seconds: number): number {
    if (!this.options.enabled || !(seconds > 0)) return 0;
    const scans = this.refreshVms();
    if (scans.length === 0) return 0;
    const perVm = this.options.scanPagesPerSecPerVm * seconds;
    for (const s of scans) s.credit = Math.min(s.credit + perVm, perVm + 1);
    const total = this.options.scanPagesPerSecTotal * seconds;
    this.totalCredit = Math.min(this.totalCredit + total, total + 1);
    const hashed = this.roundRobin(scans, (s) => s.credit >= 1, (s) => s.credit--, () => this.totalCredit >= 1, () => this.totalCredit--);
    this.startAt = (this.startAt + 1) % scans.length;
    return hashed;
  }

  /**
   * Hashes up to `pages` eligible pages now, spread evenly over the VMs: each VM gets at most
   * its even share (rounded up), so one VM with many eligible pages does not take the share of
   * one with none — the per-VM cap when the caller (the memory scheduler) paces the total.
   * Returns the pages hashed.
   */
  scan(pages: number): number {
    if (!this.options.enabled) return 0;
    const scans = this.refreshVms();
    if (scans.length === 0 || !(pages >= 1)) return 0;
    const share = new Map(scans.map((s) => [s, Math.ceil(pages / scans.length)]));
    let left = Math.floor(pages);
    const hashed = this.roundRobin(scans, (s) => share.get(s)! >= 1, (s) => share.set(s, share.get(s)! - 1), () => left >= 1, () => left--);
    this.startAt = (this.startAt + 1) % scans.length;
    return hashed;
  }

  /** Completes one pass over every VM's memory now, ignoring the rates (experiments, tests). */
  fullScan(): number {
    const scans = this.refreshVms();
    let hashed = 0;
    for (const s of scans) {
      const pass = s.order.passes;
      while (s.order.passes === pass) {
        if (this.scanOne(s, true) !== 'hashed') break;
        hashed++;
      }
    }
    return hashed;
  }

  /**
   * Share before swap: the hypervisor swapper offers its victim first. true when the page is now
   * shared (its private frame is free already: no swap needed); a unique page becomes a hint.
   */
  offer(vmId: number, ppn: number): boolean {
    if (!this.options.enabled) return false;
    this.refreshVms();
    const s = this.scans.get(vmId);
    if (!s) return false;
    const r = this.table.offer(vmId, ppn);
    if (r.outcome === 'ineligible') return false;
    this.offered++;
    if (r.outcome !== 'shared') return false;
    this.offeredShared++;
    return true;
  }

  /** Pages of VM vmId hashed so far (rates are per VM: tests check them). */
  scannedOf(vmId: number): number {
    return this.scans.get(vmId)?.scanned ?? 0;
  }

  stats(): SharingStats {
    this.table.reconcile();
    const sharing = this.table.pagesSharing;
    let fullScans = Infinity;
    for (const s of this.scans.values()) fullScans = Math.min(fullScans, s.order.passes);
    const tableBytes = this.table.bytes;
    const c = this.table.counters;
    return {
      pagesShared: this.table.sharedFrames,
      pagesSharing: sharing,
      pagesUnshared: this.table.hintFrames,
      pagesVolatile: c.volatileHints,
      fullScans: fullScans === Infinity ? 0 : fullScans,
      pagesScanned: this.pagesScanned,
      zeroPages: this.table.zeroPages,
      falseMatches: c.falseMatches,
      departedHints: c.departedHints,
      cowBreaks: this.cowBreaks,
      offered: this.offered,
      offeredShared: this.offeredShared,
      savedPages: sharing,
      savedBytes: sharing * PAGE_SIZE - tableBytes,
      tableBytes,
    };
  }

  /**
   * The table's invariants (for the MMU audit): chains, indexes, every shared frame still holding
   * the contents it was shared with. Counts are re-read first: pages also leave shared frames
   * without an event (ballooned, VM destroyed).
   */
  audit(): string[] {
    this.table.reconcile();
    return this.table.audit();
  }

  /** Stops listening to the VMs' buses. */
  dispose(): void {
    for (const s of this.scans.values()) s.unsubscribe();
    this.scans.clear();
  }

  // --- internals ---

  /** The VMs now on the machine, new ones given a scan order and a COW-break listener. */
  private refreshVms(): VmScan[] {
    const out: VmScan[] = [];
    for (const vm of this.host.vms()) {
      let s = this.scans.get(vm.vmId);
      if (!s) {
        const unsubscribe = vm.bus.on('cow-break', (e) => {
          this.cowBreaks++;
          this.table.released(e.oldMpn, e.refsLeft);
        });
        s = { vm, order: new ScanOrder(Math.max(1, vm.pages), this.random), credit: 0, scanned: 0, unsubscribe };
        this.scans.set(vm.vmId, s);
      }
      out.push(s);
    }
    return out;
  }

  /**
   * Visits VMs in turn, one hashed page each per round, while `more()` allows and the VM has
   * credit; a VM with no eligible page left in a whole pass drops out of this call.
   */
  private roundRobin(scans: VmScan[], has: (s: VmScan) => boolean, spend: (s: VmScan) => void, more: () => boolean, spendTotal: () => void): number {
    const n = scans.length;
    const empty = new Set<VmScan>();
    let hashed = 0;
    let progress = true;
    while (progress && more()) {
      progress = false;
      for (let i = 0; i < n && more(); i++) {
        const s = scans[(this.startAt + i) % n];
        if (empty.has(s) || !has(s)) continue;
        if (this.scanOne(s, false) === 'hashed') {
          spend(s);
          spendTotal();
          hashed++;
          progress = true;
        } else empty.add(s);
      }
    }
    return hashed;
  }

  /**
   * Walks VM s's scan order to the next eligible page and offers it. 'nothing': two passes' worth
   * of draws found no eligible page; 'pass-end' (only with stopAtPassEnd): the pass ended first.
   */
  private scanOne(s: VmScan, stopAtPassEnd: boolean): 'hashed' | 'nothing' | 'pass-end' {
    // A VM with no private page (not started yet, or all shared, swapped, ballooned) would cost
    // two passes of draws to find nothing: the whole of a 1 GiB VM, at every scheduler tick.
    if (s.vm.residentPages !== undefined && s.vm.residentPages() === 0) return 'nothing';
    const order = s.order;
    const stop = order.drawn + 2 * order.n;
    const resident = s.vm.resident ?? everyPage;
    let pass = order.passes;
    let ended = false;
    while (order.drawn < stop) {
      const ppn = order.nextWhere(resident, stop - order.drawn);
      if (order.passes !== pass) {
        pass = order.passes;
        ended = true;
        // Once a pass, re-read the counts of pages that left shared frames without an event.
        this.table.reconcile();
      }
      if (ppn >= 0) {
        const r = this.table.offer(s.vm.vmId, ppn);
        if (r.outcome !== 'ineligible') {
          this.pagesScanned++;
          s.scanned++;
          return 'hashed';
        }
      }
      if (stopAtPassEnd && ended) return 'pass-end';
    }
    return 'nothing';
  }
}
