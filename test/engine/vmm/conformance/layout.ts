// Guest-physical layout of the conformance kernel (both paging formats), and the case record
// the host writes and the kernel fills in. Everything below DATA_START is identity-mapped by
// the kernel with supervisor pages (except the user stub and stack); the data region holds
// the pages cases map, each tagged so a read proves which physical page it reached.

export type Format = '4level' | '32bit';

export const GUEST_BYTES = 16 * 1024 * 1024;

/** Kernel variables: IDTR (limit, base), then the kernel rsp and resume point a fault returns to, and where a fault is recorded. */
export const IDTR = 0x1000;
export const KSAVE = 0x1010;
export const RESUME = 0x1018;
export const CURRES = 0x1020;
export const NCASES = 0x1028;
export const IDT = 0x2000;
export const KSTACK_TOP = 0x8000;
/** The stack a fault from CPL 3 switches to (MSR 0x40000100). */
export const RSP0_TOP = 0xa000;
export const USTUB = 0xc000;
export const USTACK = 0xd000;
export const USTACK_TOP = 0xe000;
export const KCODE = 0x10000;

/** 4-level: the kernel's PML4 (also every case's), its PDPT/PD/PT for the low 16 MiB, the case PDPT. 32-bit: the PD and four kernel PTs. */
export const PML4 = 0x100000;
export const KPDPT = 0x101000;
export const KPD = 0x102000;
export const KPT = 0x103000;
export const CASE_PDPT = 0x104000;
export const PD32 = 0x100000;
export const KPT32 = 0x101000; // four of them: 0x101000–0x104fff
/** The case page directory (4-level) and page table (both formats). */
export const CASE_PD = 0x105000;
export const CASE_PT = 0x106000;

/** Case records, CASE_BYTES each. */
export const CASES = 0x200000;
export const CASE_BYTES = 256;
export const MAX_CASES_PER_RUN = (0x400000 - CASES) / CASE_BYTES;

/**
 * The data pages cases map: POOL_PAGES 4 KiB frames for PTEs, and a few frames inside each
 * large-page base (a large-page case's linear address selects one of LARGE_FRAMES: bits 12–20
 * or 12–21 of the address only index the page table, which a large page does not use). Each has
 * tags at READ_OFFSETS and a `ret` at FETCH_OFFSET; few pages keep the audit cheap.
 */
export const POOL = 0x400000;
export const POOL_PAGES = 64;
export const READ_OFFSETS = [0x000, 0x008] as const;
export const WRITE_OFFSETS = [0x400, 0x408] as const;
export const FETCH_OFFSET = 0x800;
export const LARGE_BASES: Record<Format, readonly number[]> = {
  '4level': [0x600000, 0x800000, 0xa00000],
  '32bit': [0x800000],
};
export const LARGE_FRAMES: Record<Format, readonly number[]> = { '4level': [0, 1, 0x1ff], '32bit': [0, 1, 0x200, 0x3ff] };
/** Every tagged page. */
export function dataPages(): number[] {
  const pages = new Set<number>();
  for (let i = 0; i < POOL_PAGES; i++) pages.add(POOL + i * 4096);
  for (const f of ['4level', '32bit'] as const) for (const b of LARGE_BASES[f]) for (const k of LARGE_FRAMES[f]) pages.add(b + k * 4096);
  return [...pages].sort((a, b) => a - b);
}
/** The tag at guest-physical address a (a in the data region, at a read offset). */
export const TAG_XOR = 0x5a5a_0000_0000_0000n;
export const tagAt = (gpa: number): bigint => BigInt(gpa) ^ TAG_XOR;
/** What the kernel preloads rax with: a faulting read leaves it, a write stores it. */
export const SENTINEL = 0x0bad_c0de_0bad_c0den;

/** Case record fields (byte offsets). Inputs, written by the host: */
export const F = {
  flags: 0, cr0: 8, cr4: 16, efer: 24, linear: 32,
  pml4eAt: 40, pml4e: 48, pdpteAt: 56, pdpte: 64, pdeAt: 72, pde: 80, pteAt: 88, pte: 96,
  /** Outputs, written by the kernel: a fault block for the priming read and one for the access (vector | CS << 8, error code or -1, CR2, rip). */
  prime: 104, main: 136,
  value: 168, pdeAfter: 176, pteAfter: 184, pml4eAfter: 192, pdpteAfter: 200,
} as const;
/** flags: bits 1:0 the access (0 read, 1 write, 2 fetch), then: */
export const FLAG = { user: 4, twice: 8, ac: 16, cr3: 32 } as const;
/** The vector field before any fault: none. */
export const NO_FAULT = 0xff;
