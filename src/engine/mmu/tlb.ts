// A per-vCPU TLB: a set-associative array for 4 KiB pages and a small fully-associative one
// for large pages (2 MiB / 4 MiB / 1 GiB), like the split L1 DTLBs of real x86 cores. Entries
// live in typed arrays so a lookup allocates nothing. Replacement is LRU within a set (within
// the whole array for large pages), driven by a use counter stamped on every hit and fill.
import type { TlbFlushScope } from '../events';
import type { Rights } from './walkRecord';

export interface TlbConfig {
  /** 4 KiB entries in total (sets × ways). */
  entries: number;
  ways: number;
  /** Fully-associative entries for large pages. */
  largeEntries: number;
}

export const DEFAULT_TLB_CONFIG: TlbConfig = { entries: 64, ways: 4, largeEntries: 32 };

export interface FlushResult {
  scope: TlbFlushScope;
  entriesRemoved: number;
}

export interface TlbEntryInfo {
  slot: number;
  /** Set and way in the 4 KiB array; for large entries set is -1 and way is the slot within the large array. */
  set: number;
  way: number;
  large: boolean;
  /** Linear page number (linear base / 4096). */
  vpn: number;
  linearBase: number;
  pcid: number;
  vpid: number;
  /** Physical address of the page. */
  frame: number;
  pageSize: number;
  rights: Rights;
  global: boolean;
  /** The leaf's D bit is known to be set, so a write needs no walk. */
  dirty: boolean;
  lastUse: number;
}

export interface TlbCounters {
  hits: number;
  misses: number;
  flushes: number;
  entriesFlushed: number;
  hitsByAccess: { read: number; write: number; fetch: number };
  missesByAccess: { read: number; write: number; fetch: number };
}

/** Entry flag bits. W/U/X/D sit in bits 1..4 so `(flags >> 1) & 15` indexes a permission table. */
export const TLB_VALID = 1;
export const TLB_W = 2;
export const TLB_U = 4;
export const TLB_X = 8;
export const TLB_D = 16;
export const TLB_G = 32;
/**
 * Nested paging: the guest half of this combined entry is dirty and allows writes, only the
 * second stage (EPT read-only or EPT D clear) keeps TLB_D off — a write then re-checks the EPT
 * alone instead of re-walking the guest's tables (which natively it would not re-read).
 */
export const TLB_GUEST_DIRTY = 64;

export class Tlb {
  readonly config: TlbConfig;
  readonly sets: number;
  private readonly setMask: number;
  readonly ways: number;
  /** Slots 0..smallSlots-1 are the 4 KiB array; the rest are large-page slots. */
  readonly smallSlots: number;
  readonly totalSlots: number;
  readonly base: Float64Array;
  readonly span: Float64Array;
  readonly frame: Float64Array;
  readonly pcid: Int32Array;
  readonly vpid: Int32Array;
  readonly flags: Uint8Array;
  readonly stamp: Float64Array;
  /** Hit and miss counts indexed by access code (0 read, 1 write, 2 fetch); the MMU bumps them. */
  readonly hitCount = new Float64Array(3);
  readonly missCount = new Float64Array(3);
  flushes = 0;
  entriesFlushed = 0;
  private clock = 0;
  /**
   * Bumped whenever any entry is filled or dropped: a translation cached outside the TLB (the
   * MMU's last-page memo) is still exactly what a lookup would return while the epoch stands.
   */
  epoch = 0;
  private largeValid = 0;

  constructor(config: Partial<TlbConfig> = {}) {
    const c = { ...DEFAULT_TLB_CONFIG, ...config };
    const sets = c.entries / c.ways;
    // Sets are a power of two, as in hardware, so the set index is a mask of the page number.
    if (!(Number.isInteger(c.ways) && c.ways >= 1 && Number.isInteger(sets) && sets >= 1 && (sets & (sets - 1)) === 0 && Number.isInteger(c.largeEntries) && c.largeEntries >= 0)) {
      throw new RangeError(`bad TLB geometry: ${c.entries} entries, ${c.ways} ways (sets must be a power of two), ${c.largeEntries} large`);
    }
    this.config = c;
    this.ways = c.ways;
    this.sets = sets;
    this.setMask = sets - 1;
    this.smallSlots = c.entries;
    this.totalSlots = c.entries + c.largeEntries;
    const n = this.totalSlots;
    this.base = new Float64Array(n);
    this.span = new Float64Array(n);
    this.frame = new Float64Array(n);
    this.pcid = new Int32Array(n);
    this.vpid = new Int32Array(n);
    this.flags = new Uint8Array(n);
    this.stamp = new Float64Array(n);
  }

