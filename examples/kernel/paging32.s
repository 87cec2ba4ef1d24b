; paging32.s — 32-bit two-level paging: a page directory (1024 × 4-byte PDEs, 4 MiB each)
; and page tables (1024 × 4-byte PTEs, 4 KiB each). Linear address = PD index (bits 31:22),
; PT index (21:12), offset (11:0).
;
; Each process gets two tables in its PT_AREA slot:
;   PD   PDE 0 → a 4 MiB page (PS=1, needs CR4.PSE): the kernel, guest-physical 0..4 MiB,
;              supervisor-only (U/S=0), so user code faults on it
;        PDE 1 → the PT below, user-accessible: the user window 0x40_0000..0x7f_ffff
;   PT   one PTE per 4 KiB page of the user window (only 0x40_0000..0x5f_ffff is used)

.if PAGING == 32                ; kernel.s includes both variants; one assembles

.equ PTE_SIZE_SHIFT, 2          ; 4-byte entries

; build_address_space: make process rsi's tables for entry rdi; sets P_CR3 and P_PT.
build_address_space:
    shl rsi, 16                 ; index * PT_AREA_STRIDE
    add rsi, PT_AREA
    mov [rdi + P_CR3], rsi      ; the page directory
    lea rax, [rsi + PAGE_SIZE]
    mov [rdi + P_PT], rax       ; the user window's page table
    mov dword [rsi], 0 | PTE_KERNEL_LARGE
    or rax, PTE_USER_RW         ; U/S and R/W must be set at both levels for user access
    mov [rsi + 4], eax
    ret

; enable_paging: switch on 32-bit paging in process A's address space. The kernel keeps
; running because every address space maps it at the same (1:1) addresses.
enable_paging:
    mov eax, CR4_PSE            ; allow the 4 MiB kernel page
    mov cr4, rax
    mov rax, [proc_table + P_CR3]
    mov cr3, rax
    mov eax, CR0_PG | CR0_PE_ET
    mov cr0, rax                ; from here on every address is translated
    ret

; pte_address: rax = where the PTE for user page rsi of process rdi lives.
pte_address:
    mov rax, rsi
    sub rax, USER_BASE
    shr rax, 12                 ; the page's index in the window
    shl rax, PTE_SIZE_SHIFT
    add rax, [rdi + P_PT]
    ret

; set_pte: PTE of user page rsi in process rdi = edx.
set_pte:
    call pte_address
    mov [rax], edx
    ret

; get_pte: rax = the PTE of user page rsi in process rdi.
get_pte:
    call pte_address
    mov eax, [rax]
    ret

msg_paging: .asciz "32-bit two-level paging\n"

.endif ; PAGING == 32
