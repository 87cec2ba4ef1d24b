// The balloon device model: the host's side of ESX's vmmemctl / virtio-balloon. The host sets a
// target; the guest's driver allocates pinned pages through its own allocator and hands their
// ppns over (inflate), and the device tells the VMM to free their machine frames; deflate gives
// pages back. Ports and bits: balloonPorts.ts; the whole protocol: docs/overcommit/balloon.md.
import type { EventBus } from '../../../events';
import type { GuestMemory } from '../../guestMemory';
import type { PortDevice } from '../../../devices';
import { BALLOON_MAX_BATCH, BALLOON_PORTS, BalloonDriver, BalloonPort, BalloonStatus } from './balloonPorts';
import type { DriverState } from './balloonPorts';
import type { PageState } from '../../../vmm/p2m';

/**
 * What the device needs from the VMM: the p2m's balloon/deflate (vmm/p2m.ts) fit it as they
 * are; tests use a fake; a VM without a hypervisor uses nativeBalloonVmm.
 */
export interface BalloonVmm {
  /** The guest handed the page over: free its machine frame. false: refused (the page stays the guest's). */
  balloon(ppn: number): boolean;
  /** The page is the guest's again; it gets a fresh zeroed frame on its next touch. */
  deflate(ppn: number): void;
  /** The page's state before it is ballooned (the p2m's): only a 'private' page gives a machine
   *  frame back. Without it (natively) every page counts as freeing one. */
  stateOf?(ppn: number): PageState;
}

/** A host-side target change at a simulated time: the stand-in for a memory scheduler in a stand-alone run. */
export interface TargetStep {
  /** Simulated seconds since the VM started. */
  at: number;
  /** The target from then on, in pages. */
  pages: number;
}

export interface BalloonOptions {
  /** The target at power-on, in pages (default 0: no balloon). */
  target?: number;
  /** Later targets, applied when their time has come (sorted by the device). */
  schedule?: TargetStep[];
}

export interface BalloonCounters {
  inflated: number;
  /** Pages inflated that freed no machine frame (never touched, swapped by the VMM, or shared). */
  withoutFrame: number;
  deflated: number;
  pops: number;
  /** Pages the host refused (bad ppn, already held, VMM refused) or requests over the batch limit. */
  refused: number;
  requests: number;
}

export interface BalloonDeviceParams {
  /** Guest-physical pages of the VM (ppns at or above are refused). */
  guestPages: number;
  /** The guest-physical view the device reads list pages through (no backing on read). */
  memory: GuestMemory;
  vmm: BalloonVmm;
  bus: EventBus;
  /** Simulated seconds now (the machine clock, or the VM's instructions at 1 MHz natively). */
  now: () => number;
  /** The event stamp of vCPU i (icount, rip). */
  stamp: (vcpu: number) => { icount: number; rip: bigint };
  options?: BalloonOptions;
}

const HELD_FREED = 1;
const HELD_NO_FRAME = 2;

/** A loaded driver that has not read its target for this long (it polls once a second) is stalled. */
export const STALLED_AFTER_S = 3;

export class BalloonDevice implements PortDevice {
  readonly name = 'balloon';
  readonly ports = BALLOON_PORTS;
  readonly counters: BalloonCounters = { inflated: 0, withoutFrame: 0, deflated: 0, pops: 0, refused: 0, requests: 0 };
  /** What the driver said about itself last ('absent' until it speaks: not installed, or not loaded yet). */
  driverState: DriverState = 'absent';
  /** The guest's cap on the balloon, in pages, as its driver announced it (Infinity until then). */
  guestLimit = Infinity;
  /** The driver's last reported size (virtio `actual`). */
  reportedActual = 0;
  /** When the driver loaded (simulated seconds), or undefined. */
  loadedAt: number | undefined;
  /** When the driver last read its target (simulated seconds), or undefined. */
  lastPollAt: number | undefined;
  /**
   * What the host's target counts. 'pages' (the default; virtio's num_pages): pages in the
   * balloon, whatever they freed — a stand-alone schedule means exactly that many pages.
   * 'frames': machine frames the balloon must free — set by the memory scheduler
   * (MachineOvercommit.addVm), whose targets are about relieving the host: a ballooned page that
   * had no frame of its own (never touched, swapped by the VMM, shared) does not count toward it.
   */
  accounting: 'pages' | 'frames' = 'pages';

  /** Per ppn: 0 not held, HELD_FREED (it gave a machine frame back), HELD_NO_FRAME (it had none of its own). */
  private readonly held: Uint8Array;
  private heldCount = 0;
  private freedCount = 0;
  private hostTarget: number;
  private readonly schedule: TargetStep[];
  private popped = false;
  private lastOk = true;
  private lastResult = 0;
  private listGpa = 0;

