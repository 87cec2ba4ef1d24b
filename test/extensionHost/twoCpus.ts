// A guest with two vCPUs in two address spaces, for the tests of "the views follow the thread the
// user picks": vcpu0's 32-bit page directory at gpa 0x10000 maps one 4 MiB page, vcpu1's at
// 0x11000 maps two, so the Page Tables view's guest root, the TLB and the status bar all differ
// between the two threads. vcpu0 pages itself in, then starts vcpu1, which pages itself in,
// touches its second page (a second TLB entry, which vcpu0 never has) and spins at `ap_loop`
// (where the tests break).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TWO_CPUS_FILE = 'two-cpus.s';

export const TWO_CPUS = `; two vCPUs, two page directories
.org 0x1000
_start:
    mov rsp, 0x8000
    mov dword [0x10000], 0x83
    mov dword [0x11000], 0x83
    mov dword [0x11004], 0x400083
    mov eax, 0x10
    mov cr4, rax
    mov eax, 0x10000
    mov cr3, rax
    mov eax, 0x80000011
    mov cr0, rax
    mov eax, ap
    out 0xf0, eax
    mov al, 1
    out 0xf1, al
bsp_loop:
    add rbx, 1
    mov [0x6000], rbx
    jmp bsp_loop
ap:
    mov rsp, 0x9000
    mov eax, 0x10
    mov cr4, rax
    mov eax, 0x11000
    mov cr3, rax
    mov eax, 0x80000011
    mov cr0, rax
    mov [0x407000], rsp
ap_loop:
    add rcx, 1
    mov [0x407000], rcx
    jmp ap_loop
`;

/** The page directories the program loads into CR3, per vCPU. */
export const TWO_CPUS_CR3 = [0x10000, 0x11000] as const;

/** The 1-based line of vcpu1's loop body (the first instruction after `ap_loop:`). */
export const AP_LOOP_LINE = TWO_CPUS.split('\n').findIndex((l) => l.startsWith('ap_loop:')) + 2;

/** Writes the program into `dir` (a workspace folder); returns its path. */
export function writeTwoCpus(dir: string): string {
  const path = join(dir, TWO_CPUS_FILE);
  writeFileSync(path, TWO_CPUS);
  return path;
}
