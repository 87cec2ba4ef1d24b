// The conformance kernel: one fixed guest program per paging format that runs a batch of case
// records the host placed in its memory. Per case it sets CR0.WP / CR4 (PSE, SMEP, SMAP) /
// EFER.NXE, writes the case's PML4E/PDPTE/PDE/PTE (32-bit: PDE/PTE) into its tables, flushes
// (INVLPG of the address or a CR3 reload), optionally primes with a supervisor read, then does
// the access — a load, a store, or a `call` into a page holding `ret` — at CPL 0 or, through
// `iretq` into a user stub, at CPL 3, with RFLAGS.AC as the case says. A fault handler per
// vector records (vector | CS << 8, error code, CR2, rip) into the case record and resumes the
// kernel; afterwards the kernel copies the paging entries, as the guest reads them, into the
// record. Being data-driven, the program is assembled once per format, whatever the cases.
import { assembleOk } from '../../../support/runAsm';
import {
  CASE_BYTES, CASES, CURRES, F, FLAG, Format, IDT, IDTR, KCODE, KPD, KPDPT, KPT,
  KPT32, KSAVE, KSTACK_TOP, NCASES, PD32, PML4, RESUME, RSP0_TOP, SENTINEL, USTACK, USTACK_TOP, USTUB,
} from './layout';

const hex = (v: number | bigint): string => '0x' + v.toString(16);
const WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17, 21]);
const USER_VECTOR = 0x80;
const USER_RET_GATE = 0xee; // interrupt gate, DPL 3: `int 0x80` from the user stub returns to the kernel
/** The kernel's own leaf flags: supervisor read/write, except the user stub (read/execute) and stack. */
const kernelPage = (a: number): number => (a === USTUB ? a | 0x5 : a === USTACK ? a | 0x7 : a | 0x3);

function dataLines(directive: string, values: number[], perLine = 32): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i += perLine) out.push(`  ${directive} ${values.slice(i, i + perLine).map(hex).join(', ')}`);
  return out;
}

/** The kernel's identity map of the low 16 MiB (what its code, data, tables and case records need). */
function tables(format: Format): string[] {
  if (format === '4level') {
    const pt = Array.from({ length: 512 }, (_, i) => kernelPage(i * 0x1000));
    const pd = [KPT | 0x7, ...Array.from({ length: 7 }, (_, i) => ((i + 1) * 0x200000) | 0x83)];
    return [
      `.org ${hex(PML4)}`, `  .qword ${hex(KPDPT | 0x7)}`,
      `.org ${hex(KPDPT)}`, `  .qword ${hex(KPD | 0x7)}`,
      `.org ${hex(KPD)}`, ...dataLines('.qword', pd),
      `.org ${hex(KPT)}`, ...dataLines('.qword', pt),
    ];
  }
  // Four 4 KiB page tables, not 4 MiB pages: cases toggle CR4.PSE, which must not move the kernel.
  const pt = Array.from({ length: 4096 }, (_, i) => kernelPage(i * 0x1000));
  return [
    `.org ${hex(PD32)}`, ...dataLines('.dword', [0, 1, 2, 3].map((i) => (KPT32 + i * 0x1000) | 0x7)),
    `.org ${hex(KPT32)}`, ...dataLines('.dword', pt),
  ];
}

function idt(): string[] {
  const lines = [`.org ${hex(IDTR)}`, `  .word ${hex((USER_VECTOR + 1) * 16 - 1)}`, `  .qword ${hex(IDT)}`];
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
  gate(USER_VECTOR, 'user_return', USER_RET_GATE);
  return lines;
}

function handlers(): string[] {
  const lines: string[] = [];
  for (let v = 0; v < 32; v++) lines.push(`fault_${v}:`, WITH_ERROR.has(v) ? '  pop r9' : '  mov r9, -1', `  mov r10, ${v}`, '  jmp record_fault');
  lines.push(
    'record_fault:',
    `  mov r8, [${hex(CURRES)}]`,
    '  mov r11, [rsp + 8]', // CS: 0x08 from CPL 0, 0x1b from CPL 3
    '  shl r11, 8',
    '  or r10, r11',
    '  mov [r8], r10',
    '  mov [r8 + 8], r9',
    '  mov r9, cr2',
    '  mov [r8 + 16], r9',
    '  mov r9, [rsp]',
    '  mov [r8 + 24], r9',
    `  mov rsp, [${hex(KSAVE)}]`,
    `  jmp [${hex(RESUME)}]`,
    'user_return:',
    `  mov rsp, [${hex(KSAVE)}]`,
    `  jmp [${hex(RESUME)}]`,
  );
  return lines;
}

