; bench-loop.s — bare metal, no kernel: the benchmark loop the CLI and `npm run bench` time.
; It builds 4-level page tables by hand (code in a 2 MiB page, the data region
; 0x200000..0x3fffff in 512 pages of 4 KiB), enters long mode, and runs
;     add rax, [rsi]; mov [rsi+4], rax; add rsi, 8; and rsi, 0x3fffff; or rsi, 0x200000;
;     dec rcx; jnz
; ITERATIONS times: a walk over 2 MiB of data that the 64-entry TLB cannot hold.
;
; What to look at in the debugger:
;   - the four tables at 0x10000..0x13fff after build_tables: PML4[0] → PDPT[0] → PD,
;     PD[0] a large page (PS=1), PD[1] → PT
;   - TLB misses: one per new 4 KiB data page (every 512 iterations; 100000 iterations
;     touch 196 pages), every other data access a hit
;
; expect-exit: halted
; expect-exact: page-faults 0
; expect-min: tlb-misses 195

.ifndef ITERATIONS
.equ ITERATIONS, 100000
.endif

.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD, 0x12000
.equ PT, 0x13000
.equ DATA, 0x200000

.org 0x1000
.entry _start
_start:
    mov esp, 0x8000             ; rsp is 0 at reset: a stack before the first call
    call build_tables
    mov eax, 0x20               ; CR4.PAE
    mov cr4, rax
    mov eax, PML4
    mov cr3, rax
    mov ecx, 0xc0000080         ; EFER.LME
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, 0x80000011         ; CR0.PG | PE | ET: long mode from here on
    mov cr0, rax

    xor eax, eax                ; the benchmark
    mov esi, DATA
    mov ecx, ITERATIONS
loop:
    add rax, [rsi]
    mov [rsi + 4], rax
    add rsi, 8
    and rsi, 0x3fffff           ; wrap at 4 MiB ...
    or rsi, 0x200000            ; ... back into the data region
    dec rcx
    jnz loop
    hlt                         ; IF=0 and no timer: the machine halts

; build_tables: the page tables, written while paging is still off.
build_tables:
    mov qword [PML4], PDPT | 3          ; present, writable
    mov qword [PDPT], PD | 3
    mov qword [PD], 0 | 0x83            ; 0..2 MiB: one large page for this code
    mov qword [PD + 8], PT | 3          ; 2..4 MiB: the data, in 4 KiB pages
    xor ecx, ecx
.pte:
    mov rax, rcx                        ; PT[i] = (DATA + i * 4 KiB) | present | writable
    shl rax, 12
    add rax, DATA | 3
    mov [PT + rcx*8], rax
    inc ecx
    cmp ecx, 512
    jb .pte
    ret
