// The page walker: one generic loop over the level geometry of each paging mode, producing a
// WalkRecord. It applies the SDM's rules (reserved bits, rights accumulation, SMEP/SMAP, A/D
// updates) and touches paging structures only through TableMemory.
import type { PagingMode } from './pagingMode';
import { canonicalize } from './pagingMode';
import { PF_ID, PF_P, PF_RSVD, PF_U, PF_W } from './pfErrorCode';
import type { TableMemory } from './tableMemory';
import { entryName, joinEntry } from './walkRecord';
import type { EntryFlags, LevelName, Rights, WalkAccess, WalkLevel, WalkRecord } from './walkRecord';

/** What the walker needs to know of the vCPU's state. */
export interface WalkContext {
  mode: PagingMode;
  /** CR3 without bit 63. */
  cr3: number;
  maxPhyAddr: number;
  wp: boolean;
  pse: boolean;
  pge: boolean;
  nxe: boolean;
  smep: boolean;
  smap: boolean;
  /** PAE PDPTE registers (low and high halves) and whether each was loaded. */
  pdpteLo: Uint32Array;
  pdpteHi: Uint32Array;
}

export interface WalkOptions {
  /** false: inspect without side effects (the debugger's probe). */
  setAccessedDirty: boolean;
  /** RFLAGS.AC, which lets supervisor data accesses to user pages pass SMAP. */
  ac?: boolean;
  /** An implicit supervisor access (IDT, GDT, TSS): SMAP applies whatever AC says. */
  implicit?: boolean;
}

interface LevelGeometry {
  name: LevelName;
  shift: number;
  bits: number;
}

const G = (name: LevelName, shift: number, bits: number): LevelGeometry => ({ name, shift, bits });
const GEOMETRY: Record<Exclude<PagingMode, 'none'>, LevelGeometry[]> = {
  '32bit': [G('PD', 22, 10), G('PT', 12, 10)],
  pae: [G('PDPT', 30, 2), G('PD', 21, 9), G('PT', 12, 9)],
  '4level': [G('PML4', 39, 9), G('PDPT', 30, 9), G('PD', 21, 9), G('PT', 12, 9)],
  '5level': [G('PML5', 48, 9), G('PML4', 39, 9), G('PDPT', 30, 9), G('PD', 21, 9), G('PT', 12, 9)],
};

const LEVEL_NUMBER: Record<LevelName, number> = { PML5: 5, PML4: 4, PDPT: 3, PD: 2, PT: 1 };
const TWO32 = 2 ** 32;
const A_BIT = 1 << 5;
const D_BIT = 1 << 6;
const PS_BIT = 1 << 7;

/** High-half mask of the address bits below MAXPHYADDR (bits M-1:32). */
function hiAddressMask(maxPhyAddr: number): number {
  return maxPhyAddr >= 52 ? 0xfffff : (1 << (maxPhyAddr - 32)) - 1;
}

/** Reserved bits of a PAE PDPTE (SDM table 4-8): 2:1, 8:5, 63:M. Checked when loaded. */
export function paePdpteReserved(lo: number, hi: number, maxPhyAddr: number): number[] {
  return bitsSet(lo & 0x1e6, hi & ~hiAddressMask(maxPhyAddr));
}

function bitsSet(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < 32; b++) if ((lo >>> b) & 1) out.push(b);
  for (let b = 0; b < 32; b++) if ((hi >>> b) & 1) out.push(b + 32);
  return out;
}

/** Reserved bits set in an entry at this position (SDM tables 4-4..4-20; reference §2). */
function reservedBitsOf(ctx: WalkContext, name: LevelName, leaf: boolean, lo: number, hi: number): number[] {
  const m = ctx.maxPhyAddr;
  if (ctx.mode === '32bit') {
    if (!(leaf && name === 'PD')) return [];
    // 4 MiB PDE: bits 20:13 hold PA bits 39:32 up to min(40, M); bit 21 and the rest reserved.
    const m32 = Math.min(40, m);
    return bitsSet(lo & (((1 << 22) - 1) & ~((1 << (m32 - 19)) - 1)), 0);
  }
  const xd = ctx.nxe ? 0 : 0x80000000;
  if (ctx.mode === 'pae') {
    if (name === 'PDPT') return paePdpteReserved(lo, hi, m);
    const loMask = leaf && name === 'PD' ? 0x1fe000 : 0;
    return bitsSet(lo & loMask, hi & ((0x7fffffff & ~hiAddressMask(m)) | xd));
  }
  let loMask = 0;
  if (name === 'PML4' || name === 'PML5') loMask = PS_BIT;
  else if (leaf && name === 'PDPT') loMask = 0x3fffe000;
  else if (leaf && name === 'PD') loMask = 0x1fe000;
  return bitsSet(lo & loMask, hi & ((0xfffff & ~hiAddressMask(m)) | xd));
}