/** The user stub: ecx is the access (0 read, 1 write, 2 fetch), rbx the address, rax the value. */
function userStub(): string[] {
  return [
    `.org ${hex(USTUB)}`,
    'user_stub:',
    '  cmp ecx, 1',
    '  je u_write',
    '  cmp ecx, 2',
    '  je u_fetch',
    'u_read:',
    '  mov rax, [rbx]',
    `  int ${hex(USER_VECTOR)}`,
    'u_write:',
    '  mov [rbx], rax',
    `  int ${hex(USER_VECTOR)}`,
    'u_fetch:',
    '  call rbx',
    `  int ${hex(USER_VECTOR)}`,
  ];
}

/** Copies the entry at the address in record field `at` into field `to` (as the guest reads it). */
function copyEntry(format: Format, at: number, to: number): string[] {
  return [`  mov rdi, [r12 + ${at}]`, format === '4level' ? '  mov rax, [rdi]' : '  mov eax, dword [rdi]', `  mov [r12 + ${to}], rax`];
}

function writeEntry(format: Format, at: number, value: number): string[] {
  return [`  mov rdi, [r12 + ${at}]`, ...(format === '4level' ? [`  mov rax, [r12 + ${value}]`, '  mov [rdi], rax'] : [`  mov eax, dword [r12 + ${value}]`, '  mov dword [rdi], eax'])];
}

