// One VM's shadow page tables: frames of machine memory (use 'shadow-pt') holding real x86
// entries, indexed as KVM indexes its shadow pages — by (level, guest frame, role, direct) —
// plus the reverse map (guest frame → leaf sptes that map it) that write-protection needs,
// and the set of guest frames being traced (write-protected because they hold guest tables).
//
// Shadow pages are shared between every parent entry that points at the same guest table with
// the same role, as in KVM. Non-leaf sptes grant everything (P|W|U, no XD); the rights the
// guest's upper levels take away travel in the role (ACC_W|U|X), and each leaf spte carries the
// effective rights of its translation — so a shared page never gives one path another's rights.
import type { MachineMemory } from '../../machine/machineMemory';
import type { P2m, PageAccess } from '../p2m';
import { PAGE_SIZE } from '../../memory/frame';
import { OutOfMachineMemory } from '../p2m';
import { ACC_ALL, SPTE_A, SPTE_D, SPTE_G, SPTE_P, SPTE_U, SPTE_W, SPTE_XD_HI, holeAddress } from './spteFormat';
import type { ShadowFormat } from './spteFormat';

export type SyncPolicy = 'trace' | 'unsync';

export interface ShadowPage {
  readonly mpn: number;
  /** 1 = PT ... rootLevel; the PAE root is level 3 with 4 entries. */
  readonly level: number;
  /** Guest frame of the guest table it shadows; for direct pages the first guest frame covered; -1 for the PAE root. */
  readonly gfn: number;
  /** Direct: shadows part of a guest large page (no guest table behind it), or the PAE root. */
  readonly direct: boolean;
  /** Rights left by the guest levels above (ACC_W|U|X), plus (direct) bit 3 = the large leaf's G. */
  readonly role: number;
  readonly key: string;
  /** Parent sptes pointing at it. */
  parents: number;
  /** Root-cache entries holding it as a root. */
  roots: number;
  /** A level-1 page of an untraced guest table (sync "unsync"): may differ from the guest until resynced. */
  readonly unsync: boolean;
  readonly children: Map<number, ShadowPage>;
  /** The guest entry each present spte was derived from (halves), for resync and the audit. */
  readonly guestLo: Uint32Array;
  readonly guestHi: Uint32Array;
  /** Level 1: the guest frame each present leaf spte maps (-1 none). */
  readonly leafGfn: Float64Array;
  /**
   * Level 1: the guest's own view of each present leaf (GV_W|U|X|D: the rights and D bit the
   * guest walk found), which a native TLB entry filled from it would hold — the hardware TLB
   * entry made from the spte may have fewer (traced frame, D catch), see ShadowMmu.
   */
  readonly guestBits: Uint8Array;
}

export interface LeafBits {
  write: boolean;
  user: boolean;
  execute: boolean;
  global: boolean;
}

export interface ShadowCounters {
  pagesCreated: number;
  pagesFreed: number;
  leafFills: number;
  zaps: number;
  writeProtects: number;
}

export class ShadowTables {
  format: ShadowFormat | null = null;
  /** Bumped whenever every shadow page is dropped (a paging-format change): root caches must forget. */
  generation = 0;
  readonly pages = new Map<string, ShadowPage>();
  readonly byMpn = new Map<number, ShadowPage>();
  /** Guest frame → the non-direct shadow pages shadowing the guest table there. */
  readonly byGfn = new Map<number, Set<ShadowPage>>();
  /** Guest frame → number of shadow pages tracing it (write-protecting it). */
  readonly traced = new Map<number, number>();
  /** Guest frame → ids (mpn * 4096 + index) of leaf sptes mapping it. */
  readonly rmap = new Map<number, Set<number>>();
  /** Leaf sptes made writable for a CR0.WP=0 supervisor write to a read-only page (U cleared), as KVM does. */
  readonly tricks = new Set<number>();
  readonly counters: ShadowCounters = { pagesCreated: 0, pagesFreed: 0, leafFills: 0, zaps: 0, writeProtects: 0 };
  /**
   * Set by the mode: take W (and D) away from the hardware TLB entries (of this VM) that map
   * machine address `mpa`. Not a flush: natively those entries would still be there, so they
   * stay, and a write through one exits to the VMM, which serves it as the native hit it is.
   */
  writeProtectHardware: (mpa: number) => void = () => {};
  private formatKey = '';
  private hole = 0;

