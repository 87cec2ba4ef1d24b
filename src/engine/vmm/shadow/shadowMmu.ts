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
import { TLB_VALID, TLB_W } from '../../mmu/tlb';
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
import { ACC_ALL, ACC_U, ACC_W, ACC_X, levelIndex, levelShift, shadowFormat } from './spteFormat';
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

  constructor(
    private readonly ctx: ModeContext,
    readonly tables: ShadowTables,
    readonly index: number,
    tlb: Tlb,
    vpid: number,
  ) {
    this.hw = new Mmu(ctx.machine.bytes, tlb, { maxPhyAddr: ctx.maxPhyAddr, tableMemory: new NativeTableMemory(ctx.machine.bytes) });
    this.hw.vpid = vpid;
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
    if (this.pagingOff) return this.direct(linear);
    const pa = this.hw.translate(linear, access, user, ac);
    if (pa >= 0) return pa;
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
  private direct(linear: number): number {
    const gfn = Math.floor(linear / PAGE_SIZE);
    if (gfn >= this.ctx.p2m.pages) return this.ctx.machine.size + (linear % PAGE_SIZE);
    return this.ctx.p2m.back(gfn) * PAGE_SIZE + (linear % PAGE_SIZE);
  }

  // ------------------------------------------------------------ the VMM's #PF handler

  private shadowFault(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    this.settle();
    if (access === 1 && this.emulatedAt === this.ctx.vcpu(this.index).icount) {
      // The vCPU translates both halves of a page-crossing store twice (check, then store):
      // the same instruction's store to a traced page was emulated already — one exit per page.
      for (const e of this.emulated) if (linear - e.page >= 0 && linear - e.page < PAGE_SIZE && e.user === user) return e.machinePage + (linear - e.page);
    }
    const hwErr = this.hw.fault?.errorCode ?? 0;
    const g = this.guestCtx;
    const rec = walkPageTables(this.guestTm, g, linear, ACCESS_NAMES[access], user, { setAccessedDirty: true, ac });
    this.lastWalk = rec;
    const cpu = this.ctx.vcpu(this.index);
    const gva = cpu.canonical(linear);
    this.ctx.monitor.record(cpu, {
      reason: ExitReason.EXCEPTION_NMI, qualification: gva, guestLinear: gva,
      interruptionInfo: interruptionInfo(14, InterruptionType.HARDWARE_EXCEPTION, true), errorCode: hwErr,
    });
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
    const traced = write && this.tables.isTraced(gfn);
    const wp0 = write && !user && !rights.write && !g.wp;
    let reason: string;
    let result = -1;
    if (traced) {
      // Memory tracing: the guest is writing one of its page tables. Fill the page read-only,
      // let this one store through, and zap what the written entries produced.
      this.install(rec, linear, { write: false, user: rights.user, execute: rights.execute, global: leaf.flags.g }, false);
      result = this.tracedWrite(gfn, gpa, gva);
      this.rememberEmulated(linear, result, user);
      reason = 'write to a traced guest page table (emulated)';
    } else if (wp0 && (g.smep || g.smap)) {
      // KVM's U=0 trick would defeat SMEP/SMAP: emulate this one store instead.
      this.install(rec, linear, { write: false, user: rights.user, execute: rights.execute, global: leaf.flags.g }, false);
      result = this.tables.machineFrame(gfn) * PAGE_SIZE + (gpa % PAGE_SIZE);
      this.rememberEmulated(linear, result, user);
      reason = 'CR0.WP=0 supervisor write to a read-only page (emulated: SMEP/SMAP on)';
    } else {
      const dirty = rec.dirty ?? false;
      const bits = wp0
        ? { write: true, user: false, execute: rights.execute, global: leaf.flags.g }
        : { write: rights.write && dirty, user: rights.user, execute: rights.execute, global: leaf.flags.g };
      this.install(rec, linear, bits, wp0);
      if (wp0) reason = 'CR0.WP=0 supervisor write to a read-only page (spte U=0, W=1 as KVM)';
      else if (!(hwErr & PF_P)) reason = `shadow miss; guest ${leaf.name === 'PT' ? 'PTE' : leaf.name + 'E (large page)'} present`;
      else if (write && !leaf.flags.d) reason = 'first write to a clean page: guest D set (D-bit catch)';
      else reason = 'shadow rights below the guest\'s (refilled)';
      for (let tries = 0; tries < 3 && result < 0; tries++) result = this.hw.translate(linear, access, user, ac);
      if (result < 0) throw new Error(`shadow MMU: fill for ${gva.toString(16)} did not resolve the fault (${this.hw.fault?.reason})`);
    }
    const bus = this.ctx.bus;
    if (bus.wants['page-fault']) {
      bus.emit({ kind: 'page-fault', gva, errorCode: hwErr, access: ACCESS_NAMES[access], user, reason, hidden: true, icount: cpu.icount, vcpu: this.index, rip: cpu.ripValue });
    }
    return result;
  }

  /** Fills the shadow path for `linear` from a successful guest walk, ending in a leaf with `bits`. */
  private install(rec: WalkRecord, linear: number, bits: { write: boolean; user: boolean; execute: boolean; global: boolean }, trick: boolean): void {
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
        t.setLeaf(sp, L.index, gfn, bits, trick);
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
      t.setLeaf(d, levelIndex(f, 1, linear), gfn, bits, trick);
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
    if (leaf) {
      changed = this.tables.sync === 'unsync' && leaf.sp.unsync
        ? this.tables.resync((gpa) => this.ctx.guest.read32(gpa), leaf)
        : this.tables.zapEntry(leaf.sp, leaf.index);
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

  /** Drops this vCPU's hardware TLB entries that map machine address `mpa` (write-protection, WP change). */
  flushMappingsOf(mpa: number, onlyWritable: boolean): void {
    const t = this.hw.tlb;
    const v = this.hw.vpid;
    for (let s = 0; s < t.totalSlots; s++) {
      const f = t.flags[s];
      if (!(f & TLB_VALID) || t.vpid[s] !== v || (onlyWritable && !(f & TLB_W))) continue;
      const d = mpa - t.frame[s];
      if (d >= 0 && d < t.span[s]) t.flushPage(t.base[s] + d, t.pcid[s], v);
    }
  }

  /** Control registers as the guest set them. */
  control(): { cr0: number; cr3: number; cr4: number; efer: number } {
    return { cr0: this.cr0, cr3: this.cr3, cr4: this.cr4, efer: this.efer };
  }
}

