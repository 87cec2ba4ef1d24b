// The VMM's per-VM physical-to-machine map (ppn → mpn, "pmap" in ESX), the state of every guest
// page, and the guest-physical memory view built on it. Guest pages get machine frames lazily,
// on first touch (a fault path, or a VMM write).
//
// Page states (docs/overcommit/pages.md has the whole machine):
//   unbacked  — no frame yet, or given back by a balloon deflate: reads see zeros, a touch backs it
//   private   — a frame of this VM's own
//   shared    — a 'shared' frame (owner VMM_OWNER, refcounted in sharedFrames.ts), mapped read-only;
//               a write breaks the sharing (copy-on-write)
//   ballooned — the guest handed the page to its balloon driver: no frame; a touch pops the balloon
//   swapped   — the contents are in the VM's swap file (the frame is free); a touch swaps it in
//
// Every change that takes a frame away or replaces it goes through the mode's mapper first
// (P2mMapper.revoke): the shadow sptes, the EPT leaf and the hardware TLB entries that map the
// old frame are dropped or write-protected, so the guest's next access comes back to the VMM
// (a hidden #PF, an EPT violation) and lands in back(ppn, access).
//
// Memory: 6 bytes per guest page (an Int32 frame-or-slot, a state byte, a flag byte), so a
// 1 GiB VM costs 1.5 MiB of p2m. Typed arrays only: no object per page.
import { PAGE_SIZE } from '../memory/frame';
import type { GuestMemory } from '../memory/guestMemory';
import type { MachineMemory } from '../machine/machineMemory';
import type { EventBus, EventStamp, SwapVictim } from '../events';
import { SwapDevice } from '../memory/overcommit/swapDevice';
import { StallAccount } from '../memory/overcommit/clock';
import { PageSet } from './pageSet';

export class OutOfMachineMemory extends Error {}

export type PageState = 'unbacked' | 'private' | 'shared' | 'ballooned' | 'swapped';
export const PAGE_STATES: readonly PageState[] = ['unbacked', 'private', 'shared', 'ballooned', 'swapped'];

export type PageAccess = 'read' | 'write';

/** What the VMM may do to a page that a mode or the page's use can forbid. */
export type ReclaimOp = 'swap' | 'share' | 'balloon';

const UNBACKED = 0;
const PRIVATE = 1;
const SHARED = 2;
const BALLOONED = 3;
const SWAPPED = 4;

/** Flag bits per page. */
const F_REFERENCED = 1; // set whenever the VMM maps the page (back); the clock victim policy clears it
const F_SAMPLED = 2; // the working-set sampler invalidated the page's mappings; the next touch reports

/** The memory mode's side of a p2m change: what it built from the old frame must go. */
export interface P2mMapper {
  /**
   * Drop ('none') or write-protect ('read-only') every mapping the mode built of this guest
   * page — shadow sptes via the rmap, the EPT leaf (splitting a large page), the hardware TLB
   * entries of every vCPU of the VM — so the next access (any access / a write) comes back to
   * the VMM through its fault path (hidden #PF, EPT violation) and calls p2m.back(ppn, access).
   */
  revoke(ppn: number, to: 'none' | 'read-only'): void;
  /** Why the mode cannot let `op` happen to this page (paravirtual guests hold machine frame numbers), or null. */
  refuse?(ppn: number, op: ReclaimOp): string | null;
  /** The page's frame changed or went (after the p2m updated): a paravirtual guest's p2m copy follows. */
  changed?(ppn: number): void;
  /** Deflate backs the page at once (a paravirtual guest has no fault path to back it on touch). */
  readonly populateOnDeflate?: boolean;
}

/** The memory scheduler's view of touches (events, stall charging, sampling). */
export interface P2mObserver {
  /** After any state change caused by a touch (unbacked/ballooned/swapped → private, shared → private on a write). */
  touched(ppn: number, from: PageState, access: PageAccess): void;
  /** A page the working-set sampler invalidated (P2m.sample) was touched. */
  sampledTouch?(ppn: number): void;
}

/** Where the p2m's events go: the VM's bus, stamped with its current vCPU (set by Machine.add). */
export interface P2mEventSink {
  bus: EventBus;
  stamp(): EventStamp;
}

