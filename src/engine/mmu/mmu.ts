// The native MMU of one vCPU: a TLB in front of the page walker. translate() is the hot path
// (once per fetch and once per data access): on a hit it does a lookup in typed arrays and
// one permission-table read, allocating nothing. Walks, walk records and fault details are
// built only on misses.
import type { PhysicalMemory } from '../memory/physicalMemory';
import {
  CR0_PG, CR0_WP, CR4_PAE, CR4_PCIDE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_NXE,
  currentPcid, selectPagingMode,
} from './pagingMode';
import type { PagingMode } from './pagingMode';
import { NativeTableMemory, SECOND_STAGE_EXIT } from './tableMemory';
import type { FastMiss, SecondStage, TableMemory } from './tableMemory';
import { Tlb, TLB_D, TLB_GUEST_DIRTY, TLB_U, TLB_W, TLB_X } from './tlb';
import type { FlushResult } from './tlb';
import { paePdpteReserved, walkPageTables } from './walker';
import type { WalkContext, WalkOptions } from './walker';
import { joinEntry } from './walkRecord';
import type { WalkAccess, WalkRecord } from './walkRecord';

export type AccessCode = 0 | 1 | 2;
export const ACCESS_NAMES: readonly WalkAccess[] = ['read', 'write', 'fetch'];

export interface MmuOptions {
  /** MAXPHYADDR, 32..52 (default 40). */
  maxPhyAddr?: number;
  /** Where paging structures are read; default: the physical memory itself. */
  tableMemory?: TableMemory;
  /**
   * Nested paging: translates each walk's final guest-physical address (EPT); the TLB then
   * caches combined gva → mpa mappings. With it, CR0.PG=0 still translates (linear = gpa →
   * mpa), cached under PCID tag -1 (GUEST_PHYSICAL_PCID) so no paged lookup can match them.
   */
  secondStage?: SecondStage;
}

/**
 * Nested paging: the guest-physical base of each combined TLB entry marked TLB_GUEST_DIRTY, per
 * host TLB (shared by every vCPU using it). Read only while that flag is set, and the flag is
 * set only together with this value (any other fill of the slot clears it).
 */
const GPA_BY_TLB = new WeakMap<Tlb, Float64Array>();

/** TLB PCID tag of guest-physical mappings (second stage only, first stage off). */
export const GUEST_PHYSICAL_PCID = -1;

export interface PageFault {
  errorCode: number;
  /** The linear address as passed to translate (CR2 gets its canonical form, `walk.linear`). */
  linear: number;
  reason: string;
  walk: WalkRecord;
  /** The #PF's own invalidation of the faulting address. */
  flush: FlushResult;
}

export class Mmu {
  readonly maxPhyAddr: number;
  readonly tableMemory: TableMemory;
  readonly secondStage: SecondStage | null;
  /** VPID tag for TLB entries; the hypervisor sets it, native mode keeps 0. */
  get vpid(): number {
    return this.vpidTag;
  }

  set vpid(v: number) {
    this.vpidTag = v;
    this.tlb.epoch++;
  }

  private vpidTag = 0;
  fault: PageFault | null = null;

  /** The last walk made on a TLB miss (probes do not change it): the UI's "Translation" scope. */
  get lastWalk(): WalkRecord | null {
    if (this.lastWalkLazy) {
      // Built on demand from the entries the fast 2-D walk kept (see FastMiss).
      this.lastWalkLazy = false;
      this.lastWalkRecord = this.fast!.materialize();
    }
    return this.lastWalkRecord;
  }

  set lastWalk(rec: WalkRecord | null) {
    this.lastWalkLazy = false;
    this.lastWalkRecord = rec;
  }

  private lastWalkRecord: WalkRecord | null = null;
  private lastWalkLazy = false;
  /** Nested paging: the second stage's fast path for warm 2-D walks, if it offers one. */
  private readonly fast: FastMiss | null = null;
  /** Called on every TLB miss before the walk; set only while someone listens (EventBus.wants). */
  onMiss: ((linear: number, access: AccessCode) => void) | null = null;