  /** The slot translating `linear` for this PCID/VPID (global entries match any PCID), or -1. */
  find(linear: number, pcid: number, vpid: number): number {
    // `linear & 0xfff` and `linear >>> 12` see the low 32 bits, which is all they need.
    const pageBase = linear - (linear & 0xfff);
    const first = ((linear >>> 12) & this.setMask) * this.ways;
    const f = this.flags;
    for (let s = first, end = first + this.ways; s < end; s++) {
      if (f[s] & TLB_VALID && this.base[s] === pageBase && this.vpid[s] === vpid && (this.pcid[s] === pcid || f[s] & TLB_G)) return s;
    }
    if (this.largeValid > 0) {
      for (let s = this.smallSlots; s < this.totalSlots; s++) {
        const d = linear - this.base[s];
        if (f[s] & TLB_VALID && d >= 0 && d < this.span[s] && this.vpid[s] === vpid && (this.pcid[s] === pcid || f[s] & TLB_G)) return s;
      }
    }
    return -1;
  }

  /** Marks a slot most recently used. */
  touch(slot: number): void {
    this.stamp[slot] = ++this.clock;
  }

  /** Caches a translation (replacing any entry for the same page and tags) and returns its slot. */
  insert(linear: number, pageSize: number, frame: number, rights: Rights, global: boolean, dirty: boolean, pcid: number, vpid: number): number {
    return this.insertBits(linear, pageSize, frame, rights.write, rights.user, rights.execute, global, dirty, pcid, vpid);
  }

  /** insert() with the rights as flags (no object: the nested fast walk's fill). */
  insertBits(linear: number, pageSize: number, frame: number, write: boolean, user: boolean, execute: boolean, global: boolean, dirty: boolean, pcid: number, vpid: number): number {
    const existing = this.find(linear, pcid, vpid);
    if (existing >= 0) this.invalidate(existing);
    const large = pageSize > 4096;
    // Even when nothing is cached the walk before this may have written A/D bits: anything
    // memoised outside the TLB must be looked at again.
    if (large && this.totalSlots === this.smallSlots) {
      this.epoch++;
      return -1;
    }
    const base = linear - (linear % pageSize);
    const slot = large ? this.victim(this.smallSlots, this.totalSlots) : this.victimInSet(base);
    if (this.flags[slot] & TLB_VALID) this.invalidate(slot);
    this.base[slot] = base;
    this.span[slot] = pageSize;
    this.frame[slot] = frame;
    this.pcid[slot] = pcid;
    this.vpid[slot] = vpid;
    this.epoch++;
    this.flags[slot] = TLB_VALID | (write ? TLB_W : 0) | (user ? TLB_U : 0) | (execute ? TLB_X : 0) | (dirty ? TLB_D : 0) | (global ? TLB_G : 0);
    if (large) this.largeValid++;
    this.touch(slot);
    return slot;
  }

  private victimInSet(pageBase: number): number {
    const first = ((pageBase >>> 12) & this.setMask) * this.ways;
    return this.victim(first, first + this.ways);
  }

  /** An invalid slot in [from, to), else the least recently used one. */
  private victim(from: number, to: number): number {
    let best = from;
    for (let s = from; s < to; s++) {
      if (!(this.flags[s] & TLB_VALID)) return s;
      if (this.stamp[s] < this.stamp[best]) best = s;
    }
    return best;
  }

  private invalidate(slot: number): void {
    if (slot >= this.smallSlots && this.flags[slot] & TLB_VALID) this.largeValid--;
    this.epoch++;
    this.flags[slot] = 0;
  }

  private removeWhere(scope: TlbFlushScope, pred: (slot: number) => boolean): FlushResult {
    let removed = 0;
    for (let s = 0; s < this.totalSlots; s++) {
      if (this.flags[s] & TLB_VALID && pred(s)) {
        this.invalidate(s);
        removed++;
      }
    }
    this.flushes++;
    this.entriesFlushed += removed;
    return { scope, entriesRemoved: removed };
  }