export interface P2mCounters {
  swapOuts: number;
  swapIns: number;
  cowBreaks: number;
  /** Pages mapped to a shared frame (shareWith, shareInPlace). */
  shares: number;
  ballooned: number;
  deflated: number;
  /** Touches of a ballooned page (the balloon popped). */
  pops: number;
  /** Swapped pages a device DMA-read (resident): the guest paging out a page the VMM paged out. */
  doublePaging: number;
}

/** Does nothing: a p2m used without a memory mode (tests, the loader before the mode exists). */
/** Pages the swapper leaves alone after a touch (p2m.recentlyTouched). */
const RECENT_TOUCHES = 8;

const NO_MAPPER: P2mMapper = { revoke: () => undefined };

export class P2m {
  readonly pages: number;
  /** Frame (private, shared) or swap slot (swapped), else -1. */
  private readonly map: Int32Array;
  private readonly state: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly stateCounts = new Int32Array(PAGE_STATES.length);
  /** Mapping tick of each page (LRU victims), allocated when asked for (trackMappingTimes). */
  private mappedAt: Uint32Array | null = null;
  private mapTick = 0;
  /** The private pages as an indexed set (the swapper's victim choice), kept once asked for (privatePages). */
  private privateSet: PageSet | null = null;
  /** DMA pins: ppn → count. A pinned page is not swapped. */
  private readonly pins = new Map<number, number>();
  mapper: P2mMapper = NO_MAPPER;
  observer: P2mObserver | null = null;
  events: P2mEventSink | null = null;
  /** The VM's swap file (ESX's per-VM .vswp). */
  swapFile: SwapDevice;
  /** Cycles the VM waited on the VMM (swap-ins); the Machine schedules around them. */
  readonly stalls = new StallAccount();
  readonly counters: P2mCounters = { swapOuts: 0, swapIns: 0, cowBreaks: 0, shares: 0, ballooned: 0, deflated: 0, pops: 0, doublePaging: 0 };
  /**
   * The page the VM touched last. The mode is still mapping it when an allocation on the way
   * (a shadow page, an EPT table) finds memory exhausted and the VMM reclaims at once: it must
   * not pick this page (victims.ts), or the mapping being built would point at a freed frame.
   */
  lastTouched = -1;
  /**
   * The last RECENT_TOUCHES pages touched (a ring). One instruction can need several pages
   * resident at once — its code page, a data page, the guest page tables a nested walk reads —
   * and each is faulted in separately: if reclaiming for one could take another, two pages can
   * evict each other forever on a machine with one frame to spare. The swapper skips them.
   */
  private readonly recent = new Int32Array(RECENT_TOUCHES).fill(-1);
  private recentAt = 0;
  /** Why the last swapOut/shareWith/shareInPlace/balloon refused, in words. */
  lastRefusal = '';

  constructor(
    readonly machine: MachineMemory,
    readonly owner: number,
    guestBytes: number,
  ) {
    this.pages = Math.ceil(guestBytes / PAGE_SIZE);
    this.map = new Int32Array(this.pages).fill(-1);
    this.state = new Uint8Array(this.pages);
    this.flags = new Uint8Array(this.pages);
    this.stateCounts[UNBACKED] = this.pages;
    this.swapFile = new SwapDevice({ name: `vm${owner}.vswp` });
  }

  /** Pages with a frame (private or shared). */
  get backedPages(): number {
    return this.stateCounts[PRIVATE] + this.stateCounts[SHARED];
  }

  /** Pages in a state. */
  pagesIn(s: PageState): number {
    return this.stateCounts[PAGE_STATES.indexOf(s)];
  }

  /** Whether the page has a frame of its own (state 'private'): stateOf(ppn) === 'private' without the string. */
  isPrivate(ppn: number): boolean {
    return ppn >= 0 && ppn < this.pages && this.state[ppn] === PRIVATE;
  }

  stateOf(ppn: number): PageState {
    return ppn >= 0 && ppn < this.pages ? PAGE_STATES[this.state[ppn]] : 'unbacked';
  }

  /** The machine frame backing `ppn` (private or shared), or -1 (no frame, or outside the VM's memory). */
  lookup(ppn: number): number {
    if (!(ppn >= 0 && ppn < this.pages)) return -1;
    const s = this.state[ppn];
    return s === PRIVATE || s === SHARED ? this.map[ppn] : -1;
  }

