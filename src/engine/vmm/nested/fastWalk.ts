// The simulator's fast 2-D walk (nested paging, 4- and 5-level guests): what a TLB miss costs
// in the common, warm case — every guest and EPT entry present and well-formed, accessed (and
// dirty where needed) bits already set, the access allowed by both stages — without building
// a record. It reads the same entries the full walk would read, in the same order, keeping
// them in preallocated arrays; `materialize()` later replays them through the real walker and
// the real EPT walk, giving exactly the record (and counts) the full walk would have made.
// When any condition fails it returns false having written nothing, and the MMU makes the
// full walk (which faults, exits or sets the A/D bits as the architecture says).
import type { PhysicalMemory } from '../../memory/physicalMemory';
import type { FastMiss, TableMemory } from '../../mmu/tableMemory';
import { walkPageTables } from '../../mmu/walker';
import type { WalkContext } from '../../mmu/walker';
import type { SecondStageWalk, WalkAccess, WalkRecord } from '../../mmu/walkRecord';
import type { Ept, EptAccess } from './ept';
import { EPT_A, EPT_D, EPT_R, EPT_W, EPT_X } from './eptFormat';

const ACCESS: readonly WalkAccess[] = ['read', 'write', 'fetch'];
const NEED = [EPT_R, EPT_W, EPT_X];
const TWO32 = 2 ** 32;
/** Up to 5 guest levels + the final gpa: 6 EPT walks of up to 5 entries (lo, hi). */
const MAX_WALKS = 6;

function hiAddressMask(maxPhyAddr: number): number {
  return maxPhyAddr >= 52 ? 0xfffff : (1 << (maxPhyAddr - 32)) - 1;
}

/** Counters the full path keeps too (EptTranslator.walks / walkReferences). */
export interface WalkCounters {
  walks: number;
  walkReferences: number;
}

export class FastTwoDWalk implements FastMiss {
  frameBase = 0;
  pageSize = 4096;
  write = false;
  user = false;
  execute = false;
  global = false;
  guestDirty = false;
  writable = false;
  gpaBase = 0;

  /** Guest entries read (lo, hi per level). */
  private readonly guest = new Uint32Array(10);
  /** Per EPT walk k: its gpa and the entries read (lo, hi per level). */
  private readonly eptGpa = new Float64Array(MAX_WALKS);
  private readonly eptEntries: Uint32Array[] = [];
  private readonly eptCount = new Int32Array(MAX_WALKS);
  // Outputs of the last eptFast().
  private span = 0;
  private rbits = 0;
  private dirty = false;
  private references = 0;
  // What the last successful walk was, for materialize().
  private readonly ctx: WalkContext = {
    mode: 'none', cr3: 0, maxPhyAddr: 40, wp: false, pse: false, pge: false, nxe: false, smep: false, smap: false,
    pdpteLo: new Uint32Array(4), pdpteHi: new Uint32Array(4),
  };
  private linear = 0;
  private access: 0 | 1 | 2 = 0;
  private userAccess = false;
  private ac = false;
  private guestLevels = 0;

  constructor(
    private readonly ept: Ept,
    private readonly mem: PhysicalMemory,
    private readonly guestBytes: number,
    private readonly counters: WalkCounters,
  ) {
    for (let k = 0; k < MAX_WALKS; k++) this.eptEntries.push(new Uint32Array(10));
  }

  /** The EPT walk of gpa, pure: the machine address, or -1 when the full walk must be made. */
  private eptFast(gpa: number, need: number, write: boolean, k: number): number {
    const ept = this.ept;
    const mem = this.mem;
    const ad = ept.accessedDirty;
    const hiRes = 0xfffff & ~hiAddressMask(ept.maxPhyAddr);
    const hiMask = hiAddressMask(ept.maxPhyAddr);
    const out = this.eptEntries[k];
    this.eptGpa[k] = gpa;
    let level: number = ept.levels;
    let table = ept.rootMpa;
    let rbits = 7;
    let n = 0;
    for (;;) {
      const span = level === 1 ? 4096 : level === 2 ? 0x200000 : level === 3 ? 0x40000000 : 2 ** (12 + 9 * (level - 1));
      const addr = table + (Math.floor(gpa / span) % 512) * 8;
      const lo = mem.read32(addr) >>> 0;
      const hi = mem.read32(addr + 4) >>> 0;
      out[n++] = lo;
      out[n++] = hi;
      const xwr = lo & 7;
      // Not present, or XWR 010 / 110 / 100 (misconfigurations): the full walk reports them.
      if (xwr === 0 || xwr === 2 || xwr === 6 || xwr === 4) return -1;
      rbits &= xwr;
      const leaf = level === 1 || ((level === 2 || level === 3) && (lo & 0x80) !== 0);
      const loMask = !leaf ? 0xf8 : level === 3 ? 0x3ffff000 : level === 2 ? 0x1ff000 : 0;
      if ((lo & loMask) !== 0 || (hi & hiRes) !== 0) return -1;
      if (ad && (lo & EPT_A) === 0) return -1;
      if (!leaf) {
        table = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
        level--;
        continue;
      }
      const mt = (lo >>> 3) & 7;
      if (mt === 2 || mt === 3 || mt === 7) return -1;
      if ((rbits & need) === 0) return -1;
      if (ad && write && (lo & EPT_D) === 0) return -1;
      const loMaskT = level === 3 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
      this.eptCount[k] = n >> 1;
      this.references += n >> 1;
      this.span = span;
      this.rbits = rbits;
      this.dirty = !ad || (lo & EPT_D) !== 0;
      return (hi & hiMask) * TWO32 + ((lo & loMaskT) >>> 0) + (gpa % span);
    }
  }