function isLeaf(ctx: WalkContext, name: LevelName, lo: number): boolean {
  if (name === 'PT') return true;
  if (name === 'PD') return ctx.mode === '32bit' ? ctx.pse && (lo & PS_BIT) !== 0 : (lo & PS_BIT) !== 0;
  if (name === 'PDPT') return ctx.mode !== 'pae' && (lo & PS_BIT) !== 0;
  return false;
}

function flagsOf(ctx: WalkContext, name: LevelName, leaf: boolean, lo: number, hi: number): EntryFlags {
  const hasPs = name === 'PD' || (name === 'PDPT' && ctx.mode !== 'pae');
  return {
    p: (lo & 1) !== 0, rw: (lo & 2) !== 0, us: (lo & 4) !== 0, pwt: (lo & 8) !== 0, pcd: (lo & 16) !== 0,
    a: (lo & A_BIT) !== 0, d: (lo & D_BIT) !== 0,
    ps: hasPs && (lo & PS_BIT) !== 0,
    g: leaf && (lo & 0x100) !== 0,
    pat: leaf && (name === 'PT' ? (lo & PS_BIT) !== 0 : (lo & 0x1000) !== 0),
    xd: ctx.mode !== '32bit' && (hi & 0x80000000) !== 0,
  };
}

/** Physical address an entry points at (next table or page), for 8-byte and 4-byte formats. */
function entryTarget(ctx: WalkContext, name: LevelName, leaf: boolean, lo: number, hi: number): number {
  if (ctx.mode === '32bit') {
    if (leaf && name === 'PD') {
      // PSE-36: bits 20:13 are PA bits 39:32 (those at or above MAXPHYADDR are reserved).
      return ((lo & 0xffc00000) >>> 0) + ((lo >>> 13) & 0xff) * TWO32;
    }
    return (lo & 0xfffff000) >>> 0;
  }
  let loMask = 0xfffff000;
  if (leaf && name === 'PD') loMask = 0xffe00000;
  else if (leaf && name === 'PDPT') loMask = 0xc0000000;
  return (hi & hiAddressMask(ctx.maxPhyAddr)) * TWO32 + ((lo & loMask) >>> 0);
}

function rootTable(ctx: WalkContext): number {
  if (ctx.mode === '32bit') return (ctx.cr3 & 0xfffff000) >>> 0;
  if (ctx.mode === 'pae') return (ctx.cr3 & 0xffffffe0) >>> 0;
  const cr3 = ctx.cr3 % 2 ** ctx.maxPhyAddr;
  return cr3 - (cr3 % 4096);
}

function protectionReason(ctx: WalkContext, levels: WalkLevel[], rights: Rights, access: WalkAccess, user: boolean, ac: boolean, implicit: boolean): string | null {
  const first = (test: (l: WalkLevel) => boolean, field: string): string => {
    const l = levels.find(test);
    return l ? ` (${entryName(l.name)}.${field})` : '';
  };
  const usable = levels.filter((l) => !(ctx.mode === 'pae' && l.name === 'PDPT'));
  if (user && !rights.user) return `user access to supervisor page${first((l) => usable.includes(l) && !l.flags.us, 'U/S=0')}`;
  if (access === 'write' && !rights.write && (user || ctx.wp)) return `write to read-only page${first((l) => usable.includes(l) && !l.flags.rw, 'R/W=0')}`;
  if (access === 'fetch' && !rights.execute) return `instruction fetch from no-execute page${first((l) => l.flags.xd, 'XD=1')}`;
  if (access === 'fetch' && !user && rights.user && ctx.smep) return 'SMEP: supervisor fetch from user page';
  if (access !== 'fetch' && !user && rights.user && ctx.smap && (implicit || !ac)) {
    return implicit ? 'SMAP: implicit supervisor access to user page' : 'SMAP: supervisor data access to user page with RFLAGS.AC=0';
  }
  return null;
}

