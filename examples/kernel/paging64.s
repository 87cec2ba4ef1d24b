; paging64.s — 4-level paging (long mode): PML4 → PDPT → PD → PT, 512 × 8-byte entries each.
; Linear address = PML4 index (bits 47:39), PDPT (38:30), PD (29:21), PT (20:12), offset.
;
; Each process gets four tables in its PT_AREA slot:
;   PML4  entry 0 → PDPT                       (covers 0..512 GiB)
;   PDPT  entry 0 → PD                         (covers 0..1 GiB)
;   PD    entries 0, 1 → 2 MiB pages (PS=1): the kernel, guest-physical 0..4 MiB,
;                        supervisor-only (U/S=0), so user code faults on it
;         entry 2 → PT, user-accessible: the user window 0x40_0000..0x5f_ffff
;   PT    one PTE per 4 KiB page of the user window

.if PAGING == 64                ; kernel.s includes both variants; one assembles

.equ PTE_SIZE_SHIFT, 3          ; 8-byte entries

; build_address_space: make process rsi's tables for entry rdi; sets P_CR3 and P_PT.
build_address_space:
    shl rsi, 16                 ; index * PT_AREA_STRIDE
    add rsi, PT_AREA
    mov [rdi + P_CR3], rsi      ; the PML4
    lea rax, [rsi + PAGE_SIZE + PTE_USER_RW]
    mov [rsi], rax              ; PML4[0] → PDPT
    lea rax, [rsi + 2 * PAGE_SIZE + PTE_USER_RW]
    mov [rsi + PAGE_SIZE], rax  ; PDPT[0] → PD
    lea rdx, [rsi + 2 * PAGE_SIZE]  ; rdx = the PD
    mov qword [rdx], 0x000000 | PTE_KERNEL_LARGE
    mov qword [rdx + 8], 0x200000 | PTE_KERNEL_LARGE
    lea rax, [rsi + 3 * PAGE_SIZE]
    mov [rdi + P_PT], rax       ; the user window's page table
    or rax, PTE_USER_RW         ; U/S and R/W must be set at every level for user access
    mov [rdx + 16], rax         ; PD[2] → PT
    ret

; enable_paging: enter long mode with 4-level paging in process A's address space. The
; kernel keeps running because every address space maps it at the same (1:1) addresses.
enable_paging:
    mov eax, CR4_PAE            ; 4-level paging uses the PAE entry format
    mov cr4, rax
    mov rax, [proc_table + P_CR3]
    mov cr3, rax
    mov ecx, MSR_EFER           ; EFER.LME: paging on will mean long mode
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, CR0_PG | CR0_PE_ET
    mov cr0, rax                ; from here on every address is translated (EFER.LMA = 1)
    ret

; pte_address: rax = where the PTE for user page rsi of process rdi lives.
pte_address:
    mov rax, rsi
    sub rax, USER_BASE
    shr rax, 12                 ; the page's index in the window
    shl rax, PTE_SIZE_SHIFT
    add rax, [rdi + P_PT]
    ret

; set_pte: PTE of user page rsi in process rdi = rdx.
set_pte:
    call pte_address
    mov [rax], rdx
    ret

; get_pte: rax = the PTE of user page rsi in process rdi.
get_pte:
    call pte_address
    mov rax, [rax]
    ret

msg_paging: .asciz "4-level paging\n"

.endif ; PAGING == 64
