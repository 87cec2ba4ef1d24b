// A seeded generator of guest programs that exercise what memory virtualization can get wrong:
// page-table edits with and without flushes, accesses of every kind at CPL 0 and 3, CR3
// switches, CR0.WP / CR4.SMEP / SMAP / EFER.NXE toggles, large pages, 4-level and 32-bit
// paging. A program is a fixed prologue, a list of independent operations and an epilogue, so
// a shrinker can drop operations and still have a valid program.
import { rng } from '../rng';
import { PagingFormat, POOL, POOL_FRAMES, PAGES_PER_SLOT, tablesOf, zeroRegion, IDTR, USTACK } from './layout';
import { generateOp, initialLeaves, newState, Op } from './ops';
import { epilogue, prologue } from './prologue';

export interface GeneratedProgram {
  seed: number;
  format: PagingFormat;
  /** Edits may skip their flush (the program may read stale translations). */
  sloppy: boolean;
  /**
   * Some playground page maps a page table, so data writes may rewrite paging entries with
   * arbitrary values (rarely, even map kernel pages writable): the run may not reach its end.
   */
  aliasing: boolean;
  head: string;
  ops: Op[];
  tail: string;
}

export interface GenerateOptions {
  format?: PagingFormat;
  sloppy?: boolean;
  /** Number of operations (default 16–50). */
  ops?: number;
}

export function generateProgram(seed: number, o: GenerateOptions = {}): GeneratedProgram {
  const r = rng(seed * 2654435761 + 17);
  const format = o.format ?? (r.bool() ? 'long4' : 'legacy32');
  const sloppy = o.sloppy ?? r.bool();
  const st = newState(format, sloppy, r);
  const head = prologue(format, {
    leaves: initialLeaves(r, st),
    wp: r.int(4) !== 0,
    nxe: format === 'long4' && r.int(4) !== 0,
    smep: r.int(4) === 0,
    smap: r.int(8) === 0,
  });
  const n = o.ops ?? 16 + r.int(35);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) ops.push(generateOp(r, st, i));
  return { seed, format, sloppy, aliasing: st.aliasPossible, head, ops, tail: epilogue() };
}

/** The program's source with only `ops` (default: all of them). */
export function renderProgram(p: GeneratedProgram, ops: readonly Op[] = p.ops): string {
  return [p.head, ...ops.map((o) => o.text), p.tail, ''].join('\n');
}

/** Id of the first operation that may leave a flush-less paging-structure write, or -1. */
export function firstSloppyOp(ops: readonly Op[]): number {
  const i = ops.findIndex((o) => o.sloppy);
  return i < 0 ? -1 : ops[i].id;
}

/** Id of the first flush-less write involving a large page (see Op.largeSloppy), or -1. */
export function firstLargeSloppyOp(ops: readonly Op[]): number {
  const i = ops.findIndex((o) => o.largeSloppy);
  return i < 0 ? -1 : ops[i].id;
}

/** Guest-physical pages whose contents are part of the guest-visible trace. */
export function digestPages(format: PagingFormat): number[] {
  const pages = [IDTR & ~0xfff, USTACK, ...tablesOf(format).all];
  for (let k = 0; k < POOL_FRAMES; k++) pages.push(POOL + k * 0x1000);
  for (let k = 0; k <= PAGES_PER_SLOT; k++) pages.push(zeroRegion(format) + k * 0x1000);
  return pages;
}
