// Which paging format the control registers select, and the register bits that select it.
// The bit positions are the SDM's; they are repeated here (rather than imported from the CPU)
// so the MMU depends on nothing above it.

export type PagingMode = 'none' | '32bit' | 'pae' | '4level' | '5level';

export const CR0_WP = 1 << 16;
export const CR0_PG = 0x80000000;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const CR4_LA57 = 1 << 12;
export const CR4_PCIDE = 1 << 17;
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/**
 * x86 sets EFER.LMA itself when paging is turned on with LME=1, so a CPU that only keeps LME
 * still gets long-mode paging here.
 */
export function selectPagingMode(cr0: number, cr4: number, efer: number): PagingMode {
  if (!(cr0 & CR0_PG)) return 'none';
  if (efer & (EFER_LMA | EFER_LME)) return cr4 & CR4_LA57 ? '5level' : '4level';
  return cr4 & CR4_PAE ? 'pae' : '32bit';
}

/** Width of a linear address the walker consumes in this mode. */
export function linearBits(mode: PagingMode): number {
  return mode === '5level' ? 57 : mode === '4level' ? 48 : 32;
}

/** The 64-bit form of a linear address (sign-extended as CR2 and the UI show it). */
export function canonicalize(linear: number, mode: PagingMode): bigint {
  const v = BigInt(linear);
  if (mode === '4level') return BigInt.asUintN(64, BigInt.asIntN(48, v));
  if (mode === '5level') return BigInt.asUintN(64, BigInt.asIntN(57, v));
  return v;
}

/** PCID in use: CR3[11:0] only when CR4.PCIDE is set (which x86 allows only in long mode). */
export function currentPcid(cr3: number, cr4: number): number {
  return cr4 & CR4_PCIDE ? cr3 & 0xfff : 0;
}

/**
 * SDM 4.4.1: in PAE mode the PDPTE registers are reloaded by MOV CR0/CR4 that changes
 * CD, NW, PG, PAE, PGE, PSE or SMEP (MOV CR3 always reloads).
 */
export function pdpteReloadNeeded(oldCr0: number, newCr0: number, oldCr4: number, newCr4: number): boolean {
  const cr0Bits = (1 << 30) | (1 << 29) | CR0_PG;
  const cr4Bits = CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP;
  return ((oldCr0 ^ newCr0) & cr0Bits) !== 0 || ((oldCr4 ^ newCr4) & cr4Bits) !== 0;
}