  /** The swap slot of a swapped page, else -1. */
  slotOf(ppn: number): number {
    return ppn >= 0 && ppn < this.pages && this.state[ppn] === SWAPPED ? this.map[ppn] : -1;
  }

  /**
   * Maximal runs of pages in one state over [from, to), clipped to the VM's memory, ascending:
   * the views' guest-physical map. One pass over the state bytes, one object per run (not per page).
   */
  stateRuns(from = 0, to = this.pages): { ppn: number; count: number; state: PageState }[] {
    const out: { ppn: number; count: number; state: PageState }[] = [];
    const st = this.state;
    const end = Math.min(this.pages, to);
    let p = Math.max(0, from);
    while (p < end) {
      const s = st[p];
      let q = p + 1;
      while (q < end && st[q] === s) q++;
      out.push({ ppn: p, count: q - p, state: PAGE_STATES[s] });
      p = q;
    }
    return out;
  }

  // ------------------------------------------------------------------ touches

  /** Whether the page is one of the last RECENT_TOUCHES touched (the swapper leaves those). */
  recentlyTouched(ppn: number): boolean {
    for (let i = 0; i < RECENT_TOUCHES; i++) if (this.recent[i] === ppn) return true;
    return false;
  }

  /**
   * Resolves a touch by the guest (a fault path) or by the VMM: unbacked → fresh zeroed frame;
   * swapped → swap in (the VM stalls, event); ballooned → balloon popped (fresh zeroed frame, the
   * observer tells the balloon device); shared + 'write' → COW break (private copy, event).
   * Returns the mpn; -1 outside guest memory. The default access, 'write', is what every
   * caller from before page states meant: a frame the guest may write.
   */
  back(ppn: number, access: PageAccess = 'write', cause = 'guest access'): number {
    if (!(ppn >= 0 && ppn < this.pages)) return -1;
    this.lastTouched = ppn;
    this.recent[this.recentAt] = ppn;
    this.recentAt = (this.recentAt + 1) % RECENT_TOUCHES;
    const f = this.flags[ppn];
    this.flags[ppn] = f | F_REFERENCED;
    if (this.mappedAt) this.mappedAt[ppn] = ++this.mapTick >>> 0;
    if (f & F_SAMPLED) {
      this.flags[ppn] &= ~F_SAMPLED;
      this.observer?.sampledTouch?.(ppn);
    }
    switch (this.state[ppn]) {
      case PRIVATE:
        return this.map[ppn];
      case SHARED:
        return access === 'read' ? this.map[ppn] : this.breakSharing(ppn);
      case SWAPPED:
        return this.swapIn(ppn, access, cause);
      case BALLOONED: {
        const mpn = this.fresh(ppn);
        this.counters.pops++;
        this.observer?.touched(ppn, 'ballooned', access);
        return mpn;
      }
      default: {
        const mpn = this.fresh(ppn);
        this.observer?.touched(ppn, 'unbacked', access);
        return mpn;
      }
    }
  }

  /**
   * The mpn if the page is resident (private or shared), swapping a swapped page in — for a
   * device's DMA read (the guest disk writing the page out); -1 for unbacked/ballooned (reads see
   * zeros). `dma` (default true): the read is a device's, so a swapped page here is **double
   * paging** — the guest is paging out a page the VMM already paged out (event, counter).
   */
  resident(ppn: number, dma = true): number {
    if (!(ppn >= 0 && ppn < this.pages)) return -1;
    const s = this.state[ppn];
    if (s === PRIVATE || s === SHARED) return this.map[ppn];
    if (s !== SWAPPED) return -1;
    if (!dma) return this.swapIn(ppn, 'read', 'VMM read');
    const slot = this.map[ppn];
    this.counters.doublePaging++;
    const ev = this.events;
    if (ev?.bus.wants['double-paging']) {
      ev.bus.emit({
        kind: 'double-paging', ppn, slot, ...ev.stamp(),
        description: `the guest is writing out page 0x${ppn.toString(16)}, which the VMM swapped out (slot ${slot}): it is read back in only to be written out again`,
      });
    }
    return this.swapIn(ppn, 'read', 'double paging: a device DMA-reads a page the VMM swapped out');
  }

