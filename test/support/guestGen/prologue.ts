// The fixed part of a generated guest: kernel data (IDT, variables, page tables, pool frames)
// emitted as assembler data so it costs no instructions, the fault handlers that log
// (vector, error code, CR2, rip) and resume the kernel flow, the user stub, and the few
// instructions that turn paging on.
import {
  Bit, CODE_OFFSETS, CUROP, IDT, IDTR, KCODE, KPT, KSAVE, KSTACK_TOP, LOG, LOG_ENTRY, LOGP, POOL, POOL_FRAMES, RESUME, RSP0_TOP,
  USTACK, USTUB, PagingFormat, tablesOf,
} from './layout';

const hex = (v: number | bigint): string => '0x' + v.toString(16);
const WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17, 21]);
export const USER_VECTOR = 0x80;

/** Access kinds the user stub (and the kernel flow) can perform: [name, instruction]. */
export const ACCESS_KINDS: readonly (readonly [string, string])[] = [
  ['read1', 'mov al, byte [rbx]'],
  ['read4', 'mov eax, dword [rbx]'],
  ['read8', 'mov rax, qword [rbx]'],
  ['write1', 'mov byte [rbx], al'],
  ['write4', 'mov dword [rbx], eax'],
  ['write8', 'mov qword [rbx], rax'],
  ['rmw8', 'add qword [rbx], rax'],
  ['rmw4', 'xor dword [rbx], eax'],
  ['rmw1', 'inc byte [rbx]'],
  ['fetch', 'call rbx'],
];
export const FETCH_KIND = ACCESS_KINDS.findIndex((k) => k[0] === 'fetch');
export const isWriteKind = (k: number): boolean => /^(write|rmw)/.test(ACCESS_KINDS[k][0]);

export interface InitialState {
  /** Leaf entries of each playground leaf table: [table, index, value]. */
  leaves: [number, number, bigint][];
  wp: boolean;
  nxe: boolean;
  smep: boolean;
  smap: boolean;
}

function dataLines(directive: string, values: (number | bigint)[], perLine = 32): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i += perLine) out.push(`  ${directive} ${values.slice(i, i + perLine).map(hex).join(', ')}`);
  return out;
}

/** Paging structures as data: every entry the program starts with. */
function tableData(f: PagingFormat, init: InitialState): string[] {
  const t = tablesOf(f);
  const eb = t.entryBytes;
  const dir = eb === 8 ? '.qword' : '.dword';
  const lines: string[] = [];
  const entry = (table: number, index: number, value: number | bigint): void => {
    lines.push(`.org ${hex(table + index * eb)}`, `  ${dir} ${hex(value)}`);
  };
  // The kernel's identity map: supervisor read/write, except the user stub and stack pages.
  const kptEntries = eb === 8 ? 512 : 1024;
  const kpt: number[] = [];
  for (let i = 0; i < kptEntries; i++) {
    const a = i * 0x1000;
    kpt.push(a === USTUB ? a | Bit.P | Bit.US : a === USTACK ? a | Bit.P | Bit.RW | Bit.US : a | Bit.P | Bit.RW);
  }
  lines.push(`.org ${hex(KPT)}`, ...dataLines(dir, kpt));
  const up = Bit.P | Bit.RW | Bit.US;
  const [l0, l1, l2] = t.leafTables;
  if (f === 'long4') {
    const [p0, p1, p2] = t.roots;
    const kpdpt = 0x103000, kpd = 0x104000, pdpt0 = 0x106000, pdpt1 = 0x107000;
    const [pd0, pd1] = t.dirs;
    for (const r of [p0, p1, p2]) entry(r, 0, kpdpt | up);
    entry(p0, 1, pdpt0 | up);
    entry(p1, 1, pdpt1 | up);
    entry(p2, 1, pdpt0 | up); // the third address space shares the first one's playground
    entry(kpdpt, 0, kpd | up);
    entry(kpd, 0, KPT | up);
    entry(pdpt0, 0, pd0 | up);
    entry(pdpt1, 0, pd1 | up);
    entry(pd0, 0, l0 | up);
    entry(pd0, 1, l1 | up);
    entry(pd1, 0, l2 | up);
    entry(pd1, 1, l0 | up); // a leaf table shared by two address spaces
  } else {
    const [d0, d1, d2] = t.dirs;
    for (const d of [d0, d1, d2]) entry(d, 0, KPT | up);
    entry(d0, 256, l0 | up);
    entry(d0, 257, l1 | up);
    entry(d1, 256, l2 | up);
    entry(d1, 257, l0 | up);
    entry(d2, 256, l1 | up);
    entry(d2, 257, l2 | up);
  }
  for (const [table, index, value] of init.leaves) entry(table, index, eb === 8 ? value : Number(value & 0xffffffffn));
  return lines;
}

/** Pool frames: a distinct value in each data slot, a `ret` at each code offset. */
function poolData(): string[] {
  const lines: string[] = [];
  for (let k = 0; k < POOL_FRAMES; k++) {
    const base = POOL + k * 0x1000;
    for (const off of [0x000, 0x008, 0x100, 0x7f0, 0xff0]) lines.push(`.org ${hex(base + off)}`, `  .qword ${hex(0x1111_0000 * (1 + (off >> 8)) + k * 0x101 + off)}`);
    for (const off of CODE_OFFSETS) lines.push(`.org ${hex(base + off)}`, '  ret');
  }
  return lines;
}

