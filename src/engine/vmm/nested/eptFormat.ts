// The EPT entry and EPTP formats (SDM vol. 3 §29.3.2, reference §2), bit-exact: what the
// processor reads in nested mode and what the UI shows. Entries are handled as two 32-bit
// halves (lo, hi) like the first-stage walker's, never as bigint on a walk.

export const EPT_R = 1 << 0;
export const EPT_W = 1 << 1;
export const EPT_X = 1 << 2;
export const EPT_XWR = 7;
/** Bits 5:3 of a leaf: memory type. */
export const EPT_MT_SHIFT = 3;
export const EPT_MT_MASK = 7 << EPT_MT_SHIFT;
export const EPT_IPAT = 1 << 6;
/** Bit 7 of a PDPTE / PDE: it maps a 1 GiB / 2 MiB page. */
export const EPT_LARGE = 1 << 7;
export const EPT_A = 1 << 8;
export const EPT_D = 1 << 9;
/** Bit 10: user-mode execute with mode-based execute control (not supported here: ignored). */
export const EPT_UX = 1 << 10;

export const MemoryType = { UC: 0, WC: 1, WT: 4, WP: 5, WB: 6 } as const;
const MEMORY_TYPE_NAMES: Record<number, string> = { 0: 'UC', 1: 'WC', 4: 'WT', 5: 'WP', 6: 'WB' };

export const EPT_LEVEL_NAMES: Record<number, string> = { 5: 'EPT PML5E', 4: 'EPT PML4E', 3: 'EPT PDPTE', 2: 'EPT PDE', 1: 'EPT PTE' };

/** Bytes mapped by one entry at `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB, ...). */
export function levelSpan(level: number): number {
  return LEVEL_SPANS[level];
}

const LEVEL_SPANS = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39, 2 ** 48];

export interface EptRights {
  read: boolean;
  write: boolean;
  execute: boolean;
}

export const RWX: EptRights = { read: true, write: true, execute: true };

export function rightsBits(r: EptRights): number {
  return (r.read ? EPT_R : 0) | (r.write ? EPT_W : 0) | (r.execute ? EPT_X : 0);
}

export function rightsOf(lo: number): EptRights {
  return { read: (lo & EPT_R) !== 0, write: (lo & EPT_W) !== 0, execute: (lo & EPT_X) !== 0 };
}

export function rightsText(r: EptRights): string {
  return `${r.read ? 'R' : '-'}${r.write ? 'W' : '-'}${r.execute ? 'X' : '-'}`;
}

/** An entry is present when any of R, W, X is set (SDM 29.3.2). */
export function eptPresent(lo: number): boolean {
  return (lo & EPT_XWR) !== 0;
}

/** Whether a present entry at `level` maps a page (PTE, or a PDE/PDPTE with bit 7). */
export function eptIsLeaf(level: number, lo: number): boolean {
  return level === 1 || ((level === 2 || level === 3) && (lo & EPT_LARGE) !== 0);
}

const TWO32 = 2 ** 32;

function hiAddressMask(maxPhyAddr: number): number {
  return maxPhyAddr >= 52 ? 0xfffff : (1 << (maxPhyAddr - 32)) - 1;
}

/** The machine address an entry points at (next table, or the page). */
export function eptTarget(level: number, lo: number, hi: number, maxPhyAddr: number): number {
  const leafLarge = eptIsLeaf(level, lo) && level > 1;
  const loMask = leafLarge ? (level === 2 ? 0xffe00000 : 0xc0000000) : 0xfffff000;
  return (hi & hiAddressMask(maxPhyAddr)) * TWO32 + ((lo & loMask) >>> 0);
}

function bits(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < 32; b++) if ((lo >>> b) & 1) out.push(b);
  for (let b = 0; b < 32; b++) if ((hi >>> b) & 1) out.push(b + 32);
  return out;
}