  private cr0 = 0;
  private cr3 = 0;
  private cr4 = 0;
  private efer = 0;
  private pcid = 0;
  private pagingOff = true;
  private readonly ctx: WalkContext;
  /**
   * Allowed[(W,U,X,D nibble) * 12 + access * 4 + user * 2 + ac]: 1 when a TLB entry with those
   * rights may satisfy the access without a walk. Rebuilt when CR0.WP, CR4.SMEP/SMAP change,
   * which is why those bits need no flush here. A write to an entry not known dirty gets 0,
   * so it walks and sets D.
   */
  private readonly allowed = new Uint8Array(16 * 12);
  private readonly memoPage = new Float64Array(3).fill(-1);
  private readonly memoFrame = new Float64Array(3);
  private readonly memoSlot = new Int32Array(3);
  private readonly memoKey = new Int32Array(3);
  private readonly memoEpoch = new Float64Array(3).fill(-1);
  /** Nested paging: see GPA_BY_TLB. */
  private readonly slotGpa: Float64Array | null = null;

  constructor(mem: PhysicalMemory, readonly tlb: Tlb, options: MmuOptions = {}) {
    const m = options.maxPhyAddr ?? 40;
    if (!(Number.isInteger(m) && m >= 32 && m <= 52)) throw new RangeError(`MAXPHYADDR must be 32..52, not ${m}`);
    this.maxPhyAddr = m;
    this.tableMemory = options.tableMemory ?? new NativeTableMemory(mem);
    this.secondStage = options.secondStage ?? null;
    if (this.secondStage !== null) {
      let g = GPA_BY_TLB.get(tlb);
      if (!g) GPA_BY_TLB.set(tlb, (g = new Float64Array(tlb.totalSlots)));
      this.slotGpa = g;
      this.fast = this.secondStage.createFastMiss?.() ?? null;
    }
    this.ctx = {
      mode: 'none', cr3: 0, maxPhyAddr: m, wp: false, pse: false, pge: false, nxe: false, smep: false, smap: false,
      pdpteLo: new Uint32Array(4), pdpteHi: new Uint32Array(4),
    };
    this.rebuildPermissions();
  }

  get mode(): PagingMode {
    return this.ctx.mode;
  }

  get currentPcid(): number {
    return this.pcid;
  }

  /** Takes the control registers as they now are (cr3 without bit 63). Flushes nothing by itself. */
  setControl(cr0: number, cr3: number, cr4: number, efer: number): void {
    this.cr0 = cr0;
    this.cr3 = cr3;
    this.cr4 = cr4;
    this.efer = efer;
    const c = this.ctx;
    c.mode = selectPagingMode(cr0, cr4, efer);
    c.cr3 = cr3;
    c.wp = (cr0 & CR0_WP) !== 0;
    c.pse = (cr4 & CR4_PSE) !== 0;
    c.pge = (cr4 & CR4_PGE) !== 0;
    c.nxe = (efer & EFER_NXE) !== 0;
    c.smep = (cr4 & CR4_SMEP) !== 0;
    c.smap = (cr4 & CR4_SMAP) !== 0;
    this.pcid = this.pcidFor(cr3, cr4);
    this.pagingOff = c.mode === 'none' && this.secondStage === null;
    this.rebuildPermissions();
    // Rights and tags may have changed: forget the last-page memo.
    this.tlb.epoch++;
  }

