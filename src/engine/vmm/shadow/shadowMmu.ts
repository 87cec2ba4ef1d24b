// The MMU port of one vCPU in shadow mode. A hardware Mmu (TLB + walker) translates on the hot
// path exactly as natively, but its CR3 is the current *shadow root* (a machine address) and it
// walks shadow tables in machine memory. When that walk faults, the VMM walks the *guest*
// tables (through the guest-physical view, setting A/D as the hardware would): a guest fault is
// a true #PF, injected with the guest's error code and CR2; otherwise the fault was hidden —
// the VMM fills the shadow from the guest entry (or emulates a store to a traced guest table)
// and retries. Each such #PF is one VM exit (reason 0).
import type { AccessCode, FlushResult, MmuFault, MmuPort } from '../../cpu/mmuPort';
import type { HitReplay } from '../../cpu/hitReplay';
import { Mmu, ACCESS_NAMES } from '../../mmu/mmu';
import type { Tlb } from '../../mmu/tlb';
import { TLB_D, TLB_G, TLB_U, TLB_VALID, TLB_W, TLB_X } from '../../mmu/tlb';
import { NativeTableMemory } from '../../mmu/tableMemory';
import type { TableMemory } from '../../mmu/tableMemory';
import { CR0_WP, CR4_PCIDE, CR4_PSE, CR4_SMAP, CR4_SMEP, currentPcid, selectPagingMode } from '../../mmu/pagingMode';
import type { PagingMode } from '../../mmu/pagingMode';
import { paePdpteReserved, walkPageTables } from '../../mmu/walker';
import type { WalkContext } from '../../mmu/walker';
import type { WalkRecord } from '../../mmu/walkRecord';
import { PF_P } from '../../mmu/pfErrorCode';
import { PAGE_SIZE } from '../../memory/frame';
import type { ModeContext } from '../virtualVm';
import { ExitReason, InterruptionType, interruptionInfo } from '../exitReasons';
import { ACC_ALL, ACC_U, ACC_W, ACC_X, GV_D, GV_U, GV_W, GV_X, levelIndex, levelShift, shadowFormat } from './spteFormat';
import type { ShadowPage, ShadowTables } from './shadowTables';

export interface ShadowFault extends MmuFault {
  /** The guest walk that decided it (true faults). */
  walk: WalkRecord;
}

/** A cached shadow root: the guest CR3 it shadows, and (PAE) the PDPTE registers it was built from. */
export interface RootEntry {
  key: number;
  guestCr3: number;
  sp: ShadowPage;
  pdpteLo: Uint32Array;
  pdpteHi: Uint32Array;
}

/** Marks a valid guest view of a hardware TLB slot (beside GV_W|U|X|D). */
const GV_VALID = 16;

/**
 * A hardware TLB entry a miss found before walking (a hit whose shadow rights fell short of the
 * access): saved, because the failed shadow walk drops it, as a #PF drops the page's entry.
 */
interface MissedEntry {
  /** Bumped per hardware miss; the entry belongs to miss number `seq`. */
  seq: number;
  page: number;
  frame: number;
  flags: number;
  pcid: number;
  gfn: number;
  /** The guest's view: GV_W|U|X|D. */
  bits: number;
}

interface PendingZap {
  gfn: number;
  from: number;
  to: number;
  icount: number;
}

/** The guest's tables as the VMM reads them: guest-physical memory through the p2m. */
class GuestTableMemory implements TableMemory {
  constructor(private readonly ctx: ModeContext) {}

  read32(gpa: number): number {
    return this.ctx.guest.read32(gpa);
  }

  writeAccessedDirty(gpa: number, low32: number): void {
    this.ctx.guest.write32(gpa, low32);
  }
}

