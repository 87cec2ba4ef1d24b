// The simulator's fast 2-D walk (nested paging, 4- and 5-level guests): what a TLB miss costs
// in the common case — every guest and EPT entry present and well-formed, EPT accessed (and
// dirty where needed) bits already set, the access allowed by both stages — without building
// a record. It reads the same entries the full walk would read, in the same order, keeping
// them in preallocated arrays; `materialize()` later replays them through the real walker and
// the real EPT walk, giving exactly the record (and counts) the full walk would have made.
// The guest's own A/D write-backs are planned as the walk goes and made, in walk order, once
// the outcome is known to be the full walk's (the replay records them again).
// When any condition fails it returns false, and the MMU makes the full walk (which faults,
// exits or sets EPT A/D bits as the architecture says) — with one exception, the commonest
// exit of all: a guest walk that completes whose final gpa the EPT does not map (first touch,
// a page swapped, ballooned or sampled) or maps without the access's right (a write to a
// shared page). There the full walk would only repeat the same reads to reach the same EPT
// violation, so the fast walk raises it itself: the same EptExit (the real EPT walk's fault and
// record), the same counts, and a record of the failed walk built on demand, as the full walk
// would have left it.
// Each attempt writes into scratch buffers, swapped with the kept ones only when it ends in a
// result (a hit or that violation): a failed attempt leaves the last record's entries intact.
import type { PhysicalMemory } from '../../memory/physicalMemory';
import type { FastMiss, TableMemory } from '../../mmu/tableMemory';
import { walkPageTables } from '../../mmu/walker';
import type { WalkContext } from '../../mmu/walker';
import type { SecondStageWalk, WalkAccess, WalkRecord } from '../../mmu/walkRecord';
import type { Ept, EptAccess } from './ept';
import { EPT_A, EPT_D, EPT_R, EPT_W, EPT_X } from './eptFormat';
import { EptExit } from './eptExit';

const ACCESS: readonly WalkAccess[] = ['read', 'write', 'fetch'];
const NEED = [EPT_R, EPT_W, EPT_X];
const TWO32 = 2 ** 32;
/** Up to 5 guest levels + the final gpa: 6 EPT walks of up to 5 entries (lo, hi). */
const MAX_WALKS = 6;

function hiAddressMask(maxPhyAddr: number): number {
  return maxPhyAddr >= 52 ? 0xfffff : (1 << (maxPhyAddr - 32)) - 1;
}

/** Whether two of the first n addresses are equal. */
function repeats(a: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (a[i] === a[j]) return true;
  return false;
}

/** eptFast's outcomes besides a machine address. */
const FULL_WALK = -1;
const VIOLATION = -2;

/** The entries one attempt read: the guest's (lo, hi per level) and each EPT walk's. */
interface WalkEntries {
  readonly guest: Uint32Array;
  /** Per EPT walk k: its gpa and the entries read (lo, hi per level). */
  readonly eptGpa: Float64Array;
  readonly eptEntries: Uint32Array[];
  readonly eptCount: Int32Array;
}

function walkEntries(): WalkEntries {
  const eptEntries: Uint32Array[] = [];
  for (let k = 0; k < MAX_WALKS; k++) eptEntries.push(new Uint32Array(10));
  return { guest: new Uint32Array(10), eptGpa: new Float64Array(MAX_WALKS), eptEntries, eptCount: new Int32Array(MAX_WALKS) };
}

/** The translator's side: counters the full path keeps too, and where an exit is left for the port. */
export interface WalkCounters {
  walks: number;
  walkReferences: number;
  /** An exit the fast walk raised without throwing (see SECOND_STAGE_EXIT): the nested port takes it. */
  pendingExit: EptExit | null;
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
  exited = false;

