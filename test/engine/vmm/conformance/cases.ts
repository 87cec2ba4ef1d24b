// The access.c-style cases of the MMU conformance test, made runnable as guest programs. The
// generators are that test's own (test/engine/mmu/conformanceCases.ts), so the same seed yields
// the same flag/reserved-bit/control combinations. What a guest program needs on top — where
// the case's data page really is, which in-page offset it touches, how the kernel flushes — is
// drawn from a second, separate stream so the first stays the original's.
import type { Case } from '../../mmu/conformanceCases';
import { bit } from '../../mmu/testUtil';
export { generate32Bit, generate4Level } from '../../mmu/conformanceCases';
export type { Case } from '../../mmu/conformanceCases';
import { CASE_PD, CASE_PT, FETCH_OFFSET, LARGE_BASES, LARGE_FRAMES, POOL, POOL_PAGES, READ_OFFSETS, WRITE_OFFSETS } from './layout';

export interface GuestCase extends Case {
  /** Flush after writing the entries: INVLPG of the linear address, or a CR3 reload. */
  flush: 'invlpg' | 'cr3';
}

export type Generator = (r: () => number) => Case;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Replaces the address bits in [lo, 32) of an entry (the generators only draw addresses below 2^29). */
function withAddress(e: bigint, lo: number, address: number): bigint {
  const mask = ((1n << 32n) - 1n) & ~((1n << BigInt(lo)) - 1n);
  return (e & ~mask) | BigInt(address);
}

/**
 * Makes a case runnable inside one guest program, without changing what the reference model
 * decides (fault, error code, A/D): only address bits below 2^32 are rewritten, and those are
 * never reserved for the MAXPHYADDR values drawn (≥ 32); the flag bits, the reserved-bit
 * choices (4-level bits 13–20/36/51/63, 32-bit PSE-36 bits 13–21) and the controls stay.
 * - The data page (PTE frame, or the large page's base) moves to a tagged data page (layout.ts),
 *   so a read also proves the physical address; within a large page the linear address picks
 *   one of a few tagged frames (its bits 12–20/21 index no table then). A non-leaf PDE points at
 *   the kernel's case page table. A 32-bit 4 MiB page whose PSE-36 bits reach above 4 GiB keeps
 *   them: there is no memory there, reads see all ones and a fetch decodes 0xff as #UD, in
 *   every mode alike (the native bus, the shadow hole frame, nested's empty-bus emulation).
 * - The linear address avoids the kernel's own region (PML4 slot 0 in 4-level, the first
 *   16 MiB in 32-bit) by moving into the next slot up; its page offset is one the data page
 *   holds a tag at (reads), spare bytes (writes) or a `ret` (fetches).
 */
export function placeCase(c: Case, r: () => number): GuestCase {
  const is64 = c.format === '4level';
  let pde = c.pde;
  const pte = withAddress(c.pte, 12, POOL + Math.floor(r() * POOL_PAGES) * 4096);
  const large = (pde & bit(7)) !== 0n && (is64 || c.pse);
  const largeBytes = is64 ? 2 ** 21 : 2 ** 22;
  let linear = c.linear - (c.linear % 4096);
  if (large) {
    pde = withAddress(pde, is64 ? 21 : 22, pick(r, LARGE_BASES[c.format]));
    linear = linear - (linear % largeBytes) + pick(r, LARGE_FRAMES[c.format]) * 4096;
  } else pde = withAddress(pde, 12, CASE_PT);
  if (is64 && linear < 2 ** 39) linear += 2 ** 39;
  if (!is64 && linear < 2 ** 24) linear += 2 ** 24;
  linear += c.fetch ? FETCH_OFFSET : c.write ? pick(r, WRITE_OFFSETS) : pick(r, READ_OFFSETS);
  return { ...c, pde, pte, linear, flush: r() < 0.5 ? 'invlpg' : 'cr3' };
}

/** Entry addresses a case uses: the kernel PML4 and the case PDPT/PD/PT (4-level) or the PD and case PT (32-bit). */
export function entryAddresses(c: Case, roots: { pml4: number; pdpt: number; pd32: number }): { pml4e: number; pdpte: number; pde: number; pte: number } {
  if (c.format === '4level') {
    const idx = (s: number): number => Math.floor(c.linear / 2 ** s) % 512;
    return { pml4e: roots.pml4 + idx(39) * 8, pdpte: roots.pdpt + idx(30) * 8, pde: CASE_PD + idx(21) * 8, pte: CASE_PT + idx(12) * 8 };
  }
  return { pml4e: 0, pdpte: 0, pde: roots.pd32 + Math.floor(c.linear / 2 ** 22) * 4, pte: CASE_PT + (Math.floor(c.linear / 4096) % 1024) * 4 };
}