export class ShadowMmu implements MmuPort, HitReplay {
  /** The processor's MMU: walks shadow tables; its TLB is the host's, tagged with this vCPU's VPID. */
  readonly hw: Mmu;
  /**
   * The vCPU replays TLB hits on the hardware MMU itself (see cpu/hitReplay.ts): a hit never
   * reaches the VMM, and it runs exactly the native code. Its hitSlot returns -2 while the guest
   * has paging off, since the hardware's PG follows the guest's.
   */
  readonly hitReplay: HitReplay;
  fault: ShadowFault | null = null;
  /** The last guest walk the VMM made (on a shadow fault). */
  lastWalk: WalkRecord | null = null;
  /** Cached roots, least recently used first. */
  readonly roots: RootEntry[] = [];
  readonly rootStats = { hits: 0, misses: 0 };
  /** Guest control registers (what the guest believes). */
  readonly guestCtx: WalkContext;
  private readonly guestTm: TableMemory;
  private cr0 = 0;
  private cr3 = 0;
  private cr4 = 0;
  private efer = 0;
  private hwCr3 = 0;
  private pagingOff = true;
  private current: RootEntry | null = null;
  private generation = -1;
  private readonly pending: PendingZap[] = [];
  /** The last store the VMM let through without a mapping (traced page), within its instruction. */
  private readonly emulated: { page: number; machinePage: number; user: boolean }[] = [];
  private emulatedAt = -1;
  /** Guest large pages the shadow split into 4 KiB sptes: linear base → size, for INVLPG of any address inside. */
  private readonly split = new Map<number, number>();
  /**
   * The guest's view of each hardware TLB slot this vCPU filled: the rights and D bit a native
   * TLB entry for the same translation holds, and its guest frame. The hardware entry (built
   * from the spte) may allow less — a traced frame or a clean page is read-only in the shadow —
   * and an access the guest view allows is, natively, a TLB *hit*: the VMM must serve it from
   * the cached translation without walking the guest's tables (which may have changed without
   * INVLPG) and without setting A/D. Valid while base and frame still match the slot.
   */
  private readonly gvBase: Float64Array;
  private readonly gvFrame: Float64Array;
  private readonly gvGfn: Float64Array;
  private readonly gvBits: Uint8Array;
  private missSeq = 0;
  private readonly missed: MissedEntry = { seq: -1, page: -1, frame: 0, flags: 0, pcid: 0, gfn: -1, bits: 0 };

  constructor(
    private readonly ctx: ModeContext,
    readonly tables: ShadowTables,
    readonly index: number,
    tlb: Tlb,
    vpid: number,
  ) {
    this.hw = new Mmu(ctx.machine.bytes, tlb, { maxPhyAddr: ctx.maxPhyAddr, tableMemory: new NativeTableMemory(ctx.machine.bytes) });
    this.hw.vpid = vpid;
    this.gvBase = new Float64Array(tlb.totalSlots).fill(-1);
    this.gvFrame = new Float64Array(tlb.totalSlots);
    this.gvGfn = new Float64Array(tlb.totalSlots);
    this.gvBits = new Uint8Array(tlb.totalSlots);
    this.hitReplay = this.hw;
    this.hw.onMiss = (linear, access) => this.onHardwareMiss(linear, access);
    this.guestTm = new GuestTableMemory(ctx);
    this.guestCtx = {
      mode: 'none', cr3: 0, maxPhyAddr: ctx.maxPhyAddr, wp: false, pse: false, pge: false, nxe: false, smep: false, smap: false,
      pdpteLo: new Uint32Array(4), pdpteHi: new Uint32Array(4),
    };
  }

  get mode(): PagingMode {
    return this.guestCtx.mode;
  }

  get currentRoot(): RootEntry | null {
    return this.current;
  }

  /** The machine address the hardware's CR3 holds (shadow root | PCID). */
  get hardwareCr3(): number {
    return this.hwCr3;
  }

  // ------------------------------------------------------------ hot path (the hardware's own)

  translate(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    if (this.pagingOff) return this.direct(linear, access);
    const misses = this.missSeq;
    const pa = this.hw.translate(linear, access, user, ac);
    if (pa >= 0) {
      // A fill from sptes already there: remember the guest's view of the new entry.
      if (misses !== this.missSeq) this.noteFill(linear);
      return pa;
    }
    return this.shadowFault(linear, access, user, ac);
  }

  get epoch(): number {
    return this.hw.tlb.epoch;
  }

  hitSlot(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    return this.pagingOff ? -2 : this.hw.hitSlot(linear, access, user, ac);
  }

  replayHit(access: AccessCode, slot: number): void {
    this.hw.replayHit(access, slot);
  }

  /** Paging off: guest-physical = linear, backed through the p2m (no TLB, as natively). */
  private direct(linear: number, access: AccessCode): number {
    const gfn = Math.floor(linear / PAGE_SIZE);
    if (gfn >= this.ctx.p2m.pages) return this.ctx.machine.size + (linear % PAGE_SIZE);
    return this.ctx.p2m.back(gfn, access === 1 ? 'write' : 'read') * PAGE_SIZE + (linear % PAGE_SIZE);
  }

  // ------------------------------------------------------------ the VMM's #PF handler

