// An MMU-intensive guest for the shadow-vs-nested trade-off (VMware's "MMU-intensive"
// benchmarks): bare metal, two 4-level address spaces; each round it rewrites 64 PTEs of a
// 256 KiB window (with INVLPG), touches every remapped page, then switches CR3 to the other
// address space, touches 16 pages there and switches back. Shadow paging pays an exit for
// every PTE write, INVLPG and CR3 write; nested paging pays none, but every TLB miss is a 2-D
// walk (24 references instead of 4). Ends with `hlt`; rax holds a checksum of what it read.
import { enterLongMode } from './longMode';
export function mmuWorkloadSource(rounds: number): string {
  return `
.equ PML4A, 0x10000
.equ PDPTA, 0x11000
.equ PDA,   0x12000
.equ PT0,   0x13000      ; identity map of 0–2 MiB (code, stack, tables), shared
.equ PTA,   0x14000      ; space A's window at 2 MiB
.equ PML4B, 0x20000
.equ PDPTB, 0x21000
.equ PDB,   0x22000
.equ PTB,   0x24000      ; space B's window at 2 MiB
.equ POOL,  0x400000     ; 128 frames the window's PTEs cycle through
.org 0x1000
_start:
    mov rsp, 0x8000
    mov qword [PML4A], PDPTA | 3
    mov qword [PDPTA], PDA | 3
    mov qword [PDA], PT0 | 3
    mov qword [PDA + 8], PTA | 3
    mov qword [PML4B], PDPTB | 3
    mov qword [PDPTB], PDB | 3
    mov qword [PDB], PT0 | 3
    mov qword [PDB + 8], PTB | 3
    xor rcx, rcx
.fill0:                  ; PT0: identity, 512 entries
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov [PT0 + rcx*8], rax
    add rcx, 1
    cmp rcx, 512
    jne .fill0
    xor rcx, rcx
.fillb:                  ; space B: 16 pages of the pool's top
    mov rax, rcx
    shl rax, 12
    add rax, POOL + 0x100000
    or rax, 3
    mov [PTB + rcx*8], rax
    add rcx, 1
    cmp rcx, 16
    jne .fillb
${enterLongMode('PML4A')}
    mov r8, ${rounds}
    xor r9, r9              ; round number
    xor rax, rax            ; checksum
round:
    xor rcx, rcx
.remap:                     ; PTE i → POOL + ((i + round) mod 128) pages
    mov rdx, rcx
    add rdx, r9
    and rdx, 127
    shl rdx, 12
    add rdx, POOL
    or rdx, 3
    mov [PTA + rcx*8], rdx
    mov rbx, rcx
    shl rbx, 12
    add rbx, 0x200000
    invlpg [rbx]
    add rax, [rbx]
    mov [rbx + 8], rcx
    add rcx, 1
    cmp rcx, 64
    jne .remap
    mov rdx, PML4B
    mov cr3, rdx
    xor rcx, rcx
.touchb:
    mov rbx, rcx
    shl rbx, 12
    add rbx, 0x200000
    add rax, [rbx]
    add rcx, 1
    cmp rcx, 16
    jne .touchb
    mov rdx, PML4A
    mov cr3, rdx
    add r9, 1
    dec r8
    jnz round
    hlt
`;
}