  tryMiss(ctx: WalkContext, linear: number, access: 0 | 1 | 2, user: boolean, ac: boolean): boolean {
    if (ctx.mode !== '4level' && ctx.mode !== '5level') return false;
    const mem = this.mem;
    const ad = this.ept.accessedDirty;
    // With EPT A/D, guest paging-structure accesses count as writes (as in EptTranslator).
    const tableNeed = ad ? EPT_W : EPT_R;
    const m = ctx.maxPhyAddr;
    const hiMask = hiAddressMask(m);
    const hiRes = (0xfffff & ~hiMask) | (ctx.nxe ? 0 : 0x80000000);
    const cr3 = ctx.cr3 % 2 ** m;
    let table = cr3 - (cr3 % 4096);
    let level = ctx.mode === '5level' ? 5 : 4;
    let shift = level === 5 ? 48 : 39;
    let w = true;
    let u = true;
    let x = true;
    let n = 0;
    this.references = 0;
    for (;;) {
      const entryGpa = table + (Math.floor(linear / 2 ** shift) % 512) * 8;
      if (entryGpa >= this.guestBytes) return false;
      const mpa = this.eptFast(entryGpa, tableNeed, ad, n);
      if (mpa < 0) return false;
      const lo = mem.read32(mpa) >>> 0;
      const hi = mem.read32(mpa + 4) >>> 0;
      this.guest[2 * n] = lo;
      this.guest[2 * n + 1] = hi;
      n++;
      if ((lo & 1) === 0 || (lo & 0x20) === 0) return false;
      const leaf = level === 1 || ((level === 2 || level === 3) && (lo & 0x80) !== 0);
      const loMask = level >= 4 ? 0x80 : leaf && level === 3 ? 0x3fffe000 : leaf && level === 2 ? 0x1fe000 : 0;
      if ((lo & loMask) !== 0 || (hi & hiRes) !== 0) return false;
      w &&= (lo & 2) !== 0;
      u &&= (lo & 4) !== 0;
      if (ctx.nxe && (hi & 0x80000000) !== 0) x = false;
      if (!leaf) {
        table = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
        shift -= 9;
        level--;
        continue;
      }
      // The walker's protection rules (implicit accesses never come here).
      if (user && !u) return false;
      if (access === 1 && !w && (user || ctx.wp)) return false;
      if (access === 2 && (!x || (!user && u && ctx.smep))) return false;
      if (access !== 2 && !user && u && ctx.smap && !ac) return false;
      if (access === 1 && (lo & 0x40) === 0) return false;
      const pageSize = 2 ** shift;
      const loMaskT = level === 3 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
      const gpa = (hi & hiMask) * TWO32 + ((lo & loMaskT) >>> 0) + (linear % pageSize);
      if (gpa >= this.guestBytes) return false;
      const mpaF = this.eptFast(gpa, NEED[access], access === 1, n);
      if (mpaF < 0) return false;
      // Success: from here on, the outcome is the full walk's.
      const size = Math.min(pageSize, this.span);
      this.frameBase = mpaF - (gpa % size);
      this.pageSize = size;
      this.gpaBase = gpa - (gpa % size);
      this.write = w;
      this.user = u;
      this.execute = x && (this.rbits & EPT_X) !== 0;
      this.global = ctx.pge && (lo & 0x100) !== 0;
      this.guestDirty = (lo & 0x40) !== 0;
      this.writable = (this.rbits & EPT_W) !== 0 && this.dirty;
      this.guestLevels = n;
      this.linear = linear;
      this.access = access;
      this.userAccess = user;
      this.ac = ac;
      const c = this.ctx;
      c.mode = ctx.mode;
      c.cr3 = ctx.cr3;
      c.maxPhyAddr = ctx.maxPhyAddr;
      c.wp = ctx.wp;
      c.pse = ctx.pse;
      c.pge = ctx.pge;
      c.nxe = ctx.nxe;
      c.smep = ctx.smep;
      c.smap = ctx.smap;
      this.counters.walks++;
      this.counters.walkReferences += n + this.references;
      return true;
    }
  }

  materialize(): WalkRecord {
    const tableAccess: EptAccess = this.ept.accessedDirty ? 'write' : 'read';
    let reads = 0;
    let k = 0;
    const tm: TableMemory = {
      read32: () => this.guest[reads++],
      writeAccessedDirty: () => {
        throw new Error('internal: a replayed walk writes no A/D bits');
      },
      takeSecondStage: (): SecondStageWalk | undefined => {
        const w = this.replay(k, tableAccess, 'table');
        k++;
        return w;
      },
    };
    const rec = walkPageTables(tm, this.ctx, this.linear, ACCESS[this.access], this.userAccess, { setAccessedDirty: false, ac: this.ac });
    const final = this.replay(this.guestLevels, ACCESS[this.access], 'final');
    rec.finalSecondStage = final;
    rec.secondStageReferences = (rec.secondStageReferences ?? 0) + final.memoryReferences;
    rec.memoryReferences += final.memoryReferences;
    return rec;
  }

  private replay(k: number, access: EptAccess, purpose: SecondStageWalk['purpose']): SecondStageWalk {
    return this.ept.replayWalk(this.eptGpa[k], access, purpose, this.eptEntries[k].subarray(0, 2 * this.eptCount[k]));
  }
}