function code(format: Format): string[] {
  const long = format === '4level';
  const entries = long ? [[F.pml4eAt, F.pml4e], [F.pdpteAt, F.pdpte], [F.pdeAt, F.pde], [F.pteAt, F.pte]] : [[F.pdeAt, F.pde], [F.pteAt, F.pte]];
  const after = long ? [[F.pdeAt, F.pdeAfter], [F.pteAt, F.pteAfter], [F.pml4eAt, F.pml4eAfter], [F.pdpteAt, F.pdpteAfter]] : [[F.pdeAt, F.pdeAfter], [F.pteAt, F.pteAfter]];
  return [
    `.org ${hex(KCODE)}`,
    '_start:',
    `  mov rsp, ${hex(KSTACK_TOP)}`,
    `  lidt [${hex(IDTR)}]`,
    '  mov ecx, 0x40000100',
    `  mov eax, ${hex(RSP0_TOP)}`,
    '  xor edx, edx',
    '  wrmsr',
    `  mov eax, ${long ? '0x30' : '0x10'}`, // PAE|PSE, or PSE
    '  mov cr4, rax',
    `  mov eax, ${hex(long ? PML4 : PD32)}`,
    '  mov cr3, rax',
    ...(long ? ['  mov ecx, 0xc0000080', '  mov eax, 0x100', '  xor edx, edx', '  wrmsr'] : []),
    '  mov eax, 0x80000011',
    '  mov cr0, rax',
    `  mov r12, ${hex(CASES)}`,
    `  mov r13, [${hex(NCASES)}]`,
    'next_case:',
    '  test r13, r13',
    '  jz all_done',
    `  mov rax, [r12 + ${F.cr0}]`,
    '  mov cr0, rax',
    `  mov rax, [r12 + ${F.cr4}]`,
    '  mov cr4, rax',
    '  mov ecx, 0xc0000080',
    `  mov eax, dword [r12 + ${F.efer}]`,
    '  xor edx, edx',
    '  wrmsr',
    ...entries.flatMap(([at, v]) => writeEntry(format, at, v)),
    `  mov rbx, [r12 + ${F.linear}]`,
    `  test qword [r12 + ${F.flags}], ${FLAG.cr3}`,
    '  jz .invlpg',
    '  mov rax, cr3',
    '  mov cr3, rax',
    '  jmp .flushed',
    '.invlpg:',
    '  invlpg [rbx]',
    '.flushed:',
    '  clac',
    `  test qword [r12 + ${F.flags}], ${FLAG.twice}`,
    '  jz main_access',
    // The priming supervisor read (AC=0), as access.c's "twice".
    `  lea rax, [r12 + ${F.prime}]`,
    `  mov [${hex(CURRES)}], rax`,
    `  mov qword [${hex(RESUME)}], main_access`,
    `  mov [${hex(KSAVE)}], rsp`,
    'k_prime:',
    '  mov rax, [rbx]',
    'main_access:',
    `  lea rax, [r12 + ${F.main}]`,
    `  mov [${hex(CURRES)}], rax`,
    `  mov qword [${hex(RESUME)}], access_done`,
    `  mov [${hex(KSAVE)}], rsp`,
    `  mov rcx, [r12 + ${F.flags}]`,
    `  mov rax, ${hex(SENTINEL)}`,
    `  test ecx, ${FLAG.user}`,
    '  jnz to_user',
    `  test ecx, ${FLAG.ac}`,
    '  jz .ac_clear',
    '  stac',
    '.ac_clear:',
    '  and ecx, 3',
    '  cmp ecx, 1',
    '  je k_write',
    '  cmp ecx, 2',
    '  je k_fetch',
    'k_read:',
    '  mov rax, [rbx]',
    '  jmp access_done',
    'k_write:',
    '  mov [rbx], rax',
    '  jmp access_done',
    'k_fetch:',
    '  call rbx',
    '  jmp access_done',
    'to_user:',
    '  mov edx, 0x2',
    `  test ecx, ${FLAG.ac}`,
    '  jz .ac_clear',
    '  mov edx, 0x40002', // RFLAGS.AC in user mode (CR0.AM=0: no alignment checks; SMAP ignores it at CPL 3)
    '.ac_clear:',
    '  and ecx, 3',
    '  push 0x23',
    `  push ${hex(USTACK_TOP)}`,
    '  push rdx',
    '  push 0x1b',
    '  push user_stub',
    '  iretq',
    'access_done:',
    '  clac',
    `  mov [r12 + ${F.value}], rax`,
    ...after.flatMap(([at, to]) => copyEntry(format, at, to)),
    `  add r12, ${CASE_BYTES}`,
    '  dec r13',
    '  jmp next_case',
    'all_done:',
    "  mov al, 'o'",
    '  out 0xe9, al',
    "  mov al, 'k'",
    '  out 0xe9, al',
    '  mov al, 10',
    '  out 0xe9, al',
    '  cli',
    '  hlt',
    ...handlers(),
  ];
}

export function kernelSource(format: Format): string {
  return ['; the paging conformance kernel (test/engine/vmm/conformance)', ...idt(), ...tables(format), ...userStub(), ...code(format), ''].join('\n');
}

export type KernelProgram = ReturnType<typeof assembleOk>;

const cache = new Map<Format, KernelProgram>();

/** The assembled kernel for a format (assembled once). */
export function kernelProgram(format: Format): KernelProgram {
  let p = cache.get(format);
  if (!p) {
    p = assembleOk(kernelSource(format));
    cache.set(format, p);
  }
  return p;
}

let ret: Uint8Array | undefined;

/** The bytes of `ret` (what a fetch case calls), from the assembler rather than by hand. */
export function retBytes(): Uint8Array {
  ret ??= Uint8Array.from(assembleOk('ret\n').segments[0].bytes);
  return ret;
}

/** Where the access instructions are: the rip a data fault reports. */
export function accessSites(format: Format): { kernel: number[]; user: number[]; prime: number } {
  const s = kernelProgram(format).symbols;
  const at = (name: string): number => {
    const v = s.get(name);
    if (v === undefined) throw new Error(`kernel symbol ${name} missing`);
    return Number(v);
  };
  return { kernel: [at('k_read'), at('k_write'), at('k_fetch')], user: [at('u_read'), at('u_write'), at('u_fetch')], prime: at('k_prime') };
}