export function walkPageTables(tm: TableMemory, ctx: WalkContext, linear: number, access: WalkAccess, user: boolean, opts: WalkOptions): WalkRecord {
  const rec: WalkRecord = {
    linear: canonicalize(linear, ctx.mode), mode: ctx.mode, access, user, levels: [],
    memoryReferences: 0, entryReads: 0, adWrites: 0, ok: false,
  };
  if (ctx.mode === 'none') {
    return { ...rec, ok: true, physical: linear, pageSize: 4096, frameBase: linear - (linear % 4096), rights: { write: true, user: true, execute: true }, global: false, dirty: true };
  }
  const is32 = ctx.mode === '32bit';
  const idReported = ctx.smep || (ctx.nxe && !is32);
  const baseErr = (access === 'write' ? PF_W : 0) | (user ? PF_U : 0) | (access === 'fetch' && idReported ? PF_ID : 0);
  const fail = (errorCode: number, reason: string): WalkRecord => {
    rec.errorCode = errorCode;
    rec.reason = reason;
    rec.memoryReferences = rec.entryReads + rec.adWrites + (rec.secondStageReferences ?? 0);
    return rec;
  };
  const rights: Rights = { write: true, user: true, execute: true };
  let table = rootTable(ctx);
  for (const geo of GEOMETRY[ctx.mode]) {
    const index = Math.floor(linear / 2 ** geo.shift) % 2 ** geo.bits;
    const esize = is32 ? 4 : 8;
    const entryAddress = table + index * esize;
    const fromRegister = ctx.mode === 'pae' && geo.name === 'PDPT';
    let lo: number;
    let hi: number;
    if (fromRegister) {
      lo = ctx.pdpteLo[index];
      hi = ctx.pdpteHi[index];
      rec.pdpteFromRegister = true;
    } else {
      lo = tm.read32(entryAddress) >>> 0;
      hi = is32 ? 0 : tm.read32(entryAddress + 4) >>> 0;
      rec.entryReads++;
    }
    const present = (lo & 1) !== 0;
    const leaf = present && isLeaf(ctx, geo.name, lo);
    const reservedBits = present ? reservedBitsOf(ctx, geo.name, leaf, lo, hi) : [];
    if (present && reservedBits.length === 0 && !fromRegister) {
      rights.write &&= (lo & 2) !== 0;
      rights.user &&= (lo & 4) !== 0;
      if (ctx.nxe && !is32 && hi & 0x80000000) rights.execute = false;
    }
    const entry = joinEntry(lo, hi);
    const level: WalkLevel = {
      level: LEVEL_NUMBER[geo.name], name: geo.name, tableAddress: table, index, entryAddress,
      entry, entryAfter: entry, flags: flagsOf(ctx, geo.name, leaf, lo, hi), reservedBits, leaf,
      rightsSoFar: { ...rights }, accessedSet: false, dirtySet: false,
    };
    if (!fromRegister && tm.takeSecondStage) {
      // Nested paging: the EPT walk that translated this entry's gpa belongs to this level.
      const s2 = tm.takeSecondStage();
      if (s2) {
        level.secondStage = s2;
        rec.secondStageReferences = (rec.secondStageReferences ?? 0) + s2.memoryReferences;
      }
    }
    rec.levels.push(level);
    const name = entryName(geo.name);
    if (!present) return fail(baseErr, `${name} not present`);
    if (reservedBits.length) return fail(baseErr | PF_P | PF_RSVD, `reserved bit set in ${name} (bit${reservedBits.length > 1 ? 's' : ''} ${reservedBits.join(', ')})`);
    const target = entryTarget(ctx, geo.name, leaf, lo, hi);
    if (!leaf) {
      // Non-leaf A is set as the walk uses the entry, so it stays set even if a lower level
      // then faults (the reference's "PDE.A is set on a protection fault"). PAE PDPTEs have no A.
      if (opts.setAccessedDirty && !fromRegister && !(lo & A_BIT)) setBits(tm, rec, level, lo, hi, A_BIT);
      table = target;
      continue;
    }
    const reason = protectionReason(ctx, rec.levels, rights, access, user, opts.ac ?? false, opts.implicit ?? false);
    if (reason) return fail(baseErr | PF_P, reason);
    const want = A_BIT | (access === 'write' ? D_BIT : 0);
    if (opts.setAccessedDirty && (lo & want) !== want) setBits(tm, rec, level, lo, hi, want);
    const pageSize = 2 ** geo.shift;
    const offset = linear % pageSize;
    rec.ok = true;
    rec.pageSize = pageSize;
    rec.frameBase = target;
    rec.physical = target + offset;
    rec.rights = { ...rights };
    rec.global = ctx.pge && (lo & 0x100) !== 0;
    rec.dirty = ((opts.setAccessedDirty ? lo | want : lo) & D_BIT) !== 0;
    rec.memoryReferences = rec.entryReads + rec.adWrites + (rec.secondStageReferences ?? 0);
    return rec;
  }
  return fail(baseErr, 'internal: walk ended without a leaf');
}

function setBits(tm: TableMemory, rec: WalkRecord, level: WalkLevel, lo: number, hi: number, bits: number): void {
  const after = (lo | bits) >>> 0;
  tm.writeAccessedDirty(level.entryAddress, after);
  rec.adWrites++;
  level.entryAfter = joinEntry(after, hi);
  level.accessedSet = (bits & A_BIT) !== 0 && !(lo & A_BIT);
  level.dirtySet = (bits & D_BIT) !== 0 && !(lo & D_BIT);
}