  constructor(
    readonly machine: MachineMemory,
    readonly vmId: number,
    readonly p2m: P2m,
    readonly sync: SyncPolicy,
    readonly maxPhyAddr: number,
  ) {}

  get holeMpn(): number {
    return this.hole / PAGE_SIZE;
  }

  /**
   * The guest's paging format (and the PSE/NXE bits that change how its entries read). A change
   * drops every shadow page, as KVM's role change makes new pages; hardware TLB entries stay
   * (the guest did not ask for a flush).
   */
  setFormat(f: ShadowFormat, pse: boolean): void {
    const key = `${f.mode}:${pse}:${f.xd}`;
    if (key === this.formatKey) return;
    this.dropAll();
    this.formatKey = key;
    this.format = f;
    this.hole = holeAddress(f, this.maxPhyAddr);
    if (this.machine.size > this.hole) throw new Error('machine memory reaches the shadow hole page');
  }

  private get fmt(): ShadowFormat {
    if (!this.format) throw new Error('shadow tables used before a paging format was set');
    return this.format;
  }

  spteAddress(sp: ShadowPage, index: number): number {
    return sp.mpn * PAGE_SIZE + index * this.fmt.entrySize;
  }

  readSpte(sp: ShadowPage, index: number): { lo: number; hi: number } {
    const a = this.spteAddress(sp, index);
    const m = this.machine.bytes;
    return { lo: m.read32(a) >>> 0, hi: this.fmt.entrySize === 8 ? m.read32(a + 4) >>> 0 : 0 };
  }

  private writeSpte(sp: ShadowPage, index: number, lo: number, hi: number): void {
    const a = this.spteAddress(sp, index);
    this.machine.bytes.write32(a, lo >>> 0);
    if (this.fmt.entrySize === 8) this.machine.bytes.write32(a + 4, hi >>> 0);
  }

  isTraced(gfn: number): boolean {
    return this.traced.has(gfn);
  }

  /**
   * Machine frame for a guest frame: backed lazily through the p2m (a read of a shared page keeps
   * the shared frame; a write breaks the sharing); the hole outside guest memory.
   */
  machineFrame(gfn: number, access: PageAccess = 'write'): number {
    if (gfn < 0 || gfn >= this.p2m.pages) return this.holeMpn;
    return this.p2m.back(gfn, access);
  }

  /** The frame a guest frame has now (no backing, no swap-in): -1 if none; the hole outside guest memory. */
  currentFrame(gfn: number): number {
    if (gfn < 0 || gfn >= this.p2m.pages) return this.holeMpn;
    return this.p2m.lookup(gfn);
  }

  /**
   * The p2m is about to take the page's frame away ('none': swapped, shared with another frame,
   * ballooned, COW-broken) or to share it in place ('read-only'): every leaf spte of the guest
   * frame, found through the rmap, is zapped or loses W. A CR0.WP=0 spte (U traded for W) is
   * zapped either way: without W it would deny the guest's own U. Returns the sptes changed.
   * The hardware TLB entries are the vCPUs' business (ShadowMmu.flushMappingsOf).
   */
  revoke(gfn: number, to: 'none' | 'read-only'): number {
    const ids = this.rmap.get(gfn);
    if (!ids) return 0;
    let n = 0;
    for (const id of [...ids]) {
      const sp = this.byMpn.get(Math.floor(id / PAGE_SIZE));
      if (!sp) continue;
      const index = id % PAGE_SIZE;
      if (to === 'none' || this.tricks.has(id)) {
        n += this.zapEntry(sp, index);
        continue;
      }
      const { lo, hi } = this.readSpte(sp, index);
      if (lo & SPTE_W) {
        this.writeSpte(sp, index, lo & ~SPTE_W, hi);
        this.counters.writeProtects++;
        n++;
      }
    }
    return n;
  }

