// The random operations of a generated guest. Each is a self-contained chunk of kernel code
// (so a shrinker can drop any of them): it names itself in CUROP, points RESUME at its own end
// (a fault anywhere in it is logged and resumes there), does its work, and appends a marker
// (op id, rax, rflags, cr3) to the log.
import type { Rng } from '../rng';
import {
  Bit, CODE_OFFSETS, CUROP, DATA_OFFSETS, KSAVE, LOG_ENTRY, LOGP, NX, PAGES_PER_SLOT, POOL, POOL_FRAMES, RESUME, SLOTS, USTACK, USTACK_TOP,
  LOG, PagingFormat, Tables, tablesOf, zeroRegion,
} from './layout';
import { ACCESS_KINDS, FETCH_KIND, isWriteKind } from './prologue';

const hex = (v: number | bigint): string => '0x' + v.toString(16);

export type OpKind = 'access' | 'pte' | 'pde' | 'upper' | 'cr3' | 'wp' | 'smep' | 'smap' | 'nxe' | 'ac' | 'invlpg' | 'reload';

export interface Op {
  id: number;
  kind: OpKind;
  /** One line saying what it does (for reproducers). */
  what: string;
  text: string;
  /**
   * It may leave a paging-structure write that no flush covers (an edit without INVLPG / CR3
   * reload, or a data write that may land in a page table through an alias): from here on a
   * VMM that resyncs only on flushes (shadow "unsync") may legitimately differ from native.
   */
  sloppy: boolean;
  /**
   * A flush-less write to a directory entry that maps (or mapped) a large page. A VMM may
   * cache a guest large page as 4 KiB pieces (shadow pages of 4 KiB, EPT pages smaller than
   * the guest's: SDM §4.10.2.3 lets a TLB do that), so a stale large translation may outlive
   * native's in part only: even the exact modes may differ from here on.
   */
  largeSloppy: boolean;
}

export interface GenState {
  format: PagingFormat;
  tables: Tables;
  /** Whether edits may skip their flush and the playground may alias page tables. */
  sloppy: boolean;
  /** Some playground PTE has pointed at a paging-structure page. */
  aliasPossible: boolean;
  /** The address space CR3 selects. */
  as: number;
  /** A few (slot, page) pairs most operations aim at, so translations get cached, edited and used again. */
  hot: [number, number][];
  /** The page the last edit aimed at: the next access likely uses it (stale or fresh?). */
  recent: [number, number] | null;
  /** What each directory's playground slots point at, as far as the generator wrote them ('large' for a large page). */
  dirSlots: Map<number, (number | 'large')[]>;
}

/** The directory holding address space `as`'s playground slots. */
function dirOf(st: GenState, as: number): number {
  return st.format === 'long4' ? st.tables.dirs[as === 1 ? 1 : 0] : st.tables.dirs[as];
}

/** A playground page: mostly a hot one. */
function pickPage(r: Rng, st: GenState): [number, number] {
  return r.int(5) !== 0 ? r.pick(st.hot) : [r.int(SLOTS), r.int(PAGES_PER_SLOT)];
}

/** Flags for a playground entry: usually a normal user page, sometimes restricted. */
function leafFlags(r: Rng, format: PagingFormat): bigint {
  let f = Bit.P | Bit.RW | Bit.US;
  if (r.int(8) === 0) f &= ~Bit.P;
  if (r.int(4) === 0) f &= ~Bit.RW;
  if (r.int(5) === 0) f &= ~Bit.US;
  if (r.int(3) === 0) f |= Bit.A;
  if (r.int(4) === 0) f |= Bit.D;
  let v = BigInt(f);
  if (format === 'long4' && r.int(5) === 0) v |= NX;
  return v;
}

function poolFrame(r: Rng, st: GenState): { frame: number; alias: boolean } {
  // An alias of a page table (writes through it edit the table behind the VMM's back). Only
  // tables that hold playground entries alone: 32-bit page directories also map the kernel.
  if (st.sloppy && r.int(8) === 0) return { frame: r.pick(st.format === 'long4' ? [...st.tables.leafTables, ...st.tables.dirs] : st.tables.leafTables), alias: true };
  if (r.int(12) === 0) return { frame: zeroRegion(st.format) + r.int(PAGES_PER_SLOT + 1) * 0x1000, alias: false };
  return { frame: POOL + r.int(POOL_FRAMES) * 0x1000, alias: false };
}

export function initialLeaves(r: Rng, st: GenState): [number, number, bigint][] {
  const out: [number, number, bigint][] = [];
  for (const t of st.tables.leafTables) {
    for (let p = 0; p < PAGES_PER_SLOT; p++) out.push([t, st.tables.pageIndex(p), BigInt(POOL + r.int(POOL_FRAMES) * 0x1000) | leafFlags(r, st.format)]);
  }
  return out;
}

