// Shadow page-table entries in real x86 format. The shadow tables use the guest's own paging
// format (32-bit guest → 4-byte entries, PAE / 4-level / 5-level → 8-byte entries), so the
// hardware walker reads them exactly as it would read native tables.
import type { PagingMode } from '../../mmu/pagingMode';

export const SPTE_P = 1;
export const SPTE_W = 2;
export const SPTE_U = 4;
export const SPTE_A = 1 << 5;
export const SPTE_D = 1 << 6;
export const SPTE_G = 1 << 8;
/** XD lives in bit 63: bit 31 of the high half. */
export const SPTE_XD_HI = 0x80000000;

/** Rights bits of a role or an access: W, U, X (as the walker's Rights). */
export const ACC_W = 1;
export const ACC_U = 2;
export const ACC_X = 4;
export const ACC_ALL = ACC_W | ACC_U | ACC_X;

/** A guest translation's own rights and D bit (what a native TLB entry would cache). */
export const GV_W = 1;
export const GV_U = 2;
export const GV_X = 4;
export const GV_D = 8;

export interface ShadowFormat {
  mode: Exclude<PagingMode, 'none'>;
  /** Bytes per entry: 4 (32-bit) or 8. */
  entrySize: 4 | 8;
  /** Entries per table (1024 or 512; the PAE root uses 4 of its frame). */
  entries: number;
  /** Bits of the linear address each level consumes below the top. */
  bitsPerLevel: number;
  /** Level number of the root table (2 for 32-bit, 3 for PAE, 4, 5). */
  rootLevel: number;
  /** XD is available (8-byte entries and EFER.NXE). */
  xd: boolean;
}

export function shadowFormat(mode: Exclude<PagingMode, 'none'>, nxe: boolean): ShadowFormat {
  const wide = mode !== '32bit';
  return {
    mode,
    entrySize: wide ? 8 : 4,
    entries: wide ? 512 : 1024,
    bitsPerLevel: wide ? 9 : 10,
    rootLevel: mode === '32bit' ? 2 : mode === 'pae' ? 3 : mode === '4level' ? 4 : 5,
    xd: wide && nxe,
  };
}

/** Linear bit where the index of a table at `level` starts (level 1 = PT). */
export function levelShift(f: ShadowFormat, level: number): number {
  return 12 + f.bitsPerLevel * (level - 1);
}

/** Index into a table at `level` for a linear address. */
export function levelIndex(f: ShadowFormat, level: number, linear: number): number {
  const bits = f.mode === 'pae' && level === 3 ? 2 : f.bitsPerLevel;
  return Math.floor(linear / 2 ** levelShift(f, level)) % 2 ** bits;
}

/**
 * The machine page every guest-physical page outside the VM's memory maps to: above machine
 * memory, so reads see all ones and writes vanish, as on the native bus. Within the format's
 * address width (a 32-bit PTE holds 32 address bits).
 */
export function holeAddress(f: ShadowFormat, maxPhyAddr: number): number {
  return f.entrySize === 4 ? 0xfffff000 : 2 ** maxPhyAddr - 4096;
}