  /** The shadow page for (level, gfn, role, direct), created (and its guest frame traced) if new. */
  page(level: number, gfn: number, role: number, direct: boolean): ShadowPage {
    const key = `${level}:${gfn}:${role}:${direct ? 'd' : 'i'}`;
    const found = this.pages.get(key);
    if (found) return found;
    const mpn = this.machine.allocate(this.vmId, 'shadow-pt');
    if (mpn === undefined) throw new OutOfMachineMemory(`machine memory exhausted allocating a shadow page for VM ${this.vmId}`);
    const n = this.fmt.entries;
    const traces = !direct && gfn >= 0 && (this.sync === 'trace' || level > 1);
    const sp: ShadowPage = {
      mpn, level, gfn, direct, role, key, parents: 0, roots: 0, unsync: !direct && !traces, children: new Map(),
      guestLo: new Uint32Array(n), guestHi: new Uint32Array(n), leafGfn: new Float64Array(level === 1 ? n : 0).fill(-1),
      guestBits: new Uint8Array(level === 1 ? n : 0),
    };
    this.pages.set(key, sp);
    this.byMpn.set(mpn, sp);
    this.counters.pagesCreated++;
    if (!direct && gfn >= 0) {
      let set = this.byGfn.get(gfn);
      if (!set) this.byGfn.set(gfn, (set = new Set()));
      set.add(sp);
      if (traces) this.trace(gfn);
    }
    return sp;
  }

  /** A root for the guest table at `gfn` (held until releaseRoot). */
  acquireRoot(gfn: number): ShadowPage {
    const sp = this.page(this.fmt.rootLevel, gfn, ACC_ALL, false);
    sp.roots++;
    return sp;
  }

  /** A PAE root: 4 PDPTEs built from the guest's PDPTE registers at each load (fillPaeRoot). */
  acquirePaeRoot(cr3Base: number): ShadowPage {
    const sp = this.page(3, -1 - cr3Base, ACC_ALL, true);
    sp.roots++;
    return sp;
  }

  releaseRoot(sp: ShadowPage): void {
    sp.roots--;
    if (sp.roots <= 0 && sp.parents <= 0 && this.pages.get(sp.key) === sp) this.freePage(sp);
  }

  /** PAE: point the root's four entries at shadow PDs for the guest PDPTEs just loaded. */
  fillPaeRoot(root: ShadowPage, lo: Uint32Array, hi: Uint32Array): void {
    for (let i = 0; i < 4; i++) {
      if (lo[i] & 1) {
        const gfn = (hi[i] * 2 ** 32 + (lo[i] & 0xfffff000)) / PAGE_SIZE;
        this.child(root, i, 2, gfn, ACC_ALL, false);
        root.guestLo[i] = lo[i];
        root.guestHi[i] = hi[i];
      } else this.zapEntry(root, i);
    }
  }

  /** The child shadow page under parent[index], (re)pointing the spte if it named another. */
  child(parent: ShadowPage, index: number, level: number, gfn: number, role: number, direct: boolean): ShadowPage {
    const existing = parent.children.get(index);
    if (existing && existing.gfn === gfn && existing.role === role && existing.direct === direct && existing.level === level) return existing;
    if (existing) this.zapEntry(parent, index);
    const c = this.page(level, gfn, role, direct);
    c.parents++;
    parent.children.set(index, c);
    const a = c.mpn * PAGE_SIZE;
    // PAE PDPTEs have reserved bits where W/U/A sit elsewhere: P and the address only.
    const paeRoot = this.fmt.mode === 'pae' && parent.level === 3;
    this.writeSpte(parent, index, (a % 2 ** 32) | SPTE_P | (paeRoot ? 0 : SPTE_W | SPTE_U | SPTE_A), Math.floor(a / 2 ** 32));
    return c;
  }

  /** Records the guest entry a spte at parent[index] derives from. */
  noteGuestEntry(sp: ShadowPage, index: number, lo: number, hi: number): void {
    sp.guestLo[index] = lo;
    sp.guestHi[index] = hi;
  }