/** Code that writes `value` to the entry at `addr`. */
function writeEntry(st: GenState, addr: number, value: bigint): string[] {
  if (st.tables.entryBytes === 4) return [`  mov eax, ${hex(value & 0xffffffffn)}`, `  mov dword [${hex(addr)}], eax`];
  return [`  mov rax, ${hex(value)}`, `  mov qword [${hex(addr)}], rax`];
}

function toggleBit(st: GenState, addr: number, bit: bigint): string[] {
  const size = st.tables.entryBytes === 4 ? 'dword' : 'qword';
  if (bit < 1n << 31n) return [`  xor ${size} [${hex(addr)}], ${hex(bit)}`];
  return [`  mov rax, ${hex(bit)}`, `  xor ${size} [${hex(addr)}], rax`];
}

/** INVLPG of every playground page an entry of this kind could map (or a CR3 reload); or, if sloppy, maybe nothing. */
function flushAfter(r: Rng, st: GenState, pages: number[], covering: 'pte' | 'pde' | 'upper'): { lines: string[]; covered: boolean; what: string } {
  const t = st.tables;
  const k = r.int(10);
  if (st.sloppy && k < 6) return { lines: [], covered: false, what: 'no flush' };
  if (st.sloppy && k === 6) {
    const g = t.gva(r.int(SLOTS), r.int(PAGES_PER_SLOT));
    return { lines: [`  mov rbx, ${hex(g)}`, '  invlpg [rbx]'], covered: false, what: `invlpg of an unrelated page ${hex(g)}` };
  }
  if (covering === 'upper' || k >= 8) return { lines: ['  mov rax, cr3', '  mov cr3, rax'], covered: true, what: 'CR3 reload' };
  const gvas: number[] = [];
  for (let s = 0; s < SLOTS; s++) for (const p of pages) gvas.push(t.gva(s, p));
  return { lines: gvas.flatMap((g) => [`  mov rbx, ${hex(g)}`, '  invlpg [rbx]']), covered: true, what: `invlpg ×${gvas.length}` };
}

const ALL_PAGES = Array.from({ length: PAGES_PER_SLOT + 1 }, (_, i) => i); // + the page a crossing access reaches

function accessOp(r: Rng, st: GenState): { lines: string[]; what: string; write: boolean } {
  const t = st.tables;
  const cpl = r.int(5) < 3 ? 0 : 3;
  let kind = r.int(ACCESS_KINDS.length);
  if (kind === FETCH_KIND && r.bool()) kind = r.int(ACCESS_KINDS.length); // fetches a bit rarer
  let gva: number;
  if (r.int(8) === 0) {
    // Outside the playground: a user access to a kernel page, a supervisor access to the user stack page.
    gva = cpl === 3 ? LOG + 0x800 + r.int(8) * 8 : USTACK + 0x800 + (kind === FETCH_KIND ? 0 : r.int(8) * 8);
  } else {
    const off = kind === FETCH_KIND ? r.pick(CODE_OFFSETS) : r.pick(DATA_OFFSETS);
    const [slot, page] = st.recent && r.int(3) !== 0 ? st.recent : pickPage(r, st);
    gva = t.gva(slot, page) + off;
  }
  const val = r.u32() | 0;
  const lines = [`  mov rbx, ${hex(gva)}`, `  mov rax, ${val}`];
  if (cpl === 0) lines.push(`  ${ACCESS_KINDS[kind][1]}`);
  else lines.push(`  mov ecx, ${kind}`, '  push 0x23', `  push ${hex(USTACK_TOP)}`, '  push 0x2', '  push 0x1b', '  push user_stub', '  iretq');
  return { lines, what: `CPL${cpl} ${ACCESS_KINDS[kind][0]} ${hex(gva)}`, write: isWriteKind(kind) };
}

