// One VM's extended page tables, in machine memory, in the real EPT format: the second stage
// of translation (gpa → mpa). The processor side is walk() — what the MMU does on every
// guest-physical access it cannot serve from a cache, recorded as data. The VMM side is
// map/protect/unmap — the only writers of EPT entries (the guest never sees them).
import type { MachineMemory } from '../../machine/machineMemory';
import { PAGE_SIZE } from '../../memory/frame';
import type { SecondStageLevel, SecondStageWalk } from '../../mmu/walkRecord';
import { OutOfMachineMemory } from '../p2m';
import {
  EPT_A, EPT_D, EPT_LEVEL_NAMES, EPT_R, EPT_W, EPT_X, EPT_XWR, eptIsLeaf, eptMisconfiguration, eptPresent, eptTarget,
  levelSpan, makeEptp, makeLeaf, makeTable, rightsBits, rightsOf, rightsText,
} from './eptFormat';
import type { EptRights } from './eptFormat';
import type { EptWalkCaches } from './walkCaches';

export type EptAccess = 'read' | 'write' | 'fetch';

export type EptFault =
  | { kind: 'violation'; /** R/W/X ANDed over the entries read (qualification bits 3–5). */ rights: EptRights; reason: string }
  | { kind: 'misconfig'; level: number; entry: bigint; reason: string };

export interface EptWalkResult {
  walk: SecondStageWalk;
  fault: EptFault | null;
  /** The leaf's D bit after the walk (always true with EPT A/D off: nothing to track). */
  dirty: boolean;
}

export interface EptWalkOptions {
  purpose: SecondStageWalk['purpose'];
  /** false: a probe (debugger, audit): no A/D writes, no cache fills. */
  setAccessedDirty: boolean;
  caches?: EptWalkCaches | null;
}

export interface EptLeaf {
  /** Guest-physical base of the page the leaf maps. */
  gpa: number;
  level: number;
  entryAddress: number;
  lo: number;
  hi: number;
  mpa: number;
  pageSize: number;
}

const NEED: Record<EptAccess, number> = { read: EPT_R, write: EPT_W, fetch: EPT_X };

