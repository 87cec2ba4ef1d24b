; bench-many-pages.s — bare metal, no kernel: 100,000 pages of 4 KiB mapped at once, for the
; views benchmark (bench/views.ts) and for looking at a big address space in the views. It
; builds 4-level page tables by hand: the code in one 2 MiB page, and gva 0x40000000 up
; (PDPT[1]) in 100,000 4 KiB pages over 196 page tables (PD[0..195] → 0x100000..0x1c3fff),
; page i backed by frame 0x800000 + (i mod 4096) * 4 KiB. Then it touches every page once
; (a read and a write): 100,000 TLB misses.
;
; What to look at in the debugger:
;   - the Page Tables view: PML4[0] → PDPT[1] → PD with 196 present entries, each a full
;     PT of 512 entries (the last one 160) — the views read one table at a time
;   - step through `touch`: each page misses the TLB and walks all four levels
;
; modes: native nested
; expect-exit: 0
; expect-console: touched 100000 pages
; expect-min: tlb-misses 100000
; expect-exact: page-faults 0

.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD_LOW, 0x12000          ; 0..1 GiB: PD[0] one 2 MiB page for the code and tables' page
.equ PD, 0x13000              ; 1..2 GiB: the many pages
.equ PTS, 0x100000            ; 196 page tables, contiguous
.equ PAGES, 100000
.equ BASE, 0x40000000         ; gva of page 0
.equ FRAMES, 0x800000         ; gpa of the 4096 backing frames (16 MiB)

.org 0x1000
.entry _start
_start:
    mov esp, 0x8000
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

    mov rsi, BASE
    mov ecx, PAGES
touch:
    mov rax, [rsi]              ; a read and a write on each page: one TLB miss per page
    mov [rsi + 8], rcx
    add rsi, 4096
    dec ecx
    jnz touch
    lea rsi, [done]
    call puts
    mov al, 0
    out 0xf4, al

; puts: print the zero-terminated string at rsi.
puts:
    mov al, [rsi]
    cmp al, 0
    je .end
    out 0xe9, al
    inc rsi
    jmp puts
.end:
    ret

done: .asciz "touched 100000 pages\n"

; build_tables: the page tables, written while paging is still off.
build_tables:
    mov qword [PML4], PDPT | 3          ; present, writable
    mov qword [PDPT], PD_LOW | 3
    mov qword [PDPT + 8], PD | 3
    mov qword [PD_LOW], 0 | 0x83        ; 0..2 MiB: one large page for this code
    xor ecx, ecx
.pde:                                   ; PD[i] = (PTS + i * 4 KiB) | present | writable
    mov rax, rcx
    shl rax, 12
    add rax, PTS | 3
    mov [PD + rcx*8], rax
    inc ecx
    cmp ecx, (PAGES + 511) / 512
    jb .pde
    xor ecx, ecx
.pte:                                   ; PTE i = (FRAMES + (i mod 4096) * 4 KiB) | present | writable
    mov eax, ecx
    and eax, 0xfff
    shl rax, 12
    add rax, FRAMES | 3
    mov [PTS + rcx*8], rax
    inc ecx
    cmp ecx, PAGES
    jb .pte
    ret