  private covers(slot: number, linear: number): boolean {
    const d = linear - this.base[slot];
    return d >= 0 && d < this.span[slot];
  }

  private isGlobal(slot: number): boolean {
    return (this.flags[slot] & TLB_G) !== 0;
  }

  /** Everything of this VPID, global entries included (CR4.PGE change, PCIDE 1→0, CR0.PG 1→0, INVPCID 2). */
  flushAll(vpid: number): FlushResult {
    return this.removeWhere('all', (s) => this.vpid[s] === vpid);
  }

  /** Every non-global entry of this VPID, all PCIDs (INVPCID 3). */
  flushNonGlobal(vpid: number): FlushResult {
    return this.removeWhere('non-global', (s) => this.vpid[s] === vpid && !this.isGlobal(s));
  }

  /** One PCID's non-global entries (MOV CR3, INVPCID 1, CR4.PAE change / SMEP set). */
  flushPcid(pcid: number, vpid: number, scope: TlbFlushScope = 'pcid'): FlushResult {
    return this.removeWhere(scope, (s) => this.vpid[s] === vpid && !this.isGlobal(s) && this.pcid[s] === pcid);
  }

  /** INVLPG and #PF: the page in this PCID plus global entries for it in any PCID. */
  flushPage(linear: number, pcid: number, vpid: number): FlushResult {
    return this.removeWhere('page', (s) => this.vpid[s] === vpid && this.covers(s, linear) && (this.isGlobal(s) || this.pcid[s] === pcid));
  }

  /** INVPCID 0: the page in one PCID, global entries kept. */
  flushPageNonGlobal(linear: number, pcid: number, vpid: number): FlushResult {
    return this.removeWhere('page', (s) => this.vpid[s] === vpid && this.covers(s, linear) && !this.isGlobal(s) && this.pcid[s] === pcid);
  }

  /** For the hypervisor (INVVPID/INVEPT, VPID-less VM entry): every entry of a VPID, or of all when vpid is undefined. */
  flushVpid(vpid: number | undefined, keepGlobal = false): FlushResult {
    return this.removeWhere(keepGlobal ? 'non-global' : 'all', (s) => (vpid === undefined || this.vpid[s] === vpid) && !(keepGlobal && this.isGlobal(s)));
  }

  markDirty(slot: number): void {
    this.flags[slot] |= TLB_D;
  }

  get validEntries(): number {
    let n = 0;
    for (let s = 0; s < this.totalSlots; s++) if (this.flags[s] & TLB_VALID) n++;
    return n;
  }

  counters(): TlbCounters {
    const by = (a: Float64Array) => ({ read: a[0], write: a[1], fetch: a[2] });
    return {
      hits: this.hitCount[0] + this.hitCount[1] + this.hitCount[2],
      misses: this.missCount[0] + this.missCount[1] + this.missCount[2],
      flushes: this.flushes, entriesFlushed: this.entriesFlushed,
      hitsByAccess: by(this.hitCount), missesByAccess: by(this.missCount),
    };
  }

  resetCounters(): void {
    this.hitCount.fill(0);
    this.missCount.fill(0);
    this.flushes = 0;
    this.entriesFlushed = 0;
  }

  /** The valid entries as plain data, in slot order. */
  entries(): TlbEntryInfo[] {
    const out: TlbEntryInfo[] = [];
    for (let s = 0; s < this.totalSlots; s++) {
      const f = this.flags[s];
      if (!(f & TLB_VALID)) continue;
      const large = s >= this.smallSlots;
      out.push({
        slot: s, set: large ? -1 : Math.floor(s / this.ways), way: large ? s - this.smallSlots : s % this.ways, large,
        vpn: this.base[s] / 4096, linearBase: this.base[s], pcid: this.pcid[s], vpid: this.vpid[s], frame: this.frame[s],
        pageSize: this.span[s], rights: { write: (f & TLB_W) !== 0, user: (f & TLB_U) !== 0, execute: (f & TLB_X) !== 0 },
        global: (f & TLB_G) !== 0, dirty: (f & TLB_D) !== 0, lastUse: this.stamp[s],
      });
    }
    return out;
  }
}