function join(lo: number, hi: number): bigint {
  // One BigInt conversion when the value is an exact double (no bits above 52 set): the common case.
  return hi < 0x200000 ? BigInt(hi * 4294967296 + (lo >>> 0)) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export class Ept {
  readonly rootMpa: number;
  private readonly tables = new Set<number>();

  constructor(
    private readonly machine: MachineMemory,
    readonly owner: number,
    readonly levels: 4 | 5,
    readonly accessedDirty: boolean,
    readonly maxPhyAddr: number,
  ) {
    this.rootMpa = this.newTable();
  }

  /** The EPT pointer the VMCS holds: WB, walk length, A/D enable, root. */
  get eptp(): bigint {
    return makeEptp(this.rootMpa, this.levels, this.accessedDirty);
  }

  /** Machine frame numbers of every EPT paging structure. */
  tableFrames(): number[] {
    return [...this.tables].sort((a, b) => a - b);
  }

  private newTable(): number {
    const mpn = this.machine.allocate(this.owner, 'ept');
    if (mpn === undefined) throw new OutOfMachineMemory(`machine memory exhausted building the EPT of VM ${this.owner}`);
    this.tables.add(mpn);
    return mpn * PAGE_SIZE;
  }

  /** While set, walk() reads these saved entry halves in order instead of memory (see replayWalk). */
  private replaySrc: Uint32Array | null = null;
  private replayPos = 0;

  /**
   * The record of a walk made earlier by the fast 2-D walk, rebuilt from the entries it read
   * (lo, hi pairs in walk order): exactly what walk() would have recorded then. Only walks that
   * needed no A/D write and no cache are replayed, so a side-effect-free walk is the same walk.
   */
  replayWalk(gpa: number, access: EptAccess, purpose: SecondStageWalk['purpose'], entries: Uint32Array): SecondStageWalk {
    this.replaySrc = entries;
    this.replayPos = 0;
    try {
      return this.walk(gpa, access, { purpose, setAccessedDirty: false, caches: null }).walk;
    } finally {
      this.replaySrc = null;
    }
  }

  private read(addr: number): [number, number] {
    const r = this.replaySrc;
    if (r !== null) {
      const i = this.replayPos;
      this.replayPos = i + 2;
      return [r[i], r[i + 1]];
    }
    const b = this.machine.bytes;
    return [b.read32(addr) >>> 0, b.read32(addr + 4) >>> 0];
  }

  private write(addr: number, lo: number, hi: number): void {
    const b = this.machine.bytes;
    b.write32(addr, lo >>> 0);
    b.write32(addr + 4, hi >>> 0);
  }

  /**
   * The processor's EPT walk for one guest-physical access. A non-present entry or a denied
   * access is a violation; a malformed present entry a misconfiguration (checked level by level
   * as the walk reaches it). With EPTP bit 6, a successful walk sets A in every entry it used
   * and D in the leaf on a write (KUT: non-leaf D stays 0).
   */
  walk(gpa: number, access: EptAccess, opts: EptWalkOptions): EptWalkResult {
    const rec: SecondStageWalk = { gpa, purpose: opts.purpose, levels: [], ok: false, memoryReferences: 0, entryReads: 0, adWrites: 0, cachedLevels: 0 };
    const caches = opts.caches ?? null;
    const need = NEED[access];
    let level: number = this.levels;
    let table = this.rootMpa;
    let rbits = EPT_XWR;
    if (caches !== null) {
      const hit = caches.lookupTranslation(gpa);
      if (hit !== undefined && (hit.rights & need) !== 0 && (access !== 'write' || hit.dirty || !this.accessedDirty)) {
        rec.ok = true;
        rec.cachedLevels = this.levels;
        rec.pageSize = hit.pageSize;
        rec.mpa = hit.frame + (gpa % PAGE_SIZE);
        rec.rights = rightsOf(hit.rights);
        return { walk: rec, fault: null, dirty: hit.dirty };
      }
      const t = caches.lookupTable(gpa);
      if (t !== undefined) {
        level = t.level;
        table = t.table;
        rbits = t.rights;
        rec.cachedLevels = this.levels - level;
      }
    }
    for (;;) {
      const span = levelSpan(level);
      const index = Math.floor(gpa / span) % 512;
      const addr = table + index * 8;
      const [lo, hi] = this.read(addr);
      rec.entryReads++;
      const entry = join(lo, hi);
      const name = EPT_LEVEL_NAMES[level];
      const lvl: SecondStageLevel = { level, name, tableAddress: table, index, entryAddress: addr, entry, entryAfter: entry, leaf: false };
      rec.levels.push(lvl);
      rbits &= lo & EPT_XWR;
      if (!eptPresent(lo)) return this.stop(rec, { kind: 'violation', rights: rightsOf(rbits), reason: `${name} not present` });
      const bad = eptMisconfiguration(level, lo, hi, this.maxPhyAddr);
      if (bad) return this.stop(rec, { kind: 'misconfig', level, entry, reason: `${name} 0x${entry.toString(16)}: ${bad}` });
      const leaf = eptIsLeaf(level, lo);
      lvl.leaf = leaf;
      const target = eptTarget(level, lo, hi, this.maxPhyAddr);
      if (!leaf) {
        if (caches !== null && opts.setAccessedDirty) caches.fillTable(gpa, level - 1, target, rbits);
        table = target;
        level--;
        continue;
      }
      if ((rbits & need) === 0) {
        return this.stop(rec, { kind: 'violation', rights: rightsOf(rbits), reason: `${access} denied: the EPT allows ${rightsText(rightsOf(rbits))} (${name})` });
      }
      let dirty = true;
      if (this.accessedDirty) {
        dirty = (lo & EPT_D) !== 0 || (access === 'write' && opts.setAccessedDirty);
        if (opts.setAccessedDirty) this.setAccessedDirty(rec, access === 'write');
      }
      rec.ok = true;
      rec.pageSize = span;
      rec.mpa = target + (gpa % span);
      rec.rights = rightsOf(rbits);
      rec.memoryReferences = rec.entryReads + rec.adWrites;
      if (caches !== null && opts.setAccessedDirty) caches.fillTranslation(gpa, rec.mpa - (gpa % PAGE_SIZE), span, rbits, dirty);
      return { walk: rec, fault: null, dirty };
    }
  }

  private stop(rec: SecondStageWalk, fault: EptFault): EptWalkResult {
    rec.outcome = fault.kind === 'violation' ? `EPT violation: ${fault.reason}` : `EPT misconfiguration: ${fault.reason}`;
    rec.memoryReferences = rec.entryReads + rec.adWrites;
    return { walk: rec, fault, dirty: false };
  }

  private setAccessedDirty(rec: SecondStageWalk, write: boolean): void {
    for (const l of rec.levels) {
      const lo = Number(l.entry & 0xffffffffn);
      const want = EPT_A | (l.leaf && write ? EPT_D : 0);
      if ((lo & want) === want) continue;
      const after = (lo | want) >>> 0;
      this.machine.bytes.write32(l.entryAddress, after);
      rec.adWrites++;
      l.entryAfter = (l.entry & ~0xffffffffn) | BigInt(after);
    }
  }

  /**
   * Maps [gpa, gpa + levelSpan(level)) to machine address mpa with these rights, building
   * missing tables. Throws if a larger page already covers gpa, or (for a large page) if a
   * table of smaller mappings is in the way: the VMM decides page sizes before mapping.
   */
  map(gpa: number, mpa: number, level: number, rights: EptRights): void {
    let table = this.rootMpa;
    for (let l = this.levels; l > level; l--) {
      const addr = table + (Math.floor(gpa / levelSpan(l)) % 512) * 8;
      const [lo, hi] = this.read(addr);
      if (!eptPresent(lo)) {
        const t = this.newTable();
        const [nlo, nhi] = makeTable(t);
        this.write(addr, nlo, nhi);
        table = t;
      } else if (eptIsLeaf(l, lo)) {
        throw new Error(`gpa 0x${gpa.toString(16)} is already mapped by a ${EPT_LEVEL_NAMES[l]} large page`);
      } else table = eptTarget(l, lo, hi, this.maxPhyAddr);
    }
    const addr = table + (Math.floor(gpa / levelSpan(level)) % 512) * 8;
    const [lo] = this.read(addr);
    if (eptPresent(lo) && !eptIsLeaf(level, lo)) throw new Error(`gpa 0x${gpa.toString(16)}: smaller mappings exist under this ${EPT_LEVEL_NAMES[level]}`);
    const [nlo, nhi] = makeLeaf(level, mpa, rights);
    this.write(addr, nlo, nhi);
  }

  /** The present leaf mapping gpa, read without side effects, or null. */
  leaf(gpa: number): EptLeaf | null {
    let table = this.rootMpa;
    for (let l: number = this.levels; l >= 1; l--) {
      const span = levelSpan(l);
      const addr = table + (Math.floor(gpa / span) % 512) * 8;
      const [lo, hi] = this.read(addr);
      if (!eptPresent(lo)) return null;
      const target = eptTarget(l, lo, hi, this.maxPhyAddr);
      if (eptIsLeaf(l, lo)) return { gpa: gpa - (gpa % span), level: l, entryAddress: addr, lo, hi, mpa: target, pageSize: span };
      table = target;
    }
    return null;
  }

  /**
   * The entry at `level` on gpa's path (machine address), or null when the path stops above
   * it. For the debugger and for tests that corrupt an entry on purpose.
   */
  entryAddress(gpa: number, level: number): number | null {
    let table = this.rootMpa;
    for (let l: number = this.levels; l >= level; l--) {
      const addr = table + (Math.floor(gpa / levelSpan(l)) % 512) * 8;
      if (l === level) return addr;
      const [lo, hi] = this.read(addr);
      if (!eptPresent(lo) || eptIsLeaf(l, lo)) return null;
      table = eptTarget(l, lo, hi, this.maxPhyAddr);
    }
    return null;
  }

  /**
   * Whether a leaf at `level` could be written for gpa now: no larger page covers it and no
   * entry (leaf or table of smaller mappings) sits at that level yet.
   */
  canMapAt(gpa: number, level: number): boolean {
    let table = this.rootMpa;
    for (let l: number = this.levels; l >= level; l--) {
      const addr = table + (Math.floor(gpa / levelSpan(l)) % 512) * 8;
      const [lo, hi] = this.read(addr);
      if (!eptPresent(lo)) return true;
      if (l === level || eptIsLeaf(l, lo)) return false;
      table = eptTarget(l, lo, hi, this.maxPhyAddr);
    }
    return false;
  }

  /**
   * Splits the large page mapping gpa down to 4 KiB pages with the same rights and A/D bits
   * (as KVM splits a huge page to write-protect one 4 KiB part of it). The caller must INVEPT.
   */
  splitToSmall(gpa: number): void {
    for (let l = this.leaf(gpa); l !== null && l.level > 1; l = this.leaf(gpa)) {
      const t = this.newTable();
      const child = l.level - 1;
      const keep = l.lo & (EPT_XWR | EPT_A | EPT_D);
      for (let i = 0; i < 512; i++) {
        const [clo, chi] = makeLeaf(child, l.mpa + i * levelSpan(child), rightsOf(keep));
        this.write(t + i * 8, (clo | (keep & (EPT_A | EPT_D))) >>> 0, chi);
      }
      const [tlo, thi] = makeTable(t);
      this.write(l.entryAddress, tlo, thi);
    }
  }

  /** Sets the R/W/X of the leaf mapping gpa; false when gpa is not mapped. The caller must INVEPT. */
  setRights(gpa: number, rights: EptRights): boolean {
    const l = this.leaf(gpa);
    if (!l) return false;
    this.write(l.entryAddress, ((l.lo & ~EPT_XWR) | rightsBits(rights)) >>> 0, l.hi);
    return true;
  }

  /** Removes the leaf mapping gpa (its tables stay); false when not mapped. The caller must INVEPT. */
  unmap(gpa: number): boolean {
    const l = this.leaf(gpa);
    if (!l) return false;
    this.write(l.entryAddress, 0, 0);
    return true;
  }

  /** Every present leaf, ascending by gpa. */
  leaves(): EptLeaf[] {
    const out: EptLeaf[] = [];
    this.visit((level, addr, lo, hi, gpa) => {
      if (eptIsLeaf(level, lo)) out.push({ gpa, level, entryAddress: addr, lo, hi, mpa: eptTarget(level, lo, hi, this.maxPhyAddr), pageSize: levelSpan(level) });
    });
    return out;
  }

  /**
   * Calls fn for every present entry (depth-first, ascending gpa), descending into the tables
   * of well-formed non-leaf entries only.
   */
  visit(fn: (level: number, entryAddress: number, lo: number, hi: number, gpaBase: number) => void): void {
    const walkTable = (table: number, level: number, base: number): void => {
      for (let i = 0; i < 512; i++) {
        const addr = table + i * 8;
        const [lo, hi] = this.read(addr);
        if (!eptPresent(lo)) continue;
        const gpa = base + i * levelSpan(level);
        fn(level, addr, lo, hi, gpa);
        if (!eptIsLeaf(level, lo) && eptMisconfiguration(level, lo, hi, this.maxPhyAddr) === null) walkTable(eptTarget(level, lo, hi, this.maxPhyAddr), level - 1, gpa);
      }
    };
    walkTable(this.rootMpa, this.levels, 0);
  }

  /** Releases every EPT table frame (VM destroyed). */
  releaseAll(): void {
    for (const mpn of this.tables) this.machine.release(mpn);
    this.tables.clear();
  }
}