/** One random operation's body (without the common head and marker). */
function body(r: Rng, st: GenState): { kind: OpKind; lines: string[]; what: string; sloppy: boolean; largeSloppy?: boolean } {
  const t = st.tables;
  const long = st.format === 'long4';
  const w = r.int(100);
  if (w < 55) {
    const a = accessOp(r, st);
    st.recent = null;
    return { kind: 'access', lines: a.lines, what: a.what, sloppy: a.write && st.aliasPossible };
  }
  if (w < 74) {
    // Mostly the entry that maps a hot page in the current address space.
    const [slot, p] = pickPage(r, st);
    const mapped = st.dirSlots.get(dirOf(st, st.as))?.[slot];
    const table = typeof mapped === 'number' && r.int(5) !== 0 ? mapped : r.pick(t.leafTables);
    st.recent = [slot, p];
    const addr = table + t.pageIndex(p) * t.entryBytes;
    let lines: string[];
    let what: string;
    const how = r.int(10);
    if (how < 4) {
      const { frame, alias } = poolFrame(r, st);
      st.aliasPossible ||= alias;
      const v = BigInt(frame) | leafFlags(r, st.format);
      lines = writeEntry(st, addr, v);
      what = `PTE ${hex(addr)} = ${hex(v)}`;
    } else if (how < 8) {
      const bits: [string, bigint][] = [['P', 1n], ['RW', 2n], ['US', 4n], ['A', 32n], ['D', 64n], ['PWT', 8n]];
      if (long) bits.push(['NX', NX], ['NX', NX]);
      const [name, bit] = r.pick(bits);
      lines = toggleBit(st, addr, bit);
      what = `PTE ${hex(addr)} ^= ${name}`;
    } else {
      const { frame, alias } = poolFrame(r, st);
      st.aliasPossible ||= alias;
      lines = t.entryBytes === 4
        ? [`  mov eax, dword [${hex(addr)}]`, '  and eax, 0xfff', `  or eax, ${hex(frame)}`, `  mov dword [${hex(addr)}], eax`]
        : [`  mov rax, qword [${hex(addr)}]`, '  mov rdx, 0xfff0000000000fff', '  and rax, rdx', `  or rax, ${hex(frame)}`, `  mov qword [${hex(addr)}], rax`];
      what = `PTE ${hex(addr)} frame = ${hex(frame)}`;
    }
    const f = flushAfter(r, st, [p], 'pte');
    if (!f.covered && r.bool()) {
      // A stale-translation probe: prime the TLB with a read, edit, read again (a TLB hit: the old mapping).
      const probe = [`  mov rbx, ${hex(t.gva(slot, p) + r.pick([0, 8, 0x100]))}`, '  mov rax, qword [rbx]'];
      return { kind: 'pte', lines: [...probe, ...lines, ...f.lines, ...probe], what: `read; ${what}; ${f.what}; read again`, sloppy: true };
    }
    return { kind: 'pte', lines: [...lines, ...f.lines], what: `${what}; ${f.what}`, sloppy: !f.covered };
  }
  if (w < 79 || (w < 82 && !long)) {
    const dir = r.int(3) !== 0 ? dirOf(st, st.as) : r.pick(t.dirs);
    const slot = r.int(3) !== 0 ? r.pick(st.hot)[0] : r.int(SLOTS);
    const slots = st.dirSlots.get(dir);
    const wasLarge = slots?.[slot] === 'large';
    st.recent = [slot, r.int(PAGES_PER_SLOT)];
    const addr = dir + t.slotIndex(slot) * t.entryBytes;
    const up = BigInt(Bit.P | Bit.RW | Bit.US);
    let lines: string[];
    let what: string;
    const how = r.int(10);
    if (how < 3) {
      const table = r.pick(t.leafTables);
      const v = BigInt(table) | up;
      if (slots) slots[slot] = table;
      lines = writeEntry(st, addr, v);
      what = `PDE ${hex(addr)} = table ${hex(v)}`;
    } else if (how < 6) {
      const base = r.bool() ? POOL : zeroRegion(st.format);
      const v = BigInt(base) | BigInt(Bit.PS) | leafFlags(r, st.format);
      if (slots) slots[slot] = 'large';
      lines = writeEntry(st, addr, v);
      what = `PDE ${hex(addr)} = large ${hex(v)}`;
    } else {
      const bits: [string, bigint][] = [['P', 1n], ['RW', 2n], ['US', 4n], ['A', 32n], ['PS', 128n]];
      if (long) bits.push(['NX', NX]);
      const [name, bit] = r.pick(bits);
      if (name === 'PS' && slots) slots[slot] = 'large'; // either way, a large page is involved from now on
      lines = toggleBit(st, addr, bit);
      what = `PDE ${hex(addr)} ^= ${name}`;
    }
    const f = flushAfter(r, st, ALL_PAGES, 'pde');
    const large = wasLarge || slots?.[slot] === 'large';
    return { kind: 'pde', lines: [...lines, ...f.lines], what: `${what}; ${f.what}`, sloppy: !f.covered, largeSloppy: !f.covered && large };
  }
  if (w < 82) {
    const [table, index] = r.pick(t.upper);
    const addr = table + index * 8;
    const [name, bit] = r.pick<[string, bigint]>([['P', 1n], ['RW', 2n], ['US', 4n], ['A', 32n], ['NX', NX], ['PS', 128n]]);
    const f = flushAfter(r, st, ALL_PAGES, 'upper');
    return { kind: 'upper', lines: [...toggleBit(st, addr, bit), ...f.lines], what: `upper ${hex(addr)} ^= ${name}; ${f.what}`, sloppy: !f.covered };
  }
  if (w < 86) {
    const i = r.int(t.roots.length);
    st.as = i;
    return { kind: 'cr3', lines: [`  mov eax, ${hex(t.roots[i])}`, '  mov cr3, rax'], what: `CR3 = address space ${i}`, sloppy: false };
  }
  if (w < 94) {
    const choices: OpKind[] = long ? ['wp', 'wp', 'smep', 'smap', 'nxe', 'nxe', 'ac', 'ac'] : ['wp', 'wp', 'smep', 'smap', 'ac', 'ac'];
    const c = r.pick(choices);
    switch (c) {
      case 'wp': return { kind: c, lines: ['  mov rax, cr0', '  xor rax, 0x10000', '  mov cr0, rax'], what: 'toggle CR0.WP', sloppy: false };
      case 'smep': return { kind: c, lines: ['  mov rax, cr4', '  xor rax, 0x100000', '  mov cr4, rax'], what: 'toggle CR4.SMEP', sloppy: false };
      case 'smap': return { kind: c, lines: ['  mov rax, cr4', '  xor rax, 0x200000', '  mov cr4, rax'], what: 'toggle CR4.SMAP', sloppy: false };
      case 'nxe': {
        // EFER writes do not flush the TLB: entries cached under the old NXE stay usable, so
        // without a CR3 reload what follows depends on how long translations stay cached.
        const reload = !st.sloppy || r.bool();
        const lines = ['  mov ecx, 0xc0000080', '  rdmsr', '  xor eax, 0x800', '  wrmsr', ...(reload ? ['  mov rax, cr3', '  mov cr3, rax'] : [])];
        return { kind: c, lines, what: `toggle EFER.NXE${reload ? '; CR3 reload' : ''}`, sloppy: !reload };
      }
      default: {
        const set = r.bool();
        return { kind: 'ac', lines: [set ? '  stac' : '  clac'], what: set ? 'stac' : 'clac', sloppy: false };
      }
    }
  }
  if (r.bool()) {
    const g = t.gva(r.int(SLOTS), r.int(PAGES_PER_SLOT + 1));
    return { kind: 'invlpg', lines: [`  mov rbx, ${hex(g)}`, '  invlpg [rbx]'], what: `invlpg ${hex(g)}`, sloppy: false };
  }
  return { kind: 'reload', lines: ['  mov rax, cr3', '  mov cr3, rax'], what: 'CR3 reload', sloppy: false };
}

