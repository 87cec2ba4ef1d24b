// Bare-metal guest programs for the shadow tests, in each paging format: an identity map of the
// low 4 MiB (8 MiB for 32-bit) in 4 KiB pages through two page tables PT0 and PT1 that sit
// back to back (so one store can cross from one into the other), a #PF handler that leaves the
// error code in r12 and CR2 in r13 and halts, then `body`. CR0.WP starts at 0.
import { IDT_PROLOGUE } from '../../../support/runAsm';

export type Format = '4level' | '32bit' | 'pae';
export const FORMATS: Format[] = ['4level', '32bit', 'pae'];

export interface Layout {
  /** Entry size in bytes. */
  es: number;
  /** `mov <size> [PTE of page n], value` */
  setPte(page: number, value: string): string;
  /** The size keyword of an entry. */
  size: string;
  /** First gva mapped by PT1 (PT1[0]). */
  pt1Base: number;
  /** The value PT0's last entry holds (identity). */
  pt0Last: number;
}

export function layout(f: Format): Layout {
  const es = f === '32bit' ? 4 : 8;
  const size = es === 4 ? 'dword' : 'qword';
  const perTable = 4096 / es;
  return {
    es, size,
    setPte: (page, value) => `mov ${size} [PT0 + ${page}*${es}], ${value}`,
    pt1Base: perTable * 4096,
    pt0Last: (perTable - 1) * 4096 + 3,
  };
}

export function program(f: Format, body: string): string {
  const L = layout(f);
  const setup = {
    '4level': `
    mov qword [PML4], PDPT | 7
    mov qword [PDPT], PD | 7
    mov qword [PD], PT0 | 7
    mov qword [PD + 8], PT1 | 7
    mov rax, 0x20
    mov cr4, rax
    mov rax, PML4
    mov cr3, rax
    mov ecx, 0xC0000080
    mov eax, 0x100
    xor edx, edx
    wrmsr`,
    pae: `
    mov qword [PDPT], PD | 1
    mov qword [PD], PT0 | 7
    mov qword [PD + 8], PT1 | 7
    mov rax, 0x20
    mov cr4, rax
    mov rax, PDPT
    mov cr3, rax`,
    '32bit': `
    mov dword [PD], PT0 | 7
    mov dword [PD + 4], PT1 | 7
    mov rax, PD
    mov cr3, rax`,
  }[f];
  return `${IDT_PROLOGUE}
.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD,   0x12000
.equ PT0,  0x13000
.equ PT1,  0x14000
.org 0x1000
_start:
    mov rsp, 0x9000
    gate 14, pf_handler, 0x8E
    lidt [idtr]
    xor rcx, rcx
.fill:
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov [PT0 + rcx*${L.es}], ${L.es === 4 ? 'eax' : 'rax'}
    add rcx, 1
    cmp rcx, ${(8192 / L.es)}
    jne .fill
${setup}
    mov rax, 0x80000011
    mov cr0, rax
${body}
    hlt
pf_handler:
    pop r12
    mov r13, cr2
    hlt
.align 8
idtr:
    .word 256*16 - 1
    .qword IDT
`;
}

/** Traced writes: a plain store, an RMW, a page-crossing store into two tables, then CR0.WP=0 emulation and a true fault. */
export function tracedWrites(f: Format): string {
  const L = layout(f);
  const cross = `0x${(0x42003 * 2 ** 32 + (L.es === 4 ? L.pt0Last : 0)).toString(16)}`;
  return program(f, `
    mov byte [0x40000], 0x11
    mov byte [0x41000], 0x22
    mov byte [0x42000], 0x33
    movzx eax, byte [0x45000]
    mov byte [0x45000], 1
    movzx r8d, byte [0x80000]
    ${L.setPte(0x80, '0x40003')}
    movzx r9d, byte [0x80000]
    invlpg [0x80000]
    movzx r10d, byte [0x80000]
    add ${L.size} [PT0 + 0x80*${L.es}], 0x1000
    invlpg [0x80000]
    movzx r11d, byte [0x80000]
    movzx eax, byte [${L.pt1Base + 0x1000}]
    mov rax, ${cross}
    mov [PT0 + 4092], rax
    movzx r14d, byte [${L.pt1Base}]
    ${L.setPte(0x90, '0x43001')}
    ${L.setPte(0x91, '0x44005')}
    mov byte [0x90000], 0x55
    mov byte [0x91000], 0x66
    movzx ebx, byte [0x91000]
    movzx esi, byte [0x43000]
    movzx edi, byte [0x44000]
    mov rax, cr0
    or eax, 0x10000
    mov cr0, rax
    mov byte [0x91000], 0x77
`);
}

/** A guest that changes a PTE without INVLPG, then pushes the stale TLB entry out: r10 shows what the next access sees. */
export function sloppyEviction(f: Format): string {
  const L = layout(f);
  return program(f, `
    mov byte [0x40000], 0x11
    movzx r8d, byte [0x80000]
    ${L.setPte(0x80, '0x40003')}
    movzx r9d, byte [0x80000]
    mov al, [0x100000]
    mov al, [0x110000]
    mov al, [0x120000]
    mov al, [0x130000]
    mov al, [0x140000]
    movzx r10d, byte [0x80000]
    invlpg [0x80000]
    movzx r11d, byte [0x80000]
`);
}

/** Switches between two address spaces `rounds` times (4-level: two PML4s sharing the PDPT). */
export function cr3Switches(rounds: number): string {
  return program('4level', `
    mov qword [0x15000], PDPT | 7
    mov rcx, ${rounds}
.sw:
    mov rax, 0x15000
    mov cr3, rax
    mov al, [0x100000]
    mov rax, PML4
    mov cr3, rax
    mov al, [0x100000]
    dec rcx
    jnz .sw
`);
}