  /**
   * Installs a leaf spte mapping guest frame `gfn` with at most `bits`: W is dropped on a traced
   * frame and on a shared page (copy-on-write: mappings of a shared frame are always read-only).
   * `writeAccess`: the fill is for a write, which breaks the sharing first (the p2m's back).
   */
  setLeaf(sp: ShadowPage, index: number, gfn: number, bits: LeafBits, trick: boolean, guestBits: number, writeAccess = true): void {
    const f = this.fmt;
    this.clearLeaf(sp, index);
    const mpn = this.machineFrame(gfn, bits.write && writeAccess ? 'write' : 'read');
    const write = bits.write && !this.isTraced(gfn) && this.p2m.stateOf(gfn) !== 'shared';
    const a = mpn * PAGE_SIZE;
    const lo = (a % 2 ** 32) | SPTE_P | SPTE_A | (write ? SPTE_W | SPTE_D : 0) | (bits.user ? SPTE_U : 0) | (bits.global ? SPTE_G : 0);
    const hi = Math.floor(a / 2 ** 32) | (f.xd && !bits.execute ? SPTE_XD_HI : 0);
    this.writeSpte(sp, index, lo, hi);
    sp.leafGfn[index] = gfn;
    sp.guestBits[index] = guestBits;
    const id = sp.mpn * PAGE_SIZE + index;
    if (mpn !== this.holeMpn) {
      let set = this.rmap.get(gfn);
      if (!set) this.rmap.set(gfn, (set = new Set()));
      set.add(id);
    }
    if (trick && write) this.tricks.add(id);
    this.counters.leafFills++;
  }

  private clearLeaf(sp: ShadowPage, index: number): boolean {
    const gfn = sp.leafGfn[index];
    if (gfn < 0) return false;
    const id = sp.mpn * PAGE_SIZE + index;
    this.rmap.get(gfn)?.delete(id);
    if (this.rmap.get(gfn)?.size === 0) this.rmap.delete(gfn);
    this.tricks.delete(id);
    sp.leafGfn[index] = -1;
    this.writeSpte(sp, index, 0, 0);
    return true;
  }

  /** Makes sp[index] not present (freeing a child nobody points at any more); 1 if it was present. */
  zapEntry(sp: ShadowPage, index: number): number {
    if (sp.level === 1) {
      const was = this.clearLeaf(sp, index);
      if (was) this.counters.zaps++;
      return was ? 1 : 0;
    }
    const c = sp.children.get(index);
    if (!c) return 0;
    sp.children.delete(index);
    this.writeSpte(sp, index, 0, 0);
    c.parents--;
    if (c.parents <= 0 && c.roots <= 0) this.freePage(c);
    this.counters.zaps++;
    return 1;
  }

  private freePage(sp: ShadowPage): void {
    if (this.pages.get(sp.key) !== sp) return;
    for (const i of [...sp.children.keys()]) this.zapEntry(sp, i);
    if (sp.level === 1) for (let i = 0; i < sp.leafGfn.length; i++) if (sp.leafGfn[i] >= 0) this.clearLeaf(sp, i);
    this.pages.delete(sp.key);
    this.byMpn.delete(sp.mpn);
    if (!sp.direct && sp.gfn >= 0) {
      const set = this.byGfn.get(sp.gfn);
      set?.delete(sp);
      if (set?.size === 0) this.byGfn.delete(sp.gfn);
      if (!sp.unsync) this.untrace(sp.gfn);
    }
    this.machine.release(sp.mpn);
    this.counters.pagesFreed++;
  }

  /**
   * Starts tracing a guest frame that now holds a shadowed guest table: mark the machine frame
   * 'guest-pt', make every leaf spte mapping it read-only, and make the hardware TLB entries that
   * could still write it read-only too (KVM flushes after write-protecting; a flush would make
   * a guest that skipped INVLPG see its new PTEs sooner than natively).
   */
  private trace(gfn: number): void {
    const n = this.traced.get(gfn) ?? 0;
    this.traced.set(gfn, n + 1);
    if (n > 0 || gfn >= this.p2m.pages) return;
    const mpn = this.p2m.back(gfn);
    this.machine.frames.setUse(mpn, 'guest-pt');
    for (const id of this.rmap.get(gfn) ?? []) {
      const sp = this.byMpn.get(Math.floor(id / PAGE_SIZE));
      if (!sp) continue;
      const index = id % PAGE_SIZE;
      const { lo, hi } = this.readSpte(sp, index);
      if (lo & SPTE_W) {
        this.writeSpte(sp, index, lo & ~SPTE_W, hi);
        this.tricks.delete(id);
        this.counters.writeProtects++;
      }
    }
    this.writeProtectHardware(mpn * PAGE_SIZE);
  }