export function generateOp(r: Rng, st: GenState, id: number): Op {
  const b = body(r, st);
  const done = `op_${id}_done`;
  const text = [
    `; op ${id}: ${b.what}${b.largeSloppy ? ' [sloppy, large page]' : b.sloppy ? ' [sloppy]' : ''}`,
    `  mov qword [${hex(CUROP)}], ${id}`,
    `  mov qword [${hex(RESUME)}], ${done}`,
    `  mov [${hex(KSAVE)}], rsp`,
    ...b.lines,
    `${done}:`,
    `  mov r8, [${hex(LOGP)}]`,
    `  mov qword [r8], ${hex((id << 16) | 0xff)}`,
    '  mov [r8 + 8], rax',
    '  pushfq',
    '  pop r9',
    '  mov [r8 + 16], r9',
    '  mov r9, cr3',
    '  mov [r8 + 24], r9',
    `  add qword [${hex(LOGP)}], ${LOG_ENTRY}`,
  ].join('\n');
  return { id, kind: b.kind, what: b.what, text, sloppy: b.sloppy, largeSloppy: b.largeSloppy ?? false };
}

export function newState(format: PagingFormat, sloppy: boolean, r: Rng): GenState {
  const tables = tablesOf(format);
  const [l0, l1, l2] = tables.leafTables;
  const dirSlots = new Map<number, (number | 'large')[]>();
  if (format === 'long4') {
    dirSlots.set(tables.dirs[0], [l0, l1]);
    dirSlots.set(tables.dirs[1], [l2, l0]);
  } else {
    dirSlots.set(tables.dirs[0], [l0, l1]);
    dirSlots.set(tables.dirs[1], [l2, l0]);
    dirSlots.set(tables.dirs[2], [l1, l2]);
  }
  const hot: [number, number][] = [];
  for (let i = 0; i < 2; i++) hot.push([r.int(SLOTS), r.int(PAGES_PER_SLOT)]);
  return { format, tables, sloppy, aliasPossible: false, as: 0, hot, dirSlots, recent: null };
}