/**
 * Why a present entry is an EPT misconfiguration (SDM 29.3.3.1; KVM's bad_mt_xwr and
 * reserved masks), or null when it is well-formed:
 *  - XWR = 010 or 110 (writable but not readable); 100 (execute-only, which this processor
 *    does not support: IA32_VMX_EPT_VPID_CAP bit 0 = 0);
 *  - a reserved bit: 51:M anywhere; 7:3 in a PML5E/PML4E and in a PDPTE/PDE that references a
 *    table; 29:12 in a 1 GiB leaf; 20:12 in a 2 MiB leaf;
 *  - a leaf memory type of 2, 3 or 7.
 */
export function eptMisconfiguration(level: number, lo: number, hi: number, maxPhyAddr: number): string | null {
  const xwr = lo & EPT_XWR;
  if (xwr === 2 || xwr === 6) return `XWR=${xwr.toString(2).padStart(3, '0')}: writable but not readable`;
  if (xwr === 4) return 'XWR=100: execute-only, which this processor does not support';
  const leaf = eptIsLeaf(level, lo);
  let loMask = 0;
  if (!leaf) loMask = 0xf8; // bits 7:3 (bit 7 would be "large" where a table is referenced)
  else if (level === 3) loMask = 0x3ffff000;
  else if (level === 2) loMask = 0x1ff000;
  const reserved = bits(lo & loMask, hi & 0xfffff & ~hiAddressMask(maxPhyAddr));
  if (reserved.length) return `reserved bit${reserved.length > 1 ? 's' : ''} ${reserved.join(', ')} set`;
  if (leaf) {
    const mt = (lo & EPT_MT_MASK) >>> EPT_MT_SHIFT;
    if (mt === 2 || mt === 3 || mt === 7) return `memory type ${mt} is reserved`;
  }
  return null;
}

/** A leaf entry as the VMM writes it: rights, WB, ignore-PAT, bit 7 for a large page. */
export function makeLeaf(level: number, mpa: number, rights: EptRights): [number, number] {
  const lo = ((mpa % TWO32) | rightsBits(rights) | (MemoryType.WB << EPT_MT_SHIFT) | EPT_IPAT | (level > 1 ? EPT_LARGE : 0)) >>> 0;
  return [lo, Math.floor(mpa / TWO32)];
}

/** A non-leaf entry: full rights (the leaf restricts), no memory type (bits 7:3 are reserved). */
export function makeTable(mpa: number): [number, number] {
  return [((mpa % TWO32) | EPT_XWR) >>> 0, Math.floor(mpa / TWO32)];
}

/** EPTP: memory type WB (2:0), walk length − 1 (5:3), A/D enable (6), root table (51:12). */
export function makeEptp(rootMpa: number, levels: number, accessedDirty: boolean): bigint {
  return BigInt(rootMpa) | BigInt(MemoryType.WB) | (BigInt(levels - 1) << 3n) | (accessedDirty ? 1n << 6n : 0n);
}

/** An entry in words, Bochs-style: "EPT PDE 0x...: R W X WB IPAT A D". */
export function describeEptEntry(level: number, lo: number, hi: number): string {
  const flags: string[] = [];
  if (lo & EPT_R) flags.push('R');
  if (lo & EPT_W) flags.push('W');
  if (lo & EPT_X) flags.push('X');
  if (eptPresent(lo) && eptIsLeaf(level, lo)) {
    const mt = (lo & EPT_MT_MASK) >>> EPT_MT_SHIFT;
    flags.push(MEMORY_TYPE_NAMES[mt] ?? `MT${mt}`);
    if (lo & EPT_IPAT) flags.push('IPAT');
    if (level > 1) flags.push('LARGE');
  }
  if (lo & EPT_A) flags.push('A');
  if (lo & EPT_D) flags.push('D');
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return `${EPT_LEVEL_NAMES[level] ?? `EPT L${level}`} 0x${v.toString(16)}: ${flags.join(' ') || 'not present'}`;
}