  /** What the attempt in progress reads, and what the last one that ended in a result read. */
  private scratch = walkEntries();
  private kept = walkEntries();
  /** The last result was an EPT violation: the real final EPT walk that faulted. */
  private failedFinal: SecondStageWalk | null = null;
  /** This attempt's guest entry addresses, and the A/D writes it plans (machine address, new low half). */
  private readonly entryGpas = new Float64Array(5);
  private readonly adMpa = new Float64Array(5);
  private readonly adLo = new Uint32Array(5);
  private adWrites = 0;
  /** A/D writes the kept walk made (its record replays them). */
  private keptWrites = 0;
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
  ) {}

  /**
   * The EPT walk of gpa, pure: the machine address; FULL_WALK when the full walk must be made;
   * VIOLATION when the full walk would end in an EPT violation at this walk, having read these
   * same entries and written nothing (an entry not present, or a well-formed leaf without the
   * right, every entry before it present and well-formed: A bits are set only by a walk that
   * succeeds).
   */
  private eptFast(gpa: number, need: number, write: boolean, k: number): number {
    const ept = this.ept;
    const mem = this.mem;
    const ad = ept.accessedDirty;
    const hiRes = 0xfffff & ~hiAddressMask(ept.maxPhyAddr);
    const hiMask = hiAddressMask(ept.maxPhyAddr);
    const b = this.scratch;
    const out = b.eptEntries[k];
    b.eptGpa[k] = gpa;
    let level: number = ept.levels;
    let table = ept.rootMpa;
    let rbits = 7;
    let n = 0;
    // An entry with A clear: a successful walk would set it (the full walk's job), a failing one
    // sets nothing, so it only matters if the walk succeeds.
    let aClear = false;
    for (;;) {
      const span = level === 1 ? 4096 : level === 2 ? 0x200000 : level === 3 ? 0x40000000 : 2 ** (12 + 9 * (level - 1));
      const addr = table + (Math.floor(gpa / span) % 512) * 8;
      const lo = mem.read32(addr) >>> 0;
      const hi = mem.read32(addr + 4) >>> 0;
      out[n++] = lo;
      out[n++] = hi;
      const xwr = lo & 7;
      if (xwr === 0) {
        b.eptCount[k] = n >> 1;
        return VIOLATION;
      }
      // XWR 010 / 110 / 100: misconfigurations, which the full walk reports.
      if (xwr === 2 || xwr === 6 || xwr === 4) return FULL_WALK;
      rbits &= xwr;
      const leaf = level === 1 || ((level === 2 || level === 3) && (lo & 0x80) !== 0);
      const loMask = !leaf ? 0xf8 : level === 3 ? 0x3ffff000 : level === 2 ? 0x1ff000 : 0;
      if ((lo & loMask) !== 0 || (hi & hiRes) !== 0) return FULL_WALK;
      if (ad && (lo & EPT_A) === 0) aClear = true;
      if (!leaf) {
        table = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
        level--;
        continue;
      }
      const mt = (lo >>> 3) & 7;
      if (mt === 2 || mt === 3 || mt === 7) return FULL_WALK;
      if ((rbits & need) === 0) {
        b.eptCount[k] = n >> 1;
        return VIOLATION;
      }
      if (aClear || (ad && write && (lo & EPT_D) === 0)) return FULL_WALK;
      const loMaskT = level === 3 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
      b.eptCount[k] = n >> 1;
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
    this.adWrites = 0;
    this.exited = false;
    const guest = this.scratch.guest;
    const entryGpas = this.entryGpas;
    for (;;) {
      const entryGpa = table + (Math.floor(linear / 2 ** shift) % 512) * 8;
      if (entryGpa >= this.guestBytes) return false;
      const mpa = this.eptFast(entryGpa, tableNeed, ad, n);
      if (mpa < 0) return false;
      // The A/D write-back to this entry is a locked read-modify-write: it needs EPT write
      // permission on the table (with EPT A/D the read already asked for it, and D was set).
      const tableWritable = (this.rbits & EPT_W) !== 0;
      const lo = mem.read32(mpa) >>> 0;
      const hi = mem.read32(mpa + 4) >>> 0;
      guest[2 * n] = lo;
      guest[2 * n + 1] = hi;
      entryGpas[n] = entryGpa;
      n++;
      if ((lo & 1) === 0) return false;
      const leaf = level === 1 || ((level === 2 || level === 3) && (lo & 0x80) !== 0);
      const loMask = level >= 4 ? 0x80 : leaf && level === 3 ? 0x3fffe000 : leaf && level === 2 ? 0x1fe000 : 0;
      if ((lo & loMask) !== 0 || (hi & hiRes) !== 0) return false;
      w &&= (lo & 2) !== 0;
      u &&= (lo & 4) !== 0;
      if (ctx.nxe && (hi & 0x80000000) !== 0) x = false;
      if (!leaf) {
        // The walker sets a non-leaf A as it uses the entry: planned here, written once the
        // walk's outcome is known to be the full walk's (see writeAccessedDirty).
        if ((lo & 0x20) === 0 && !this.planWrite(tableWritable, mpa, lo | 0x20)) return false;
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
      const want = access === 1 ? 0x60 : 0x20;
      if ((lo & want) !== want && !this.planWrite(tableWritable, mpa, lo | want)) return false;
      // A written entry read again later in the walk (a table mapping itself) would be read
      // after its write: only the full walk orders that right.
      if (this.adWrites > 0 && repeats(entryGpas, n)) return false;
      const pageSize = 2 ** shift;
      const loMaskT = level === 3 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
      const gpa = (hi & hiMask) * TWO32 + ((lo & loMaskT) >>> 0) + (linear % pageSize);
      if (gpa >= this.guestBytes) return false;
      const mpaF = this.eptFast(gpa, NEED[access], access === 1, n);
      if (mpaF === VIOLATION) return this.violation(ctx, linear, access, user, ac, n, gpa, { user: u, write: w, executeDisable: !x });
      if (mpaF < 0) return false;
      // Success: from here on, the outcome is the full walk's.
      this.writeAccessedDirty();
      this.keep(ctx, linear, access, user, ac, n);
      this.failedFinal = null;
      const size = Math.min(pageSize, this.span);
      this.frameBase = mpaF - (gpa % size);
      this.pageSize = size;
      this.gpaBase = gpa - (gpa % size);
      this.write = w;
      this.user = u;
      this.execute = x && (this.rbits & EPT_X) !== 0;
      this.global = ctx.pge && (lo & 0x100) !== 0;
      this.guestDirty = ((lo | want) & 0x40) !== 0;
      this.writable = (this.rbits & EPT_W) !== 0 && this.dirty;
      this.counters.walks++;
      this.counters.walkReferences += n + this.references + this.adWrites;
      return true;
    }
  }

  /**
   * Plans the walker's A/D write to a guest entry (machine address, new low half); false when
   * the EPT would refuse it (an exit in the middle of the walk: the full walk raises it).
   */
  private planWrite(tableWritable: boolean, mpa: number, lo: number): boolean {
    if (!tableWritable) return false;
    this.adMpa[this.adWrites] = mpa;
    this.adLo[this.adWrites] = lo >>> 0;
    this.adWrites++;
    return true;
  }

  /**
   * The planned A/D writes, in walk order: what EptTranslator.writeAccessedDirty does for each
   * (its EPT walk, allowed and with nothing to set, has no effect but the write).
   */
  private writeAccessedDirty(): void {
    for (let i = 0; i < this.adWrites; i++) this.mem.write32(this.adMpa[i], this.adLo[i]);
    this.keptWrites = this.adWrites;
  }

  /** The attempt ended in a result: its entries become the ones materialize() replays. */
  private keep(ctx: WalkContext, linear: number, access: 0 | 1 | 2, user: boolean, ac: boolean, guestLevels: number): void {
    const b = this.kept;
    this.kept = this.scratch;
    this.scratch = b;
    this.guestLevels = guestLevels;
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
  }

  /**
   * The guest walk succeeded (its A/D writes planned) and the EPT denies its final gpa: what
   * EptTranslator.translateFinal does after the full walk — the real EPT walk, which faults
   * (reading the entries eptFast just read, writing nothing), and its exit, with the guest's
   * rights for the advanced exit information. Nothing is counted as a completed walk, as there.
   * The exit is left with the translator (not thrown: see SECOND_STAGE_EXIT); the MMU takes the
   * failed walk's record (materialize) as its last walk. false: let the full walk decide.
   */
  private violation(
    ctx: WalkContext, linear: number, access: 0 | 1 | 2, user: boolean, ac: boolean, guestLevels: number, gpa: number,
    guest: { user: boolean; write: boolean; executeDisable: boolean },
  ): boolean {
    const r = this.ept.walk(gpa, ACCESS[access], { purpose: 'final', setAccessedDirty: true, caches: null });
    // eptFast saw a violation in these same entries; if the walk disagrees, let the full walk decide.
    if (r.fault === null || r.fault.kind !== 'violation') return false;
    // The guest walk completed before the final translation failed: its A/D bits are set.
    this.writeAccessedDirty();
    this.keep(ctx, linear, access, user, ac, guestLevels);
    this.failedFinal = r.walk;
    this.counters.pendingExit = new EptExit(r.fault, { gpa, linear, final: true, access: ACCESS[access], readModifyWrite: false, guest }, r.walk);
    this.exited = true;
    return true;
  }

  materialize(): WalkRecord {
    const tableAccess: EptAccess = this.ept.accessedDirty ? 'write' : 'read';
    let reads = 0;
    let k = 0;
    const b = this.kept;
    const wrote = this.keptWrites > 0;
    const tm: TableMemory = {
      // The entries as read, before the walk's own A/D writes (which the walker records again).
      read32: () => b.guest[reads++],
      writeAccessedDirty: () => {
        if (!wrote) throw new Error('internal: a replayed walk without A/D writes made one');
      },
      takeSecondStage: (): SecondStageWalk | undefined => {
        const w = this.replay(k, tableAccess, 'table');
        k++;
        return w;
      },
    };
    const rec = walkPageTables(tm, this.ctx, this.linear, ACCESS[this.access], this.userAccess, { setAccessedDirty: wrote, ac: this.ac });
    // A violation's record holds the EPT walk its exit carries (the same object, as the full walk's).
    const final = this.failedFinal ?? this.replay(this.guestLevels, ACCESS[this.access], 'final');
    rec.finalSecondStage = final;
    rec.secondStageReferences = (rec.secondStageReferences ?? 0) + final.memoryReferences;
    rec.memoryReferences += final.memoryReferences;
    return rec;
  }

  private replay(k: number, access: EptAccess, purpose: SecondStageWalk['purpose']): SecondStageWalk {
    const b = this.kept;
    return this.ept.replayWalk(b.eptGpa[k], access, purpose, b.eptEntries[k].subarray(0, 2 * b.eptCount[k]));
  }
}