  private shadowFault(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    this.settle();
    const m = this.missed;
    const page = linear - (linear & 0xfff);
    const cached = m.seq === this.missSeq && m.page === page ? { ...m } : null;
    if (access === 1 && this.emulatedAt === this.ctx.vcpu(this.index).icount) {
      // The vCPU translates both halves of a page-crossing store twice (check, then store):
      // the same instruction's store to a traced page was emulated already — one exit per page.
      for (const e of this.emulated) {
        if (linear - e.page >= 0 && linear - e.page < PAGE_SIZE && e.user === user) {
          if (cached) this.reinsert(cached, false);
          return e.machinePage + (linear - e.page);
        }
      }
    }
    const hwErr = this.hw.fault?.errorCode ?? 0;
    const g = this.guestCtx;
    const cpu = this.ctx.vcpu(this.index);
    const gva = cpu.canonical(linear);
    this.ctx.monitor.record(cpu, {
      reason: ExitReason.EXCEPTION_NMI, qualification: gva, guestLinear: gva,
      interruptionInfo: interruptionInfo(14, InterruptionType.HARDWARE_EXCEPTION, true), errorCode: hwErr,
    });
    if (cached && this.nativeAllows(cached.bits, access, user, ac)) return this.servedFromTlb(linear, access, user, cached, gva, hwErr);
    const rec = walkPageTables(this.guestTm, g, linear, ACCESS_NAMES[access], user, { setAccessedDirty: true, ac });
    this.lastWalk = rec;
    if (!rec.ok) {
      // A true fault: what the guest's own walk reports, delivered by the vCPU (injection).
      this.fault = { errorCode: rec.errorCode ?? 0, linear, reason: `${rec.reason ?? 'page fault'} (true fault, injected)`, walk: rec };
      return -1;
    }
    const leaf = rec.levels[rec.levels.length - 1];
    const gpa = rec.physical ?? 0;
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const rights = rec.rights ?? { write: false, user: false, execute: false };
    const write = access === 1;
    const wp0 = write && !user && !rights.write && !g.wp;
    let reason: string;
    let result = -1;
    if (wp0 && (g.smep || g.smap)) {
      // KVM's U=0 trick would defeat SMEP/SMAP: emulate this one store instead.
      const bits = { write: false, user: rights.user, execute: rights.execute, global: leaf.flags.g };
      this.install(rec, linear, bits, false);
      result = this.tables.machineFrame(gfn) * PAGE_SIZE + (gpa % PAGE_SIZE);
      this.rememberEmulated(linear, result, user);
      this.insertEmulated(linear, rec, bits);
      reason = 'CR0.WP=0 supervisor write to a read-only page (emulated: SMEP/SMAP on)';
    } else {
      const dirty = rec.dirty ?? false;
      const bits = wp0
        ? { write: true, user: false, execute: rights.execute, global: leaf.flags.g }
        : { write: rights.write && dirty, user: rights.user, execute: rights.execute, global: leaf.flags.g };
      this.install(rec, linear, bits, wp0, write);
      if (write && this.tables.isTraced(gfn)) {
        // Memory tracing: the guest is writing one of its page tables (through any mapping of
        // it — the fill above may itself have started tracing the frame, when the page maps a
        // table on its own path). The page is filled read-only; this one store goes through,
        // and what the written entries produced is zapped.
        result = this.tracedWrite(gfn, gpa, gva);
        this.rememberEmulated(linear, result, user);
        this.insertEmulated(linear, rec, bits);
        reason = 'write to a traced guest page table (emulated)';
      } else {
        if (wp0) reason = 'CR0.WP=0 supervisor write to a read-only page (spte U=0, W=1 as KVM)';
        else if (!(hwErr & PF_P)) reason = `shadow miss; guest ${leaf.name === 'PT' ? 'PTE' : leaf.name + 'E (large page)'} present`;
        else if (write && !leaf.flags.d) reason = 'first write to a clean page: guest D set (D-bit catch)';
        else reason = 'shadow rights below the guest\'s (refilled)';
        for (let tries = 0; tries < 3 && result < 0; tries++) result = this.hw.translate(linear, access, user, ac);
        if (result >= 0) this.noteFill(linear);
        else if (this.pending.length > 0) {
          // A store earlier in this instruction changed an entry on this very path, and its
          // zap is repeated until the instruction retires (settle): serve this access from the
          // guest walk just made, as the native walk would.
          result = this.tables.machineFrame(gfn, write ? 'write' : 'read') * PAGE_SIZE + (gpa % PAGE_SIZE);
          this.insertEmulated(linear, rec, bits);
        } else throw new Error(`shadow MMU: fill for ${gva.toString(16)} did not resolve the fault (${this.hw.fault?.reason})`);
      }
    }
    this.emitHidden(gva, hwErr, access, user, reason);
    return result;
  }

  private emitHidden(gva: bigint, hwErr: number, access: AccessCode, user: boolean, reason: string): void {
    const bus = this.ctx.bus;
    if (bus.wants['page-fault']) {
      const cpu = this.ctx.vcpu(this.index);
      bus.emit({ kind: 'page-fault', gva, errorCode: hwErr, access: ACCESS_NAMES[access], user, reason, hidden: true, icount: cpu.icount, vcpu: this.index, rip: cpu.ripValue });
    }
  }

