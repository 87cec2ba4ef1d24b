// A small host model with fake guests, balloons and a swapper, to drive the memory scheduler
// through the ports it defines — the dynamics of Waldspurger's experiments (Figs. 7, 8) in
// miniature: pages are individually resident / ballooned / swapped / unbacked so the real
// working-set sampler can watch real touches.
import type { BalloonPort, ClockPort, HostMemoryPort, ScheduledVm, SharingPort, SwapPort } from '../../../../src/engine/memory/overcommit/memScheduler';
import { MemScheduler, type MemSchedOptions } from '../../../../src/engine/memory/overcommit/memScheduler';
import type { SamplingPort } from '../../../../src/engine/memory/overcommit/policy/workingSet';
import type { ReclaimState } from '../../../../src/engine/memory/overcommit/policy/reclaimState';
import { rng, type Rng } from '../../../support/rng';

export const UNBACKED = 0;
export const RESIDENT = 1;
export const BALLOONED = 2;
export const SWAPPED = 3;

export class FakeClock implements ClockPort {
  t = 0;
  constructor(readonly cyclesPerSecond = 1000) {}
  seconds(): number {
    return this.t;
  }
}

export class FakeBalloon implements BalloonPort {
  target = 0;
  actual = 0;
  enabled = true;
  constructor(
    /** Pages per simulated second the driver moves (ESX's rate limit is unpublished). */
    readonly rate: number,
    /** The guest's cap on the balloon (ESX Mem.CtlMaxPercent: 65 %). */
    readonly cap: number,
  ) {}
  canDeliver(): boolean {
    return this.enabled;
  }
  get shortfall(): number {
    return this.enabled ? Math.max(0, this.target - this.cap) : this.target;
  }
}

export type Activity = 'idle' | 'active' | { fraction: number };

export class FakeVm implements ScheduledVm {
  readonly pages: Uint8Array;
  readonly balloon: FakeBalloon | null;
  readonly sampling: SamplingPort;
  activity: Activity = 'active';
  blocked = false;
  cycles = 0;
  invalidations = 0;
  /** Pages the guest may touch so far (a booting guest grows into its memory). */
  reach: number;

  constructor(
    readonly host: FakeHost,
    readonly vmId: number,
    readonly maxPages: number,
    readonly shares: number,
    readonly minPages = 0,
    balloon: FakeBalloon | null = null,
    readonly overheadPages = 0,
  ) {
    this.pages = new Uint8Array(maxPages);
    this.balloon = balloon;
    this.reach = maxPages;
    const vm = this;
    this.sampling = {
      pages: maxPages,
      isResident: (ppn) => vm.pages[ppn] === RESIDENT,
      invalidate: () => {
        vm.invalidations++;
      },
    };
  }

  count(state: number): number {
    let n = 0;
    for (let i = 0; i < this.pages.length; i++) if (this.pages[i] === state) n++;
    return n;
  }
  allocatedPages(): number {
    return this.count(RESIDENT);
  }
  swappedPages(): number {
    return this.count(SWAPPED);
  }
  sharedPages(): number {
    return 0;
  }
  executedCycles(): number {
    return this.cycles;
  }
  setBlocked(blocked: boolean): void {
    this.blocked = blocked;
  }

  /** New frames (first touches and swap-ins) the guest can take per second: a guest grows into
   *  memory at a finite rate (the page cache fills as I/O completes). */
  growth = 10;
  private grown = 0;

  /** A guest access: backs / swaps in the page if the host has a free frame. */
  touch(ppn: number): boolean {
    const s = this.pages[ppn];
    if (s === BALLOONED) return false; // pinned by the driver: the guest does not use it
    if (s !== RESIDENT) {
      if (this.host.freePages() <= 0 || this.grown >= this.growth) return false;
      this.grown++;
      if (s === SWAPPED) this.host.swapIns++;
      this.pages[ppn] = RESIDENT;
    }
    this.host.scheduler?.touched(this.vmId, ppn);
    return true;
  }

  /** One simulated second of the guest. */
  step(): void {
    if (this.blocked) return;
    this.cycles += this.host.clock.cyclesPerSecond;
    this.grown = 0;
    const a = this.activity;
    if (a === 'active') for (let p = 0; p < this.reach; p++) this.touch(p);
    else if (a !== 'idle') {
      const ws = Math.floor(a.fraction * this.reach);
      for (let p = 0; p < ws; p++) this.touch(p);
    }
    this.stepBalloon();
  }

