// The access.c-style cases of the MMU conformance test (test/engine/mmu/conformance.test.ts),
// made runnable as guest programs. The two generators below are that test's, draw for draw (a
// test file cannot be imported without registering its suite again), so the same seed yields
// the same flag/reserved-bit/control combinations. What a guest program needs on top — where
// the case's data page really is, which in-page offset it touches, how the kernel flushes — is
// drawn from a second, separate stream so the first stays the original's.
import type { ModelInput } from '../../mmu/referenceModel';
import { bit } from '../../mmu/testUtil';
import { CASE_PD, CASE_PT, FETCH_OFFSET, LARGE_BASES, LARGE_FRAMES, POOL, POOL_PAGES, READ_OFFSETS, WRITE_OFFSETS } from './layout';

export interface Case extends ModelInput {
  linear: number;
  twice: boolean;
}

/** A case as the guest runs it: the original plus the harness's choices. */
export interface GuestCase extends Case {
  /** Flush after writing the entries: INVLPG of the linear address, or a CR3 reload. */
  flush: 'invlpg' | 'cr3';
}

export type Generator = (r: () => number) => Case;

function flagBits(r: () => number, pP: number, names: [number, number][]): bigint {
  let e = 0n;
  for (const [b, p] of names) if (r() < (b === 0 ? pP : p)) e |= bit(b);
  return e;
}

export function generate4Level(r: () => number): Case {
  const maxPhyAddr = [36, 40, 52][Math.floor(r() * 3)];
  const rsvd = (b: number): number => (b >= maxPhyAddr && b <= 51 ? 0.12 : 0);
  const ps = r() < 0.35;
  let pde = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5], [63, 0.2], [51, rsvd(51)], [36, rsvd(36)]]);
  if (ps) {
    pde |= bit(7) | (r() < 0.1 ? bit(13 + Math.floor(r() * 8)) : 0n) | (BigInt(1 + Math.floor(r() * 255)) << 21n);
  } else pde |= 0x3000n;
  let pte = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5], [63, 0.2], [51, rsvd(51)], [36, rsvd(36)]]);
  pte |= BigInt(0x10 + Math.floor(r() * 0xfff0)) << 12n;
  const fetch = r() < 0.3;
  const linear = Math.floor(r() * 2 ** 47);
  return {
    format: '4level', pse: true, maxPhyAddr, pde, pte, pdpteReadOnly: r() < 0.2,
    user: r() < 0.5, write: !fetch && r() < 0.5, fetch, nxe: r() < 0.6, wp: r() < 0.5,
    smep: r() < 0.3, smap: r() < 0.3, ac: r() < 0.5, linear, twice: r() < 0.3,
  };
}

export function generate32Bit(r: () => number): Case {
  const maxPhyAddr = [32, 36, 40, 52][Math.floor(r() * 4)];
  const pse = r() < 0.7;
  const ps = r() < 0.4;
  let pde = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5]]);
  if (ps && pse) pde |= bit(7) | (BigInt(Math.floor(r() * 1024)) << 22n) | (r() < 0.5 ? BigInt(Math.floor(r() * 512)) << 13n : 0n);
  else pde |= 0x2000n | (ps ? bit(7) : 0n);
  let pte = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5]]);
  pte |= BigInt(0x10 + Math.floor(r() * 0xffff0)) << 12n;
  const fetch = r() < 0.3;
  return {
    format: '32bit', pse, maxPhyAddr, pde, pte, pdpteReadOnly: false,
    user: r() < 0.5, write: !fetch && r() < 0.5, fetch, nxe: r() < 0.5, wp: r() < 0.5,
    smep: r() < 0.3, smap: r() < 0.3, ac: r() < 0.5, linear: Math.floor(r() * 2 ** 32), twice: r() < 0.3,
  };
}

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