  private untrace(gfn: number): void {
    const n = (this.traced.get(gfn) ?? 0) - 1;
    if (n > 0) {
      this.traced.set(gfn, n);
      return;
    }
    this.traced.delete(gfn);
    const mpn = this.p2m.lookup(gfn);
    if (mpn >= 0) this.machine.frames.setUse(mpn, 'guest-data');
  }

  /**
   * A guest store is about to change bytes [from, to) of guest frame `gfn`: zap every spte
   * derived from a guest entry overlapping them, in every shadow page of that guest table.
   */
  zapGuestRange(gfn: number, from: number, to: number): number {
    const set = this.byGfn.get(gfn);
    if (!set) return 0;
    const es = this.fmt.entrySize;
    let n = 0;
    for (const sp of [...set]) {
      for (let i = Math.floor(from / es); i <= Math.floor((to - 1) / es); i++) n += this.zapEntry(sp, i);
    }
    return n;
  }

  /** Drops the CR0.WP=0 sptes (WP set again, or SMEP/SMAP turned on); hardware TLB entries built from them lose W. */
  dropTricks(): number {
    const ids = [...this.tricks];
    for (const id of ids) {
      const sp = this.byMpn.get(Math.floor(id / PAGE_SIZE));
      if (!sp) continue;
      const index = id % PAGE_SIZE;
      const gfn = sp.leafGfn[index];
      this.zapEntry(sp, index);
      const mpn = gfn >= 0 ? this.currentFrame(gfn) : -1;
      if (mpn >= 0) this.writeProtectHardware(mpn * PAGE_SIZE);
    }
    this.tricks.clear();
    return ids.length;
  }

  /**
   * Unsync: compare every spte of the unsync pages (or one) with its guest entry now and zap
   * those that changed (refilled lazily, as KVM's sync_page does). Reads have no side effects.
   */
  resync(readGuest: (gpa: number) => number, only?: { sp: ShadowPage; index: number }): number {
    const es = this.fmt.entrySize;
    let n = 0;
    const check = (sp: ShadowPage, i: number): void => {
      if (sp.leafGfn[i] < 0) return;
      const base = sp.gfn * PAGE_SIZE + i * es;
      const lo = readGuest(base) >>> 0;
      const hi = es === 8 ? readGuest(base + 4) >>> 0 : 0;
      if (lo !== sp.guestLo[i] || hi !== sp.guestHi[i]) n += this.zapEntry(sp, i);
    };
    if (only) {
      if (only.sp.unsync) check(only.sp, only.index);
      return n;
    }
    for (const sp of [...this.pages.values()]) {
      if (!sp.unsync || this.pages.get(sp.key) !== sp) continue;
      for (let i = 0; i < sp.leafGfn.length; i++) check(sp, i);
    }
    return n;
  }

  /** Unsync: resync entry `index` in every unsync shadow page of the guest table at `gfn`. */
  resyncGuestEntry(readGuest: (gpa: number) => number, gfn: number, index: number): number {
    let n = 0;
    for (const sp of [...(this.byGfn.get(gfn) ?? [])]) {
      if (sp.unsync && sp.level === 1 && this.pages.get(sp.key) === sp) n += this.resync(readGuest, { sp, index });
    }
    return n;
  }

  /** Frees every shadow page (format change). */
  dropAll(): void {
    for (const sp of this.pages.values()) this.machine.release(sp.mpn);
    for (const gfn of this.traced.keys()) {
      const mpn = this.p2m.lookup(gfn);
      if (mpn >= 0) this.machine.frames.setUse(mpn, 'guest-data');
    }
    this.counters.pagesFreed += this.pages.size;
    this.pages.clear();
    this.byMpn.clear();
    this.byGfn.clear();
    this.traced.clear();
    this.rmap.clear();
    this.tricks.clear();
    this.generation++;
  }
}