  translate(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    if (this.pagingOff) return linear;
    const tlb = this.tlb;
    const key = (user ? 2 : 0) + (ac ? 1 : 0);
    // Last-page memo per access kind: while no TLB entry was filled or dropped and no control
    // register changed (the epoch), a lookup would hit this same slot with the same rights, so
    // count the hit and stamp the slot exactly as the lookup would, without searching.
    const d = linear - this.memoPage[access];
    if (d >= 0 && d < 4096 && this.memoEpoch[access] === tlb.epoch && this.memoKey[access] === key) {
      tlb.hitCount[access]++;
      tlb.touch(this.memoSlot[access]);
      return this.memoFrame[access] + d;
    }
    const slot = tlb.find(linear, this.pcid, this.vpid);
    if (slot >= 0 && this.allowed[((tlb.flags[slot] >> 1) & 15) * 12 + access * 4 + key] === 1) {
      tlb.hitCount[access]++;
      tlb.touch(slot);
      const page = linear - (linear & 0xfff);
      const frame = tlb.frame[slot] + (page - tlb.base[slot]);
      this.memoPage[access] = page;
      this.memoFrame[access] = frame;
      this.memoSlot[access] = slot;
      this.memoKey[access] = key;
      this.memoEpoch[access] = tlb.epoch;
      return frame + (linear - page);
    }
    return this.miss(linear, access, user, ac);
  }

  /**
   * The TLB slot translate(linear, access, user, ac) would hit right now, without counting or
   * stamping anything: -1 when it would walk instead, -2 when paging is off (nothing counted).
   * For a caller (the vCPU's code-page memo) that replays hits itself while `tlb.epoch` stands.
   */
  hitSlot(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    if (this.pagingOff) return -2;
    const slot = this.tlb.find(linear, this.pcid, this.vpid);
    const key = (user ? 2 : 0) + (ac ? 1 : 0);
    return slot >= 0 && this.allowed[((this.tlb.flags[slot] >> 1) & 15) * 12 + access * 4 + key] === 1 ? slot : -1;
  }

  /** Counts and stamps a hit on `slot` exactly as translate() does on a TLB hit. */
  replayHit(access: AccessCode, slot: number): void {
    this.tlb.hitCount[access]++;
    this.tlb.touch(slot);
  }

  /** Bumped whenever a translation cached outside the MMU may have changed (see Tlb.epoch). */
  get epoch(): number {
    return this.tlb.epoch;
  }

  /**
   * A miss, or a hit whose cached rights do not allow the access (re-walked rather than
   * faulted on, so a relaxed PTE never gives a spurious #PF here), or a write to a clean entry.
   */
  private miss(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    const tlb = this.tlb;
    tlb.missCount[access]++;
    if (this.onMiss) this.onMiss(linear, access);
    if (access === 1 && this.slotGpa !== null) {
      const pa = this.secondStageWrite(linear, user, ac);
      if (pa >= 0) return pa;
    }
    const fast = this.fast;
    if (fast !== null && fast.tryMiss(this.ctx, linear, access, user, ac)) {
      if (fast.exited) {
        // The fast walk ended the access with the second stage's exit, left with the port: its
        // record (built on demand) is the last walk, as the full walk's would be.
        this.lastWalkLazy = true;
        return SECOND_STAGE_EXIT;
      }
      this.lastWalkLazy = true;
      const slot = tlb.insertBits(linear, fast.pageSize, fast.frameBase, fast.write, fast.user, fast.execute, fast.global, fast.guestDirty && fast.writable, this.pcid, this.vpid);
      if (slot >= 0 && fast.guestDirty && !fast.writable) {
        tlb.flags[slot] |= TLB_GUEST_DIRTY;
        this.slotGpa![slot] = fast.gpaBase;
      }
      return fast.frameBase + (linear % fast.pageSize);
    }
    const rec = walkPageTables(this.tableMemory, this.ctx, linear, ACCESS_NAMES[access], user, { setAccessedDirty: true, ac });
    this.lastWalk = rec;
    if (!rec.ok) {
      const flush = tlb.flushPage(linear, this.pcid, this.vpid);
      this.fault = { errorCode: rec.errorCode ?? 0, linear, reason: rec.reason ?? 'page fault', walk: rec, flush };
      return -1;
    }
    if (this.secondStage !== null) return this.fillCombined(rec, linear);
    tlb.insert(linear, rec.pageSize ?? 4096, rec.frameBase ?? 0, rec.rights ?? { write: false, user: false, execute: false }, rec.global ?? false, rec.dirty ?? false, this.pcid, this.vpid);
    return rec.physical ?? -1;
  }

