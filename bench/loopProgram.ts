// The benchmark guest: bare metal, builds 4-level page tables, then runs the loop
//   add rax, [rsi]; mov [rsi+4], rax; add rsi, 8; and rsi, 0x3fffff; or rsi, 0x200000; dec rcx; jnz
// over the 2 MiB region 0x200000–0x3fffff, mapped with 4 KiB pages (or one 2 MiB page).
import { enterLongMode } from './longMode';
export function benchLoopSource(iterations: number, largeData: boolean): string {
  return `
.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD,   0x12000
.equ PT0,  0x13000      ; maps 0–2 MiB (code, tables)
.equ PT1,  0x14000      ; maps 2–4 MiB (the loop's data)
.equ PT2,  0x15000      ; maps 4–6 MiB: the last store of a pass spills 4 bytes past 4 MiB
.org 0x1000
_start:
    mov rsp, 0x8000
    mov qword [PML4], PDPT | 3
    mov qword [PDPT], PD | 3
    mov qword [PD], PT0 | 3
    ${largeData ? 'mov qword [PD + 8], 0x200000 | 0x83     ; one 2 MiB page' : 'mov qword [PD + 8], PT1 | 3'}
    mov qword [PD + 16], PT2 | 3
    ; identity-map 0–6 MiB with 4 KiB pages: PT0..PT2 are contiguous, 1536 entries
    xor rcx, rcx
.fill:
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov [PT0 + rcx*8], rax
    add rcx, 1
    cmp rcx, 1536
    jne .fill
${enterLongMode('PML4')}
    mov rcx, ${iterations}
    mov rsi, 0x200000
    xor rax, rax
loop:
    add rax, [rsi]
    mov [rsi+4], rax
    add rsi, 8
    and rsi, 0x3fffff
    or rsi, 0x200000
    dec rcx
    jnz loop
    hlt
`;
}