  private stepBalloon(): void {
    const b = this.balloon;
    if (!b || !b.enabled) return;
    const goal = Math.min(b.target, b.cap);
    let moves = b.rate;
    // Inflate: the driver allocates guest pages (a free one first, as a guest allocator would
    // hand out; then one the guest gives up) and the host frees their frames.
    while (moves > 0 && b.actual < goal) {
      const p = this.pickPage((s) => s !== BALLOONED);
      if (p < 0) break;
      if (this.pages[p] === SWAPPED) this.host.swapIns++; // the driver touched a swapped page
      this.pages[p] = BALLOONED;
      b.actual++;
      moves--;
    }
    while (moves > 0 && b.actual > goal) {
      const p = this.pickPage((s) => s === BALLOONED);
      if (p < 0) break;
      this.pages[p] = UNBACKED;
      b.actual--;
      moves--;
    }
  }

  private pickPage(ok: (s: number) => boolean): number {
    // Unbacked pages first (the guest's free list), then from the top of memory down, which the
    // active fake guests touch last.
    for (let p = this.pages.length - 1; p >= 0; p--) if (this.pages[p] === UNBACKED && ok(UNBACKED)) return p;
    for (let p = this.pages.length - 1; p >= 0; p--) if (ok(this.pages[p])) return p;
    return -1;
  }
}

export class FakeSwap implements SwapPort {
  swappedOut = 0;
  calls: { vmId: number; pages: number }[] = [];
  constructor(
    readonly host: FakeHost,
    readonly r: Rng,
  ) {}
  swapOut(vmId: number, pages: number): number {
    this.calls.push({ vmId, pages });
    const vm = this.host.vms.find((v) => v.vmId === vmId)!;
    const resident: number[] = [];
    for (let p = 0; p < vm.pages.length; p++) if (vm.pages[p] === RESIDENT) resident.push(p);
    let done = 0;
    // Random victims, as ESX.
    while (done < pages && resident.length > 0) {
      const i = this.r.int(resident.length);
      vm.pages[resident[i]] = SWAPPED;
      resident[i] = resident[resident.length - 1];
      resident.pop();
      done++;
    }
    this.swappedOut += done;
    return done;
  }
}

export class FakeSharing implements SharingPort {
  scanned = 0;
  calls = 0;
  scan(pages: number): void {
    this.scanned += pages;
    this.calls++;
  }
}

export class FakeHost implements HostMemoryPort {
  readonly vms: FakeVm[] = [];
  readonly clock: FakeClock;
  readonly swap: FakeSwap;
  readonly sharing = new FakeSharing();
  scheduler: MemScheduler | null = null;
  swapIns = 0;
  readonly stateTime: Record<ReclaimState, number> = { high: 0, soft: 0, hard: 0, low: 0 };

  constructor(
    readonly totalPages: number,
    readonly swapPages = 1 << 20,
    seed = 1,
  ) {
    this.clock = new FakeClock();
    this.swap = new FakeSwap(this, rng(seed + 1));
  }

  freePages(): number {
    let used = 0;
    for (const v of this.vms) used += v.allocatedPages();
    return this.totalPages - used;
  }

  addVm(vm: FakeVm): void {
    this.vms.push(vm);
    const refused = this.scheduler?.addVm(vm);
    if (refused) throw new Error(refused);
  }

  start(options: Partial<MemSchedOptions>): MemScheduler {
    this.scheduler = new MemScheduler(this, this.clock, this.swap, this.sharing, options);
    for (const v of this.vms) {
      const refused = this.scheduler.addVm(v);
      if (refused) throw new Error(refused);
    }
    return this.scheduler;
  }

  /** Runs `seconds` simulated seconds: guests, then the scheduler's tick. */
  run(seconds: number, each?: (t: number) => void): void {
    for (let s = 0; s < seconds; s++) {
      this.clock.t++;
      for (const v of this.vms) v.step();
      this.scheduler!.tick();
      this.stateTime[this.scheduler!.state]++;
      each?.(this.clock.t);
    }
  }
}