  /**
   * Nested paging: the final gpa goes through the second stage (which may throw a VM exit);
   * the TLB caches the combined mapping, at the smaller of the two page sizes, with the
   * second stage's W/X folded in (a page the EPT maps read-only is cached not-dirty, so every
   * write re-walks and meets the EPT, whatever CR0.WP says).
   */
  private fillCombined(rec: WalkRecord, linear: number): number {
    const m = this.secondStage!.translateFinal(rec, linear);
    this.lastWalk = rec;
    if (m.cacheable) {
      const rights = rec.rights ?? { write: false, user: false, execute: false };
      const r = m.executable ? rights : { ...rights, execute: false };
      const guestDirty = rec.dirty ?? false;
      const slot = this.tlb.insert(linear, m.pageSize, m.frameBase, r, rec.global ?? false, guestDirty && m.writable, this.pcid, this.vpid);
      if (slot >= 0 && guestDirty && !m.writable) {
        // Only the second stage keeps this entry clean: remember where its gpa is.
        this.tlb.flags[slot] |= TLB_GUEST_DIRTY;
        this.slotGpa![slot] = (rec.physical ?? 0) - (linear % m.pageSize);
      }
    }
    return m.frameBase + (linear % m.pageSize);
  }

  /**
   * A write missing only because the second stage kept a combined entry clean (EPT D clear, or
   * EPT read-only): natively the guest half would be a dirty hit, so the guest's tables are not
   * walked again (that would expose a change the guest has not flushed yet) — only the EPT is,
   * for the write (setting its D, or raising the violation). -1: walk as usual.
   */
  private secondStageWrite(linear: number, user: boolean, ac: boolean): number {
    const tlb = this.tlb;
    const slot = tlb.find(linear, this.pcid, this.vpid);
    if (slot < 0) return -1;
    const f = tlb.flags[slot];
    const key = (user ? 2 : 0) + (ac ? 1 : 0);
    if (!(f & TLB_GUEST_DIRTY) || this.allowed[(((f | TLB_D) >> 1) & 15) * 12 + 4 + key] !== 1) return -1;
    const offset = linear - tlb.base[slot];
    const ok = this.secondStage!.recheckWrite?.(this.slotGpa![slot] + offset, linear, { user: (f & TLB_U) !== 0, execute: (f & TLB_X) !== 0 }) ?? false;
    if (!ok) return -1;
    tlb.markDirty(slot);
    tlb.flags[slot] &= ~TLB_GUEST_DIRTY;
    // What a lookup returns for this slot changed: memos must look again.
    tlb.epoch++;
    tlb.touch(slot);
    return tlb.frame[slot] + offset;
  }

  private pcidFor(cr3: number, cr4: number): number {
    return this.secondStage !== null && this.ctx.mode === 'none' ? GUEST_PHYSICAL_PCID : currentPcid(cr3, cr4);
  }

  /** A walk for the debugger; with setAccessedDirty=false it has no side effects. Never uses or fills the TLB. */
  walk(linear: number, access: WalkAccess, user: boolean, opts: WalkOptions): WalkRecord {
    return walkPageTables(this.tableMemory, this.ctx, linear, access, user, opts);
  }

