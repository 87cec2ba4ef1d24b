// Where everything lives in a generated guest's physical memory, and the two paging formats
// it can run under. Kernel structures sit in an identity-mapped low region the generator never
// edits; everything the random operations touch lives in a "playground" of virtual pages whose
// paging structures (and only those) are edited.

export type PagingFormat = 'long4' | 'legacy32';

/** Kernel variables (one page, identity-mapped, supervisor). */
export const IDTR = 0x1000;
export const LOGP = 0x1100; // next free log entry
export const RESUME = 0x1108; // where a fault (or the user stub's int 0x80) resumes the kernel flow
export const KSAVE = 0x1110; // the kernel rsp to resume with
export const CUROP = 0x1118; // the operation running now (tags fault-log entries)
export const IDT = 0x2000;
export const LOG = 0x4000;
export const LOG_BYTES = 0x4000;
export const LOG_ENTRY = 32;
export const KSTACK_TOP = 0x9000;
export const RSP0_TOP = 0xa000; // the stack a fault from CPL 3 switches to
export const USTUB = 0xc000; // user code page (U=1, read-only)
export const USTACK = 0xd000; // user stack page (U=1, writable)
export const USTACK_TOP = 0xe000;
export const KCODE = 0x10000;

/** Frames of pool data the playground maps (and a 2 MiB / 4 MiB aligned large-page region). */
export const POOL = 0x400000;
export const POOL_FRAMES = 12;
/** A second large-page target whose pages start zero (backed lazily in the VMM's modes). */
export function zeroRegion(f: PagingFormat): number {
  return f === 'long4' ? 0x600000 : 0x800000;
}
/** Offsets inside a pool frame that hold a `ret` (fetch targets); data accesses never touch them. */
export const CODE_OFFSETS = [0x800, 0xf00] as const;
/** Data offsets: aligned, odd, near the end, and page-crossing ones (which touch the next page's first bytes). */
export const DATA_OFFSETS = [0x000, 0x008, 0x100, 0x7f0, 0x7f3, 0xff8, 0xffc, 0xffe, 0xff9] as const;

/** Playground virtual pages per directory slot, and the directory slots used. */
export const PAGES_PER_SLOT = 8;
export const SLOTS = 2;

export interface Tables {
  /** The root of each address space (what CR3 holds). */
  roots: number[];
  /** Leaf tables the playground uses (edited by PTE operations). */
  leafTables: number[];
  /** Directories holding the playground's slots, per address space (edited by PDE operations). */
  dirs: number[];
  /** The index in a directory of playground slot s. */
  slotIndex: (s: number) => number;
  /** Upper-level entries on the playground's path (4-level only): [table, index]. */
  upper: [number, number][];
  /** Every paging-structure page (the memory digest covers them). */
  all: number[];
  /** Bytes per entry. */
  entryBytes: 4 | 8;
  /** Size of a large page. */
  largeBytes: number;
  /** gva of playground slot s, page p. */
  gva: (slot: number, page: number) => number;
  /** Entry index of playground page p in its leaf table. */
  pageIndex: (p: number) => number;
}

const T = (i: number): number => 0x100000 + i * 0x1000;

/**
 * 4-level: PML4s T0..T2 (three address spaces; the third shares the first one's playground
 * subtree), kernel PDPT/PD/PT T3..T5, playground PDPTs T6 T7, PDs T8 T9, leaf tables T10..T12.
 * 32-bit: page directories T0..T2, kernel PT T5, leaf tables T10..T12.
 */
export function tablesOf(f: PagingFormat): Tables {
  if (f === 'long4') {
    return {
      roots: [T(0), T(1), T(2)],
      leafTables: [T(10), T(11), T(12)],
      dirs: [T(8), T(9)],
      slotIndex: (s) => s,
      upper: [[T(0), 1], [T(1), 1], [T(6), 0], [T(7), 0]],
      all: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(T),
      entryBytes: 8,
      largeBytes: 0x200000,
      gva: (s, p) => 0x80_0000_0000 + s * 0x200000 + p * 0x1000,
      pageIndex: (p) => p,
    };
  }
  return {
    roots: [T(0), T(1), T(2)],
    leafTables: [T(10), T(11), T(12)],
    dirs: [T(0), T(1), T(2)],
    slotIndex: (s) => 256 + s,
    upper: [],
    all: [0, 1, 2, 5, 10, 11, 12].map(T),
    entryBytes: 4,
    largeBytes: 0x400000,
    gva: (s, p) => 0x4000_0000 + s * 0x400000 + p * 0x1000,
    pageIndex: (p) => p,
  };
}

/** The kernel's identity-mapped leaf table. */
export const KPT = T(5);

export const Bit = { P: 1, RW: 2, US: 4, PWT: 8, PCD: 16, A: 32, D: 64, PS: 128, G: 256 } as const;
export const NX = 1n << 63n;