  constructor(private readonly p: BalloonDeviceParams) {
    this.held = new Uint8Array(p.guestPages);
    this.hostTarget = p.options?.target ?? 0;
    this.schedule = [...(p.options?.schedule ?? [])].sort((a, b) => a.at - b.at);
  }

  /** Pages the balloon holds now (frames the host got back). */
  get size(): number {
    return this.heldCount;
  }

  /**
   * The balloon's size in the target's unit (see `accounting`). Under 'frames', the held pages
   * that had a frame of their own when they were ballooned: a page the guest never touched
   * (unbacked), one the VMM had swapped, or a shared one freed no frame and does not count.
   */
  get actual(): number {
    return this.accounting === 'frames' ? this.freedCount : this.heldCount;
  }

  /** Machine frames the balloon's pages gave back (whatever the accounting). */
  get framesFreed(): number {
    return this.freedCount;
  }

  /** Held pages that do not count toward the target: those that freed no frame, under 'frames'. */
  get heldWithoutFrame(): number {
    return this.heldCount - this.actual;
  }

  /** The host's target in machine frames to free (a due schedule step is applied first). */
  get target(): number {
    this.applySchedule();
    return this.hostTarget;
  }

  /**
   * The target the driver reads (TARGET), in guest pages: the host's target in frames plus the
   * pages it holds that freed none — so that a balloon grown from never-touched pages keeps
   * inflating until it has really freed `target` frames. The guest cannot tell backed pages from
   * unbacked ones; the VMM can, and counts only what freed a frame.
   */
  get driverTarget(): number {
    return Math.min(this.p.guestPages, this.target + this.heldWithoutFrame);
  }

  /** The memory scheduler sets a new target; the driver sees it at its next poll. */
  set target(pages: number) {
    this.setTarget(pages);
  }

  setTarget(pages: number, vcpu = 0): void {
    const t = Math.max(0, Math.min(Math.floor(pages), this.p.guestPages));
    if (t === this.hostTarget) return;
    this.hostTarget = t;
    this.emit('target', 0, undefined, vcpu);
  }

  /**
   * Why the balloon cannot reclaim at all right now, in words (the console of the VMM), or
   * null when it can: no driver has spoken (none installed, or not loaded yet), the driver is
   * disabled, the balloon popped and the driver has not reset, or the driver stopped polling.
   */
  whyNot(): string | null {
    if (this.driverState === 'absent') return 'no balloon driver (not installed, or not loaded yet)';
    if (this.driverState === 'disabled') return 'the balloon driver is disabled in the guest';
    if (this.popped) return 'the balloon popped and the driver has not reset yet';
    if (this.lastPollAt !== undefined && this.p.now() - this.lastPollAt > STALLED_AFTER_S) return `the driver has not polled its target for over ${STALLED_AFTER_S} s`;
    return null;
  }

  /** Can the balloon reclaim at all? false → the memory scheduler must swap instead. */
  canDeliver(): boolean {
    return this.whyNot() === null;
  }

  /**
   * Pages of the target the balloon will not reach: beyond the guest's cap when it can deliver,
   * else all it does not hold already. The memory scheduler swaps for the shortfall.
   */
  get shortfall(): number {
    const target = this.target;
    // The guest's cap counts every held page, frame or not: what is left of it for frames.
    const reachable = this.canDeliver() ? Math.min(target, Math.max(0, this.guestLimit - this.heldWithoutFrame)) : Math.min(target, this.actual);
    return Math.max(0, target - reachable);
  }

  /** Is this ppn in the balloon? */
  holds(ppn: number): boolean {
    return ppn >= 0 && ppn < this.held.length && this.held[ppn] !== 0;
  }

  /** The status word as the driver reads it. */
  get status(): number {
    return BalloonStatus.PRESENT | (this.popped ? BalloonStatus.POPPED : 0) | (this.lastOk ? BalloonStatus.ACK : BalloonStatus.ERROR);
  }

  /**
   * The guest touched a ballooned page (the VMM backed it with a fresh zeroed frame): pop the
   * balloon as ESX does — the host forgets every page it held (each gets a fresh frame on its
   * next touch) and tells the driver, through STATUS.POPPED, to reset and start over.
   */
  pop(ppn: number, vcpu = 0): void {
    if (!this.holds(ppn)) return;
    const pages = this.heldCount;
    for (let p = 0; p < this.held.length; p++) {
      if (this.held[p] === 0) continue;
      this.held[p] = 0;
      if (p !== ppn) this.p.vmm.deflate(p); // the touched page is backed already
    }
    this.heldCount = 0;
    this.freedCount = 0;
    this.popped = true;
    this.counters.pops++;
    this.emit('pop', pages, ppn, vcpu);
  }