  /** PAE: loads the four PDPTE registers from CR3[31:5]; false (registers unchanged) → #GP(0). */
  loadPdptes(): boolean {
    if (this.ctx.mode !== 'pae') return true;
    const base = (this.cr3 & 0xffffffe0) >>> 0;
    const lo = new Uint32Array(4);
    const hi = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      lo[i] = this.tableMemory.read32(base + i * 8);
      hi[i] = this.tableMemory.read32(base + i * 8 + 4);
      if (lo[i] & 1 && paePdpteReserved(lo[i], hi[i], this.maxPhyAddr).length) return false;
    }
    this.ctx.pdpteLo.set(lo);
    this.ctx.pdpteHi.set(hi);
    return true;
  }

  /** The PDPTE registers (PAE), for display. */
  pdptes(): bigint[] {
    return [0, 1, 2, 3].map((i) => joinEntry(this.ctx.pdpteLo[i], this.ctx.pdpteHi[i]));
  }

  /** MOV CR3: non-global entries of the new PCID go, unless PCIDE and bit 63 (noFlush). */
  onCr3Write(newCr3: number, noFlush: boolean): FlushResult | null {
    this.cr3 = newCr3;
    this.ctx.cr3 = newCr3;
    this.pcid = this.pcidFor(newCr3, this.cr4);
    if (this.cr4 & CR4_PCIDE) return noFlush ? null : this.tlb.flushPcid(this.pcid, this.vpid, 'pcid');
    return this.tlb.flushNonGlobal(this.vpid);
  }

  /** MOV CR0: only clearing PG flushes (everything). WP is applied at lookup, never cached. */
  onCr0Write(oldCr0: number, newCr0: number): FlushResult | null {
    if (oldCr0 & CR0_PG && !(newCr0 & CR0_PG)) return this.tlb.flushAll(this.vpid);
    return null;
  }

  /** MOV CR4 (SDM 4.10.4.1): PGE change or PCIDE 1→0 flush all; PAE change or SMEP 0→1 flush the current PCID. */
  onCr4Write(oldCr4: number, newCr4: number): FlushResult | null {
    const changed = oldCr4 ^ newCr4;
    if (changed & CR4_PGE || (oldCr4 & CR4_PCIDE && !(newCr4 & CR4_PCIDE))) return this.tlb.flushAll(this.vpid);
    if (changed & CR4_PAE || (newCr4 & CR4_SMEP && !(oldCr4 & CR4_SMEP))) {
      return this.tlb.flushPcid(currentPcid(this.cr3, newCr4), this.vpid, 'pcid');
    }
    return null;
  }

  invlpg(linear: number): FlushResult {
    return this.tlb.flushPage(linear, this.pcid, this.vpid);
  }

  /**
   * INVPCID types 0 (address, globals kept), 1 (PCID), 2 (all), 3 (all but global). null → #GP(0):
   * type > 3, PCID > 4095, or type 0/1 naming a PCID other than 0 while CR4.PCIDE=0. The
   * canonical check of the address is the CPU's.
   */
  invpcid(type: number, pcid: number, linear: number): FlushResult | null {
    if (!(type >= 0 && type <= 3) || !(pcid >= 0 && pcid <= 0xfff)) return null;
    if (type <= 1 && pcid !== 0 && !(this.cr4 & CR4_PCIDE)) return null;
    switch (type) {
      case 0: return this.tlb.flushPageNonGlobal(linear, pcid, this.vpid);
      case 1: return this.tlb.flushPcid(pcid, this.vpid, 'pcid');
      case 2: return this.tlb.flushAll(this.vpid);
      default: return this.tlb.flushNonGlobal(this.vpid);
    }
  }

  /** Control registers as last given, for snapshots and display. */
  control(): { cr0: number; cr3: number; cr4: number; efer: number } {
    return { cr0: this.cr0, cr3: this.cr3, cr4: this.cr4, efer: this.efer };
  }

  private rebuildPermissions(): void {
    const { wp, smep, smap } = this.ctx;
    for (let nib = 0; nib < 16; nib++) {
      const w = (nib & (TLB_W >> 1)) !== 0;
      const u = (nib & (TLB_U >> 1)) !== 0;
      const x = (nib & (TLB_X >> 1)) !== 0;
      const d = (nib & (TLB_D >> 1)) !== 0;
      for (let access = 0; access < 3; access++) {
        for (let user = 0; user < 2; user++) {
          for (let ac = 0; ac < 2; ac++) {
            let ok = !(user && !u);
            if (access === 1 && ((!w && (user || wp)) || !d)) ok = false;
            if (access === 2 && (!x || (!user && u && smep))) ok = false;
            if (access !== 2 && !user && u && smap && !ac) ok = false;
            this.allowed[nib * 12 + access * 4 + user * 2 + ac] = ok ? 1 : 0;
          }
        }
      }
    }
  }
}