  private fresh(ppn: number): number {
    const mpn = this.machine.allocate(this.owner, 'guest-data', ppn);
    if (mpn === undefined) throw new OutOfMachineMemory(`machine memory exhausted backing guest page ${ppn} of VM ${this.owner}`);
    this.setState(ppn, PRIVATE, mpn);
    this.mapper.changed?.(ppn);
    return mpn;
  }

  private swapIn(ppn: number, access: PageAccess, cause: string): number {
    const slot = this.map[ppn];
    const data = this.swapFile.read(slot);
    const mpn = this.machine.allocate(this.owner, 'guest-data', ppn);
    if (mpn === undefined) throw new OutOfMachineMemory(`machine memory exhausted swapping in guest page ${ppn} of VM ${this.owner}`);
    this.swapFile.free(slot);
    copyInto(this.machine, mpn, data);
    this.setState(ppn, PRIVATE, mpn);
    const latency = this.swapFile.readLatency;
    this.stalls.charge(latency);
    this.counters.swapIns++;
    const ev = this.events;
    if (ev?.bus.wants['swap-in']) ev.bus.emit({ kind: 'swap-in', ppn, slot, by: 'vmm', latency, cause, ...ev.stamp() });
    this.mapper.changed?.(ppn);
    this.observer?.touched(ppn, 'swapped', access);
    return mpn;
  }

  /** COW: the guest writes a shared page. It gets a private copy; the shared frame loses a reference. */
  private breakSharing(ppn: number, gva?: bigint): number {
    const old = this.map[ppn];
    const shared = this.machine.shared;
    this.mapper.revoke(ppn, 'none');
    let mpn: number;
    let refsLeft: number;
    if (shared.refs(old) === 1) {
      // The last reference: the frame becomes this page's own, no copy (KSM's reuse, ESX alike).
      shared.disown(old, this.owner, ppn);
      mpn = old;
      refsLeft = 0;
    } else {
      const m = this.machine.allocate(this.owner, 'guest-data', ppn);
      if (m === undefined) throw new OutOfMachineMemory(`machine memory exhausted breaking copy-on-write of guest page ${ppn} of VM ${this.owner}`);
      mpn = m;
      const src = this.machine.bytes.peekFrame(old);
      if (src) copyInto(this.machine, mpn, src.data);
      refsLeft = shared.release(old);
    }
    this.setState(ppn, PRIVATE, mpn);
    this.counters.cowBreaks++;
    const ev = this.events;
    if (ev?.bus.wants['cow-break']) ev.bus.emit({ kind: 'cow-break', ppn, gva, oldMpn: old, newMpn: mpn, refsLeft, ...ev.stamp() });
    this.mapper.changed?.(ppn);
    this.observer?.touched(ppn, 'shared', 'write');
    return mpn;
  }

  // ------------------------------------------------------------------ reclamation

  /** Why `op` cannot happen to `ppn` now, in words; null when it can. */
  whyNot(ppn: number, op: ReclaimOp): string | null {
    if (!(ppn >= 0 && ppn < this.pages)) return `page 0x${ppn.toString(16)} is outside the VM's memory`;
    const s = this.state[ppn];
    if (op === 'balloon') {
      if (s === BALLOONED) return 'the page is ballooned already';
    } else if (s !== PRIVATE) return `the page is ${PAGE_STATES[s]}, not private`;
    if (s === PRIVATE || s === SHARED) {
      const use = this.machine.frames.useOf(this.map[ppn]);
      if (use === 'guest-pt') return 'the page is a guest page table (traced by the shadow MMU, or validated by the paravirtual type system): its frame must stay put';
      if (use === 'vmm') return 'the page is the hypervisor\'s (the paravirtual p2m copy)';
    }
    if (op === 'swap' && this.pins.has(ppn)) return 'the page is pinned for I/O';
    return this.mapper.refuse?.(ppn, op) ?? null;
  }

  private refused(ppn: number, op: ReclaimOp): boolean {
    const why = this.whyNot(ppn, op);
    if (why === null) return false;
    this.lastRefusal = `${op} of page 0x${ppn.toString(16)} refused: ${why}`;
    return true;
  }