  in(_vcpu: number, port: number, size: number): number {
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    switch (port) {
      case BalloonPort.TARGET:
        this.lastPollAt = this.p.now();
        return this.driverTarget & mask;
      case BalloonPort.ACTUAL: return this.heldCount & mask;
      case BalloonPort.STATUS: return this.status & mask;
      case BalloonPort.RESULT: return this.lastResult & mask;
      default: return mask; // write-only registers read as an empty bus does
    }
  }

  out(vcpu: number, port: number, _size: number, value: number): void {
    const v = value >>> 0;
    switch (port) {
      case BalloonPort.ACTUAL: this.reportedActual = v; return;
      case BalloonPort.INFLATE: this.request('inflate', [v], vcpu); return;
      case BalloonPort.DEFLATE: this.request('deflate', [v], vcpu); return;
      case BalloonPort.LIST: this.listGpa = v; return;
      case BalloonPort.INFLATE_LIST: this.request('inflate', this.readList(v), vcpu); return;
      case BalloonPort.DEFLATE_LIST: this.request('deflate', this.readList(v), vcpu); return;
      case BalloonPort.STATUS: if (v & BalloonStatus.POPPED) this.popped = false; return;
      case BalloonPort.DRIVER: this.driverSays(v); return;
      case BalloonPort.LIMIT: this.guestLimit = v; return;
    }
  }

  private driverSays(v: number): void {
    if (v === BalloonDriver.LOADED) {
      this.driverState = 'loaded';
      this.loadedAt ??= this.p.now();
    } else if (v === BalloonDriver.DISABLED) this.driverState = 'disabled';
  }

  /** The list's ppns, or null when the count is over the batch limit or the list is misplaced. */
  private readList(count: number): number[] | null {
    if (count > BALLOON_MAX_BATCH || this.listGpa % 4096 !== 0 || this.listGpa + 4 * count > this.p.memory.size) return null;
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.p.memory.readU(this.listGpa + 4 * i, 4));
    return out;
  }

  /** One request: pages in order, stopping at the first the host refuses. */
  private request(op: 'inflate' | 'deflate', ppns: number[] | null, vcpu: number): void {
    this.counters.requests++;
    let done = 0;
    // Popped: the host forgot the balloon, and the driver's idea of it is stale until it resets.
    if (ppns === null || this.popped) this.counters.refused++;
    else {
      for (const ppn of ppns) {
        if (!(op === 'inflate' ? this.inflateOne(ppn) : this.deflateOne(ppn))) {
          this.counters.refused++;
          break;
        }
        done++;
      }
    }
    this.lastResult = done;
    this.lastOk = ppns !== null && !this.popped && done === ppns.length;
    if (done > 0) this.emit(op, done, ppns!.length === 1 ? ppns![0] : undefined, vcpu);
  }

  private inflateOne(ppn: number): boolean {
    if (ppn >= this.held.length || this.held[ppn] !== 0) return false;
    const before = this.p.vmm.stateOf?.(ppn) ?? 'private';
    if (!this.p.vmm.balloon(ppn)) return false;
    const freed = before === 'private';
    this.held[ppn] = freed ? HELD_FREED : HELD_NO_FRAME;
    this.heldCount++;
    if (freed) this.freedCount++;
    else this.counters.withoutFrame++;
    this.counters.inflated++;
    return true;
  }

  private deflateOne(ppn: number): boolean {
    if (ppn >= this.held.length || this.held[ppn] === 0) return false;
    this.p.vmm.deflate(ppn);
    if (this.held[ppn] === HELD_FREED) this.freedCount--;
    this.held[ppn] = 0;
    this.heldCount--;
    this.counters.deflated++;
    return true;
  }

  private applySchedule(): void {
    if (this.schedule.length === 0) return;
    const now = this.p.now();
    while (this.schedule.length > 0 && this.schedule[0].at <= now) this.setTarget(this.schedule.shift()!.pages);
  }

  private emit(action: 'inflate' | 'deflate' | 'pop' | 'target', pages: number, ppn: number | undefined, vcpu: number): void {
    if (!this.p.bus.wants.balloon) return;
    this.p.bus.emit({ kind: 'balloon', action, pages, ppn, size: this.heldCount, target: this.hostTarget, vcpu, ...this.p.stamp(vcpu) });
  }
}