  /** Would a native TLB entry with the guest's view `bits` satisfy the access (Mmu's permission rule)? */
  private nativeAllows(bits: number, access: AccessCode, user: boolean, ac: boolean): boolean {
    const g = this.guestCtx;
    const u = (bits & GV_U) !== 0;
    if (user && !u) return false;
    if (access === 1 && ((!(bits & GV_W) && (user || g.wp)) || !(bits & GV_D))) return false;
    if (access === 2 && (!(bits & GV_X) || (!user && u && g.smep))) return false;
    if (access !== 2 && !user && u && g.smap && !ac) return false;
    return true;
  }

  /**
   * Natively this access hits the TLB: the hardware entry only lacked rights the shadow keeps
   * back (a traced frame, a CR0.WP=0 entry). Serve it from the cached translation — no guest
   * walk, no A/D — and put the entry back as the hit would leave it (most recently used).
   */
  private servedFromTlb(linear: number, access: AccessCode, user: boolean, cached: MissedEntry, gva: bigint, hwErr: number): number {
    const off = linear - cached.page;
    let result = cached.frame + off;
    let reason = 'a native TLB hit: served from the cached guest translation';
    let upgrade = false;
    if (access === 1 && this.tables.isTraced(cached.gfn)) {
      result = this.tracedWrite(cached.gfn, cached.gfn * PAGE_SIZE + off, gva);
      this.rememberEmulated(linear, result, user);
      reason = 'write to a traced guest page table through a cached translation (emulated)';
    } else if (access === 1) {
      // Not (or no longer) traced: the entry may write, as the guest's does. A shared page
      // (read-only for copy-on-write) gets its private copy first: the entry then maps the copy.
      if (this.ctx.p2m.stateOf(cached.gfn) === 'shared') {
        cached.frame = this.ctx.p2m.back(cached.gfn, 'write') * PAGE_SIZE;
        result = cached.frame + off;
        reason = 'a native TLB hit writing a shared page: copy-on-write, served from the cached guest translation';
      }
      upgrade = (cached.bits & (GV_W | GV_D)) === (GV_W | GV_D);
      if (!upgrade) this.rememberEmulated(linear, result, user);
    }
    this.reinsert(cached, upgrade);
    this.emitHidden(gva, hwErr, access, user, reason);
    return result;
  }

  /** Puts a saved hardware entry back (optionally writable and dirty), with its guest view. */
  private reinsert(c: MissedEntry, writable: boolean): void {
    const w = writable || (c.flags & TLB_W) !== 0;
    const rights = { write: w, user: (c.flags & TLB_U) !== 0, execute: (c.flags & TLB_X) !== 0 };
    const slot = this.hw.tlb.insert(c.page, PAGE_SIZE, c.frame, rights, (c.flags & TLB_G) !== 0, writable || (c.flags & TLB_D) !== 0, c.pcid, this.hw.vpid);
    this.setView(slot, c.gfn, c.bits);
  }

  /**
   * An access the VMM performed itself after a guest walk (a traced store, an emulated WP=0
   * store): natively the walk filled a TLB entry, so the hardware TLB gets one too — read-only,
   * so later writes still exit — with the guest's view of it.
   */
  private insertEmulated(linear: number, rec: WalkRecord, bits: { user: boolean; execute: boolean }): void {
    const gfn = Math.floor((rec.physical ?? 0) / PAGE_SIZE);
    const page = linear - (linear & 0xfff);
    const rights = { write: false, user: bits.user, execute: bits.execute };
    const slot = this.hw.tlb.insert(page, PAGE_SIZE, this.tables.machineFrame(gfn, 'read') * PAGE_SIZE, rights, rec.global ?? false, false, this.hw.currentPcid, this.hw.vpid);
    this.setView(slot, gfn, this.viewOf(rec));
  }

  private viewOf(rec: WalkRecord): number {
    const r = rec.rights ?? { write: false, user: false, execute: false };
    return (r.write ? GV_W : 0) | (r.user ? GV_U : 0) | (r.execute ? GV_X : 0) | (rec.dirty ? GV_D : 0);
  }

  private setView(slot: number, gfn: number, bits: number): void {
    if (slot < 0) return;
    const t = this.hw.tlb;
    this.gvBase[slot] = t.base[slot];
    this.gvFrame[slot] = t.frame[slot];
    this.gvGfn[slot] = gfn;
    this.gvBits[slot] = bits | GV_VALID;
  }

  /** The hardware just filled an entry for `linear` from the sptes: its guest view is the leaf's. */
  private noteFill(linear: number): void {
    const t = this.hw.tlb;
    const slot = t.find(linear, this.hw.currentPcid, this.hw.vpid);
    if (slot < 0) return;
    const leaf = this.leafSpte(linear);
    if (!leaf) {
      this.gvBits[slot] = 0;
      return;
    }
    this.setView(slot, leaf.sp.leafGfn[leaf.index], leaf.sp.guestBits[leaf.index]);
  }