  /**
   * Writes a private page to the VM's swap file and frees its frame. Asynchronous, as ESX's
   * swapper: the VM does not wait (the contents are captured now; the write's latency is the
   * disk's, not the VM's). false (lastRefusal says why): not private, a guest page table, the
   * hypervisor's, pinned, refused by the mode, or the swap file is full.
   */
  swapOut(ppn: number, victim: SwapVictim = 'random'): boolean {
    if (this.refused(ppn, 'swap')) return false;
    const mpn = this.map[ppn];
    const slot = this.swapFile.allocate();
    if (slot < 0) {
      this.lastRefusal = `swap of page 0x${ppn.toString(16)} refused: the swap file is full`;
      return false;
    }
    this.mapper.revoke(ppn, 'none');
    this.swapFile.write(slot, frameBytes(this.machine, mpn));
    this.machine.release(mpn);
    this.setState(ppn, SWAPPED, slot);
    this.counters.swapOuts++;
    const ev = this.events;
    if (ev?.bus.wants['swap-out']) ev.bus.emit({ kind: 'swap-out', ppn, slot, by: 'vmm', victim, ...ev.stamp() });
    this.mapper.changed?.(ppn);
    return true;
  }

  /**
   * The guest handed the page to its balloon driver: its frame (or swap slot) is freed and the
   * state is 'ballooned'. false (lastRefusal says why) for a page table, the hypervisor's page,
   * a page ballooned already, or what the mode refuses (paravirtual: a page still mapped).
   */
  balloon(ppn: number): boolean {
    if (this.refused(ppn, 'balloon')) return false;
    const s = this.state[ppn];
    if (s === PRIVATE || s === SHARED) {
      this.mapper.revoke(ppn, 'none');
      if (s === SHARED) this.machine.shared.release(this.map[ppn]);
      else this.machine.release(this.map[ppn]);
    } else if (s === SWAPPED) this.swapFile.free(this.map[ppn]);
    this.setState(ppn, BALLOONED, -1);
    this.counters.ballooned++;
    this.mapper.changed?.(ppn);
    return true;
  }

  /** The balloon gave the page back: 'unbacked' (a fresh zeroed frame on its next touch; at once for a paravirtual guest). */
  deflate(ppn: number): void {
    if (!(ppn >= 0 && ppn < this.pages) || this.state[ppn] !== BALLOONED) return;
    this.setState(ppn, UNBACKED, -1);
    this.counters.deflated++;
    if (this.mapper.populateOnDeflate) this.fresh(ppn);
    else this.mapper.changed?.(ppn);
  }

  /**
   * Maps a private page to shared frame `sharedMpn` (the caller compared the contents: they are
   * equal) and frees its own frame. Mappings of the page are dropped; the next access maps the
   * shared frame read-only. false (lastRefusal says why) if the page cannot be shared.
   */
  shareWith(ppn: number, sharedMpn: number): boolean {
    if (this.refused(ppn, 'share')) return false;
    if (!this.machine.shared.isShared(sharedMpn)) throw new Error(`machine frame 0x${sharedMpn.toString(16)} is not a shared frame`);
    const old = this.map[ppn];
    this.mapper.revoke(ppn, 'none');
    const refs = this.machine.shared.addRef(sharedMpn);
    this.machine.release(old);
    this.setState(ppn, SHARED, sharedMpn);
    this.counters.shares++;
    this.emitShared(ppn, sharedMpn, refs);
    this.mapper.changed?.(ppn);
    return true;
  }

  /**
   * Makes the page's own frame a shared frame (refcount 1), in place — no copy, no free frame
   * needed: ESX's way when a hint matches. Its mappings become read-only. Returns the frame,
   * or -1 (lastRefusal says why). Other pages with the same contents then shareWith it.
   */
  shareInPlace(ppn: number): number {
    if (this.refused(ppn, 'share')) return -1;
    const mpn = this.map[ppn];
    this.mapper.revoke(ppn, 'read-only');
    this.machine.shared.adopt(mpn);
    this.setState(ppn, SHARED, mpn);
    this.counters.shares++;
    this.emitShared(ppn, mpn, 1);
    return mpn;
  }

  private emitShared(ppn: number, mpn: number, refs: number): void {
    const ev = this.events;
    if (ev?.bus.wants['page-shared']) ev.bus.emit({ kind: 'page-shared', ppn, mpn, refs, zero: this.machine.shared.isZero(mpn), ...ev.stamp() });
  }