function idtData(): string[] {
  const lines = [`.org ${hex(IDTR)}`, `  .word ${hex((USER_VECTOR + 1) * 16 - 1)}`, `  .qword ${hex(IDT)}`];
  lines.push(`.org ${hex(LOGP)}`, `  .qword ${hex(LOG)}`);
  const gate = (v: number, handler: string, attr: number): void => {
    lines.push(
      `.org ${hex(IDT + v * 16)}`,
      `  .word ${handler} & 0xffff, 8`,
      `  .byte 0, ${hex(attr)}`,
      `  .word (${handler} >> 16) & 0xffff`,
      `  .dword (${handler} >> 32) & 0xffffffff, 0`,
    );
  };
  for (let v = 0; v < 32; v++) gate(v, `fault_${v}`, 0x8e);
  gate(USER_VECTOR, 'user_return', 0xee);
  return lines;
}

/** A handler per exception vector: append (vector | CPL << 8 | op << 16, error code, CR2, rip) to the log, resume. */
function handlers(): string[] {
  const lines: string[] = [];
  for (let v = 0; v < 32; v++) {
    lines.push(`fault_${v}:`, WITH_ERROR.has(v) ? '  pop r9' : '  mov r9, -1', '  jmp log_fault_' + v);
  }
  for (let v = 0; v < 32; v++) {
    lines.push(
      `log_fault_${v}:`,
      `  mov r8, [${hex(LOGP)}]`,
      `  mov r10, [${hex(CUROP)}]`,
      '  shl r10, 16',
      `  or r10, ${v}`,
      '  mov r11, [rsp + 8]',
      '  and r11, 3',
      '  shl r11, 8',
      '  or r10, r11',
      '  mov [r8], r10',
      '  mov [r8 + 8], r9',
      '  mov r9, cr2',
      '  mov [r8 + 16], r9',
      '  mov r9, [rsp]',
      '  mov [r8 + 24], r9',
      `  add qword [${hex(LOGP)}], ${LOG_ENTRY}`,
      `  mov rsp, [${hex(KSAVE)}]`,
      `  jmp [${hex(RESUME)}]`,
    );
  }
  lines.push('user_return:', `  mov rsp, [${hex(KSAVE)}]`, `  jmp [${hex(RESUME)}]`);
  return lines;
}

/** The user stub: ecx selects the access kind, rbx is the address, rax the value; `int 0x80` returns. */
function userStub(): string[] {
  const lines = [`.org ${hex(USTUB)}`, 'user_stub:'];
  ACCESS_KINDS.forEach((_, i) => lines.push(`  cmp ecx, ${i}`, `  je user_k${i}`));
  lines.push(`  int ${hex(USER_VECTOR)}`);
  ACCESS_KINDS.forEach(([, insn], i) => lines.push(`user_k${i}:`, `  ${insn}`, `  int ${hex(USER_VECTOR)}`));
  return lines;
}

/** Everything before the operations: data, then the kernel entry that turns paging on. */
export function prologue(f: PagingFormat, init: InitialState): string {
  const t = tablesOf(f);
  const cr4 = (f === 'long4' ? 0x20 : 0x10) | (init.smep ? 1 << 20 : 0) | (init.smap ? 1 << 21 : 0);
  const cr0 = (0x80000011 | (init.wp ? 0x10000 : 0)) >>> 0;
  const efer = 0x100 | (init.nxe ? 0x800 : 0);
  const code = [
    `.org ${hex(KCODE)}`,
    '_start:',
    `  mov rsp, ${hex(KSTACK_TOP)}`,
    `  lidt [${hex(IDTR)}]`,
    '  mov ecx, 0x40000100',
    `  mov eax, ${hex(RSP0_TOP)}`,
    '  xor edx, edx',
    '  wrmsr',
    `  mov eax, ${hex(cr4)}`,
    '  mov cr4, rax',
    `  mov eax, ${hex(t.roots[0])}`,
    '  mov cr3, rax',
  ];
  if (f === 'long4') code.push('  mov ecx, 0xc0000080', `  mov eax, ${hex(efer)}`, '  xor edx, edx', '  wrmsr');
  code.push(`  mov eax, ${hex(cr0)}`, '  mov cr0, rax');
  return [
    '; generated by test/support/guestGen',
    ...idtData(),
    ...tableData(f, init),
    ...poolData(),
    ...userStub(),
    ...code,
  ].join('\n');
}

/** After the operations: say so on the console and halt. */
export function epilogue(): string {
  return [
    `  mov qword [${hex(CUROP)}], 0xffff`,
    "  mov al, 'o'",
    '  out 0xe9, al',
    "  mov al, 'k'",
    '  out 0xe9, al',
    '  mov al, 10',
    '  out 0xe9, al',
    '  cli',
    '  hlt',
    ...handlers(),
  ].join('\n');
}