  /** Fills the shadow path for `linear` from a successful guest walk, ending in a leaf with `bits`. */
  private install(rec: WalkRecord, linear: number, bits: { write: boolean; user: boolean; execute: boolean; global: boolean }, trick: boolean, writeAccess = true): void {
    const t = this.tables;
    const f = t.format!;
    const root = this.current!;
    let sp: ShadowPage | undefined = root.sp;
    let i = 0;
    if (f.mode === 'pae') {
      sp = root.sp.children.get(rec.levels[0].index);
      i = 1;
      if (!sp) return;
    }
    let acc = ACC_ALL;
    for (; i < rec.levels.length; i++) {
      const L = rec.levels[i];
      const lo = Number(L.entryAfter & 0xffffffffn);
      const hi = Number(L.entryAfter >> 32n);
      t.noteGuestEntry(sp, L.index, lo, hi);
      acc &= (L.flags.rw ? ACC_W : 0) | (L.flags.us ? ACC_U : 0) | (f.xd && L.flags.xd ? 0 : ACC_X);
      if (!L.leaf) {
        sp = t.child(sp, L.index, sp.level - 1, Math.floor(rec.levels[i + 1].tableAddress / PAGE_SIZE), acc, false);
        continue;
      }
      const gfn = Math.floor((rec.physical ?? 0) / PAGE_SIZE);
      if (sp.level === 1) {
        t.setLeaf(sp, L.index, gfn, bits, trick, this.viewOf(rec), writeAccess);
        return;
      }
      // A guest large page: split into 4 KiB sptes under direct pages (its machine frames need
      // not be contiguous). Remember the range so INVLPG anywhere in it drops all of them.
      const span = 2 ** levelShift(f, sp.level);
      const role = acc | (bits.global ? 8 : 0);
      let base = Math.floor((rec.frameBase ?? 0) / PAGE_SIZE);
      let d = t.child(sp, L.index, sp.level - 1, base, role, true);
      while (d.level > 1) {
        const k = levelIndex(f, d.level, linear);
        base += k * 2 ** (levelShift(f, d.level) - 12);
        d = t.child(d, k, d.level - 1, base, role, true);
      }
      t.setLeaf(d, levelIndex(f, 1, linear), gfn, bits, trick, this.viewOf(rec), writeAccess);
      this.split.set(linear - (linear % span), span);
      return;
    }
  }

  private rememberEmulated(linear: number, machine: number, user: boolean): void {
    const icount = this.ctx.vcpu(this.index).icount;
    if (this.emulatedAt !== icount) this.emulated.length = 0;
    this.emulatedAt = icount;
    this.emulated.push({ page: linear - (linear % PAGE_SIZE), machinePage: machine - (machine % PAGE_SIZE), user });
  }

  /** A store into a traced guest table: zap now, and again after the store (see settle). */
  private tracedWrite(gfn: number, gpa: number, gva: bigint): number {
    const from = gpa % PAGE_SIZE;
    const to = Math.min(from + 8, PAGE_SIZE);
    const changed = this.tables.zapGuestRange(gfn, from, to);
    this.pending.push({ gfn, from, to, icount: this.ctx.vcpu(this.index).icount });
    const bus = this.ctx.bus;
    if (bus.wants['pt-write']) {
      const cpu = this.ctx.vcpu(this.index);
      bus.emit({ kind: 'pt-write', gpa: BigInt(gpa), gva, action: 'emulated', shadowEntriesChanged: changed, icount: cpu.icount, vcpu: this.index, rip: cpu.ripValue });
    }
    return this.tables.machineFrame(gfn) * PAGE_SIZE + from;
  }