  /**
   * The working-set sampler picks the page: its mappings are dropped, and the next touch (which
   * must come back through the VMM) calls observer.sampledTouch. Pages without a frame are
   * marked too: their next touch comes back anyway.
   */
  sample(ppn: number): void {
    if (!(ppn >= 0 && ppn < this.pages)) return;
    this.flags[ppn] |= F_SAMPLED;
    const s = this.state[ppn];
    if (s === PRIVATE || s === SHARED) this.mapper.revoke(ppn, 'none');
  }

  /** Still waiting for a touch since sample(ppn)? */
  isSampled(ppn: number): boolean {
    return ppn >= 0 && ppn < this.pages && (this.flags[ppn] & F_SAMPLED) !== 0;
  }

  /** A device is doing I/O to the page: it is not swapped until unpin. Pins nest. */
  pin(ppn: number): void {
    this.pins.set(ppn, (this.pins.get(ppn) ?? 0) + 1);
  }

  unpin(ppn: number): void {
    const n = (this.pins.get(ppn) ?? 0) - 1;
    if (n > 0) this.pins.set(ppn, n);
    else this.pins.delete(ppn);
  }

  // ------------------------------------------------------------------ victim-policy support

  /** The referenced bit (set whenever the VMM maps the page), and clearing it (the clock hand). */
  referenced(ppn: number): boolean {
    return (this.flags[ppn] & F_REFERENCED) !== 0;
  }

  clearReferenced(ppn: number): void {
    this.flags[ppn] &= ~F_REFERENCED;
  }

  /**
   * The private pages, as a set kept up to date by every state change from the first call on
   * (4 bytes per guest page, plus 4 per private page): what the swapper draws its victims from
   * without listing the VM's pages. Its order is arbitrary (it depends on the order pages came and went).
   */
  privatePages(): PageSet {
    if (this.privateSet === null) {
      const set = new PageSet(this.pages, this.stateCounts[PRIVATE] + 64);
      for (let p = 0; p < this.pages; p++) if (this.state[p] === PRIVATE) set.add(p);
      this.privateSet = set;
    }
    return this.privateSet;
  }

  /** Start keeping a mapping tick per page (4 bytes per page more), for LRU victims. */
  trackMappingTimes(): void {
    this.mappedAt ??= new Uint32Array(this.pages);
  }

  /** The tick of the page's last mapping (0: never since tracking began); larger is more recent. */
  lastMapped(ppn: number): number {
    return this.mappedAt ? this.mappedAt[ppn] : 0;
  }

  // ------------------------------------------------------------------ frames by other means

  /**
   * Backs `ppn` with a frame the caller already allocated to this VM (a contiguous run for a
   * large EPT page), replacing any previous frame, which the caller copies and releases. Only
   * for a private or unbacked page: a shared, swapped or ballooned page has no frame of its own.
   */
  backWith(ppn: number, mpn: number): void {
    if (ppn < 0 || ppn >= this.pages) throw new RangeError(`guest page ${ppn} is outside VM ${this.owner}'s memory`);
    const s = this.state[ppn];
    if (s !== PRIVATE && s !== UNBACKED) throw new Error(`guest page ${ppn} of VM ${this.owner} is ${PAGE_STATES[s]}: it cannot be given another frame`);
    this.setState(ppn, PRIVATE, mpn);
  }

  /** Every (ppn, mpn) pair with a frame (private or shared), ascending by ppn. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let p = 0; p < this.pages; p++) {
      const s = this.state[p];
      if (s === PRIVATE || s === SHARED) out.push([p, this.map[p]]);
    }
    return out;
  }

  /** Every page in a state, ascending (e.g. the swapped ones, for the audit). */
  pagesInState(s: PageState): number[] {
    const code = PAGE_STATES.indexOf(s);
    const out: number[] = [];
    for (let p = 0; p < this.pages; p++) if (this.state[p] === code) out.push(p);
    return out;
  }

  /** Whether ppn..ppn+n-1 are all private or unbacked (what a large EPT page may cover). */
  allPlain(first: number, n: number): boolean {
    for (let p = first; p < first + n; p++) {
      const s = this.state[p];
      if (s !== PRIVATE && s !== UNBACKED) return false;
    }
    return true;
  }

  /** Releases every frame, shared reference and swap slot (VM destroyed). */
  releaseAll(): void {
    for (let p = 0; p < this.pages; p++) {
      const s = this.state[p];
      if (s === PRIVATE) this.machine.release(this.map[p]);
      else if (s === SHARED) this.machine.shared.release(this.map[p]);
      else if (s === SWAPPED) this.swapFile.free(this.map[p]);
      if (s !== UNBACKED) this.setState(p, UNBACKED, -1);
    }
  }

  private setState(ppn: number, s: number, value: number): void {
    const was = this.state[ppn];
    if (this.privateSet !== null && (was === PRIVATE) !== (s === PRIVATE)) {
      if (s === PRIVATE) this.privateSet.add(ppn);
      else this.privateSet.delete(ppn);
    }
    this.stateCounts[was]--;
    this.stateCounts[s]++;
    this.state[ppn] = s;
    this.map[ppn] = value;
  }
}

function frameBytes(machine: MachineMemory, mpn: number): Uint8Array {
  const f = machine.bytes.peekFrame(mpn);
  return f ? f.data : new Uint8Array(PAGE_SIZE);
}

function copyInto(machine: MachineMemory, mpn: number, data: Uint8Array): void {
  const dst = machine.bytes.frameForWrite(mpn);
  if (!dst) return;
  dst.data.set(data);
  dst.decoded = null;
}

/**
 * Guest-physical memory through the p2m, as the VMM and the loader see it: reads of unbacked or
 * ballooned pages see zeros without backing them; a read of a swapped page swaps it in; a
 * write backs the page (breaking copy-on-write on a shared one).
 */
export class P2mGuestMemory implements GuestMemory {
  readonly size: number;

  constructor(readonly p2m: P2m) {
    this.size = p2m.pages * PAGE_SIZE;
  }

  get touchedFrames(): number {
    return this.p2m.backedPages;
  }

  /** Machine address of gpa for a write (`back` true) or a read; -1 when the page has no frame to read, or outside memory. */
  machineAddress(gpa: number, back: boolean): number {
    if (gpa < 0 || gpa >= this.size) return -1;
    const ppn = Math.floor(gpa / PAGE_SIZE);
    const mpn = back ? this.p2m.back(ppn, 'write', 'VMM write') : this.p2m.resident(ppn, false);
    return mpn < 0 ? -1 : mpn * PAGE_SIZE + (gpa % PAGE_SIZE);
  }

  read8(gpa: number): number {
    if (gpa >= this.size) return 0xff;
    const ma = this.machineAddress(gpa, false);
    return ma < 0 ? 0 : this.p2m.machine.bytes.read8(ma);
  }

  write8(gpa: number, v: number): void {
    const ma = this.machineAddress(gpa, true);
    if (ma >= 0) this.p2m.machine.bytes.write8(ma, v);
  }

  readU(gpa: number, bytes: 1 | 2 | 4): number {
    if ((gpa % PAGE_SIZE) + bytes <= PAGE_SIZE && gpa + bytes <= this.size) {
      const ma = this.machineAddress(gpa, false);
      return ma < 0 ? 0 : this.p2m.machine.bytes.readU(ma, bytes);
    }
    let v = 0;
    for (let i = bytes - 1; i >= 0; i--) v = v * 256 + this.read8(gpa + i);
    return v;
  }

  writeU(gpa: number, bytes: 1 | 2 | 4, value: number): void {
    if ((gpa % PAGE_SIZE) + bytes <= PAGE_SIZE && gpa + bytes <= this.size) {
      const ma = this.machineAddress(gpa, true);
      if (ma >= 0) this.p2m.machine.bytes.writeU(ma, bytes, value);
      return;
    }
    for (let i = 0; i < bytes; i++) this.write8(gpa + i, Math.floor(value / 2 ** (8 * i)) & 0xff);
  }

  read32(gpa: number): number {
    return this.readU(gpa, 4);
  }

  write32(gpa: number, v: number): void {
    this.writeU(gpa, 4, v);
  }

  writeBytes(gpa: number, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.write8(gpa + i, bytes[i]);
  }

  readBytes(gpa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(gpa + i);
    return out;
  }
}