  /**
   * The store to a traced table happens after translate returns; a shadow fill between the zap
   * and the store (the other half of a page-crossing store) could still read the old entry. So
   * the zap is repeated before every later hardware walk or fill until the instruction retired.
   */
  settle(): void {
    if (this.pending.length === 0) return;
    const ic = this.ctx.vcpu(this.index).icount;
    for (const p of this.pending) this.tables.zapGuestRange(p.gfn, p.from, p.to);
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i].icount !== ic) this.pending.splice(i, 1);
  }

  private onHardwareMiss(linear: number, access: AccessCode): void {
    this.settle();
    // Save the entry this miss may drop (a hit whose rights fell short), with its guest view.
    this.missSeq++;
    const m = this.missed;
    m.seq = -1;
    const t = this.hw.tlb;
    const slot = t.find(linear, this.hw.currentPcid, this.hw.vpid);
    if (slot >= 0 && this.gvBits[slot] & GV_VALID && this.gvBase[slot] === t.base[slot] && this.gvFrame[slot] === t.frame[slot]) {
      m.seq = this.missSeq;
      m.page = t.base[slot];
      m.frame = t.frame[slot];
      m.flags = t.flags[slot];
      m.pcid = t.pcid[slot];
      m.gfn = this.gvGfn[slot];
      m.bits = this.gvBits[slot] & ~GV_VALID;
    }
    const bus = this.ctx.bus;
    if (bus.wants['tlb-miss']) {
      const cpu = this.ctx.vcpu(this.index);
      bus.emit({ kind: 'tlb-miss', gva: cpu.canonical(linear), access: ACCESS_NAMES[access], icount: cpu.icount, vcpu: this.index, rip: cpu.ripValue });
    }
  }

  // ------------------------------------------------------------ control registers

  setControl(cr0: number, cr3: number, cr4: number, efer: number): void {
    const oldCr0 = this.cr0;
    const oldCr4 = this.cr4;
    this.cr0 = cr0;
    this.cr3 = cr3;
    this.cr4 = cr4;
    this.efer = efer;
    const g = this.guestCtx;
    const mode = selectPagingMode(cr0, cr4, efer);
    g.mode = mode;
    g.cr3 = cr3;
    g.wp = (cr0 & CR0_WP) !== 0;
    g.pse = (cr4 & CR4_PSE) !== 0;
    g.pge = (cr4 & (1 << 7)) !== 0;
    g.nxe = (efer & (1 << 11)) !== 0;
    g.smep = (cr4 & CR4_SMEP) !== 0;
    g.smap = (cr4 & CR4_SMAP) !== 0;
    this.pagingOff = mode === 'none';
    // The hardware always runs with CR0.WP=1: WP=0 is emulated in the sptes (KVM).
    if (mode === 'none') {
      this.hw.setControl(cr0 | CR0_WP, this.hwCr3, cr4, efer);
      return;
    }
    const wpSet = (cr0 & CR0_WP) !== 0 && (oldCr0 & CR0_WP) === 0;
    const smSet = (cr4 & ~oldCr4 & (CR4_SMEP | CR4_SMAP)) !== 0;
    this.tables.setFormat(shadowFormat(mode, g.nxe), g.pse);
    if (wpSet || smSet) this.tables.dropTricks();
    if (this.generation !== this.tables.generation) {
      // Every shadow page was dropped: forget the cached roots (their pages are gone).
      this.roots.length = 0;
      this.current = null;
      this.generation = this.tables.generation;
    }
    const key = mode === 'pae' ? cr3 & 0xffffffe0 : this.rootTable(cr3) / PAGE_SIZE;
    if (!this.current || this.current.key !== key) this.switchRoot(key, cr3);
    this.current!.guestCr3 = cr3;
    const root = this.current!.sp.mpn * PAGE_SIZE;
    this.hwCr3 = root + (cr4 & CR4_PCIDE ? cr3 & 0xfff : 0);
    this.hw.setControl(cr0 | CR0_WP, this.hwCr3, cr4, efer);
  }

  private rootTable(cr3: number): number {
    if (this.guestCtx.mode === '32bit') return (cr3 & 0xfffff000) >>> 0;
    const c = cr3 % 2 ** this.ctx.maxPhyAddr;
    return c - (c % PAGE_SIZE);
  }

  /** Makes `key` the current root: a hit in the LRU cache, or a fresh root (evicting the oldest). */
  private switchRoot(key: number, cr3: number): void {
    const at = this.roots.findIndex((r) => r.key === key);
    if (at >= 0) {
      const [r] = this.roots.splice(at, 1);
      this.roots.push(r);
      this.current = r;
      this.rootStats.hits++;
      return;
    }
    this.rootStats.misses++;
    const sp = this.guestCtx.mode === 'pae' ? this.tables.acquirePaeRoot(key) : this.tables.acquireRoot(key);
    const r: RootEntry = { key, guestCr3: cr3, sp, pdpteLo: new Uint32Array(4), pdpteHi: new Uint32Array(4) };
    this.roots.push(r);
    this.current = r;
    const size = Math.max(1, this.ctx.options.shadow.rootCacheSize);
    while (this.roots.length > size) this.tables.releaseRoot(this.roots.shift()!.sp);
  }

  /** PAE: the guest's PDPTEs (checked as the processor would), then the shadow root built from them. */
  loadPdptes(): boolean {
    if (this.guestCtx.mode !== 'pae') return this.hw.loadPdptes();
    const base = (this.cr3 & 0xffffffe0) >>> 0;
    const lo = new Uint32Array(4);
    const hi = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      lo[i] = this.ctx.guest.read32(base + i * 8) >>> 0;
      hi[i] = this.ctx.guest.read32(base + i * 8 + 4) >>> 0;
      if (lo[i] & 1 && paePdpteReserved(lo[i], hi[i], this.ctx.maxPhyAddr).length) return false;
    }
    this.guestCtx.pdpteLo.set(lo);
    this.guestCtx.pdpteHi.set(hi);
    const r = this.current!;
    r.pdpteLo.set(lo);
    r.pdpteHi.set(hi);
    this.tables.fillPaeRoot(r.sp, lo, hi);
    return this.hw.loadPdptes();
  }

  onCr3Write(_newCr3: number, noFlush: boolean): FlushResult | null {
    this.settle();
    const res = this.hw.onCr3Write(this.hwCr3, noFlush);
    // Unsync pages are brought back in sync on a flushing CR3 write (KVM's kvm_mmu_sync_roots).
    if (this.tables.sync === 'unsync' && !noFlush && !this.pagingOff) this.resync('CR3 write');
    return res;
  }

  onCr0Write(oldCr0: number, newCr0: number): FlushResult | null {
    return this.hw.onCr0Write(oldCr0 | CR0_WP, newCr0 | CR0_WP);
  }

  onCr4Write(oldCr4: number, newCr4: number): FlushResult | null {
    return this.hw.onCr4Write(oldCr4, newCr4);
  }

  invlpg(linear: number): FlushResult {
    this.settle();
    if (!this.pagingOff) this.invalidateShadow(linear, 'INVLPG');
    const res = this.hw.invlpg(linear);
    res.entriesRemoved += this.flushSplit(linear, currentPcid(this.cr3, this.cr4), true);
    return res;
  }

  invpcid(type: number, pcid: number, linear: number): FlushResult | null {
    this.settle();
    const res = this.hw.invpcid(type, pcid, linear);
    if (res === null || this.pagingOff) return res;
    if (type === 0) {
      if (pcid === currentPcid(this.cr3, this.cr4)) this.invalidateShadow(linear, 'INVPCID');
      res.entriesRemoved += this.flushSplit(linear, pcid, false);
    } else if (this.tables.sync === 'unsync') this.resync(`INVPCID type ${type}`);
    return res;
  }

  /** INVLPG: zap (unsync: resync) the leaf spte for `linear` in the current root. */
  private invalidateShadow(linear: number, cause: string): void {
    const leaf = this.leafSpte(linear);
    let changed = 0;
    const read = (gpa: number): number => this.ctx.guest.read32(gpa);
    if (leaf) {
      changed = this.tables.sync === 'unsync' && leaf.sp.unsync
        ? this.tables.resync(read, leaf)
        : this.tables.zapEntry(leaf.sp, leaf.index);
    }
    if (this.tables.sync === 'unsync') {
      // The guest PTE that maps `linear` now may also be shadowed by shadow pages this root does
      // not reach yet — another root sharing the table, another role — and a later fill through
      // them would find the stale spte. Resync that entry wherever it is shadowed. (Resyncing
      // never touches the TLB, so doing more of it than needed is invisible to the guest.)
      const rec = walkPageTables({ read32: read, writeAccessedDirty: () => undefined }, this.guestCtx, linear, 'read', false, { setAccessedDirty: false, ac: true });
      const pt = rec.levels.find((L) => L.level === 1);
      if (pt) changed += this.tables.resyncGuestEntry(read, Math.floor(pt.tableAddress / PAGE_SIZE), pt.index);
    }
    const bus = this.ctx.bus;
    if (bus.wants['shadow-sync']) {
      const cpu = this.ctx.vcpu(this.index);
      bus.emit({ kind: 'shadow-sync', cause, gva: cpu.canonical(linear), entriesChanged: changed, icount: cpu.icount, vcpu: this.index, rip: cpu.ripValue });
    }
  }

  private resync(cause: string): void {
    const changed = this.tables.resync((gpa) => this.ctx.guest.read32(gpa));
    const bus = this.ctx.bus;
    if (bus.wants['shadow-sync']) {
      const cpu = this.ctx.vcpu(this.index);
      bus.emit({ kind: 'shadow-sync', cause, entriesChanged: changed, icount: cpu.icount, vcpu: this.index, rip: cpu.ripValue });
    }
  }

  /** The level-1 shadow page and index mapping `linear` in the current root, if the path exists. */
  leafSpte(linear: number): { sp: ShadowPage; index: number } | null {
    const f = this.tables.format;
    if (!f || !this.current) return null;
    let sp: ShadowPage | undefined = this.current.sp;
    while (sp && sp.level > 1) sp = sp.children.get(levelIndex(f, sp.level, linear));
    if (!sp) return null;
    const index = levelIndex(f, 1, linear);
    return sp.leafGfn[index] >= 0 ? { sp, index } : null;
  }

  /**
   * INVLPG of an address in a guest large page the shadow split: natively one TLB entry covers
   * the whole page, so every 4 KiB hardware entry made from it goes too.
   */
  private flushSplit(linear: number, pcid: number, globalsToo: boolean): number {
    let removed = 0;
    for (const [base, size] of this.split) {
      const d = linear - base;
      if (d < 0 || d >= size) continue;
      const t = this.hw.tlb;
      const v = this.hw.vpid;
      for (let s = 0; s < t.totalSlots; s++) {
        const e = t.base[s] - base;
        const g = (t.flags[s] & 32) !== 0;
        if (t.flags[s] & TLB_VALID && t.vpid[s] === v && e >= 0 && e < size && (g ? globalsToo : t.pcid[s] === pcid)) {
          removed += (g ? t.flushPage(t.base[s], t.pcid[s], v) : t.flushPageNonGlobal(t.base[s], t.pcid[s], v)).entriesRemoved;
        }
      }
      this.split.delete(base);
    }
    return removed;
  }

  /**
   * Takes W (and D) from this vCPU's hardware TLB entries that map machine address `mpa` (a frame
   * just traced, a WP=0 spte zapped). They stay cached, as natively; a write through one exits
   * and is served from its guest view (servedFromTlb).
   */
  writeProtectMappingsOf(mpa: number): void {
    const t = this.hw.tlb;
    const v = this.hw.vpid;
    for (let s = 0; s < t.totalSlots; s++) {
      const f = t.flags[s];
      if (!(f & TLB_VALID) || t.vpid[s] !== v || !(f & (TLB_W | TLB_D))) continue;
      const d = mpa - t.frame[s];
      if (!(d >= 0 && d < t.span[s])) continue;
      if (!(this.gvBits[s] & GV_VALID && this.gvBase[s] === t.base[s] && this.gvFrame[s] === t.frame[s])) {
        t.flushPage(t.base[s] + d, t.pcid[s], v);
        continue;
      }
      // A WP=0 entry (U cleared for W) gets the guest's U back: it must meet SMAP/SMEP as the guest's would.
      t.flags[s] = (f & ~(TLB_W | TLB_D)) | (this.gvBits[s] & GV_U ? TLB_U : 0);
      // What a lookup returns changed: the MMU's memo must look again.
      t.epoch++;
    }
  }

  /**
   * Drops this vCPU's hardware TLB entries that map machine address `mpa`: the p2m is taking the
   * frame away (swap, balloon, a remap to a shared frame, a COW break). Unlike a write-protect,
   * nothing may keep pointing at a frame that will be freed or reused.
   */
  flushMappingsOf(mpa: number): number {
    const t = this.hw.tlb;
    const v = this.hw.vpid;
    let removed = 0;
    for (let s = 0; s < t.totalSlots; s++) {
      if (!(t.flags[s] & TLB_VALID) || t.vpid[s] !== v) continue;
      const d = mpa - t.frame[s];
      if (!(d >= 0 && d < t.span[s])) continue;
      removed += t.flushPage(t.base[s] + d, t.pcid[s], v).entriesRemoved;
    }
    return removed;
  }

  /**
   * The audit's look at this vCPU's hardware TLB: each entry maps a frame the VM owns, or a shared
   * frame read-only; an entry whose guest view is known maps what the p2m maps for its guest frame
   * now (a revocation that missed a TLB entry would leave one pointing at a freed frame).
   */
  auditTlb(): string[] {
    const out: string[] = [];
    const t = this.hw.tlb;
    const v = this.hw.vpid;
    const frames = this.ctx.machine.frames;
    for (let s = 0; s < t.totalSlots; s++) {
      const f = t.flags[s];
      if (!(f & TLB_VALID) || t.vpid[s] !== v) continue;
      const mpn = Math.floor(t.frame[s] / PAGE_SIZE);
      if (mpn === this.tables.holeMpn || t.frame[s] >= this.ctx.machine.size) continue;
      const where = `vCPU ${this.index} TLB entry 0x${t.base[s].toString(16)} → machine frame 0x${mpn.toString(16)}`;
      const shared = frames.useOf(mpn) === 'shared';
      if (shared && f & TLB_W) out.push(`${where}: writable, but the frame is shared (copy-on-write)`);
      if (!shared && frames.ownerOf(mpn) !== this.ctx.vmId) out.push(`${where}: the frame is ${frames.ownerOf(mpn) < 0 ? 'free' : `owned by ${frames.ownerOf(mpn)}`}`);
      if (this.gvBits[s] & GV_VALID && this.gvBase[s] === t.base[s] && this.gvFrame[s] === t.frame[s]) {
        const gfn = this.gvGfn[s];
        const now = this.tables.currentFrame(gfn);
        if (now !== mpn) out.push(`${where}: made from guest frame 0x${gfn.toString(16)}, which the p2m now maps to ${now < 0 ? `nothing (${this.ctx.p2m.stateOf(gfn)})` : `0x${now.toString(16)}`}`);
      }
    }
    return out;
  }

  /** Control registers as the guest set them. */
  control(): { cr0: number; cr3: number; cr4: number; efer: number } {
    return { cr0: this.cr0, cr3: this.cr3, cr4: this.cr4, efer: this.efer };
  }
}

