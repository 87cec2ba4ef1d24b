; paging-pv.s — 4-level paging for a paravirtual guest (PV=1; run with --mode paravirt). The
; hypervisor does Xen-style direct paging (docs/vmm/paravirt.md):
;   - the page tables hold MACHINE frame numbers, and the hardware walks them directly;
;     the kernel learns which machine frame backs each of its guest-physical pages from the
;     p2m, a read-only table of qwords the hypervisor put at P2M_PHYS;
;   - the tables are read-only to the kernel: it changes them only by hypercall, and the
;     hypervisor validates every change (the frame is the VM's, the flags are allowed, no
;     frame is ever both writable-mapped and a page table);
;   - it may not write CR3 (that is #GP): it asks for a new base pointer instead.
; The three routines the rest of the kernel uses:
;   create_pt  (CreatePT)  take a free frame from the page-table area and pin it as a table
;   update_pt  (UpdatePT)  mmu_update: write one entry (pt_queue + pt_commit batch several)
;   switch_pt  (SwitchPT)  mmuext_op NEW_BASEPTR: the hypervisor loads CR3
;
; Each process gets four tables, as in paging64.s, but no large pages (a PV guest may not use
; PS): the kernel's 1:1 map of guest-physical 0..4 MiB is two L1 tables of 4 KiB pages, made
; once and shared by every process. In that map the p2m copy and the page-table area are
; read-only (the hypervisor refuses a writable mapping of a page table); everything else is
; writable, supervisor-only.
;   L4[0] → L3,  L3[0] → L2,  L2[0], L2[1] → the kernel's L1s,  L2[2] → the user window's L1

.if PV                          ; kernel.s includes this file instead of paging32.s/paging64.s

.equ PTE_SIZE_SHIFT, 3          ; 8-byte entries

; --- the hypercall ABI (Xen's numbers): rax = number, args rdi rsi rdx r10, result in rax ---
.equ HYPERVISOR_MMU_UPDATE, 1   ; (requests, count, done-count pointer or 0, DOMID_SELF)
.equ HYPERVISOR_MMUEXT_OP, 26   ; (ops, count, done-count pointer or 0, DOMID_SELF)
.equ MMUEXT_PIN_L1_TABLE, 0     ; ... PIN_L4_TABLE = 3: arg = machine frame number
.equ MMUEXT_UNPIN_TABLE, 4
.equ MMUEXT_NEW_BASEPTR, 5
.equ MMUEXT_INVLPG_LOCAL, 7
.equ DOMID_SELF, 0x7ff0

.equ CR0_WP, 0x10000            ; required: read-only must bind the kernel too
.equ P2M_PHYS, 0xc0000          ; the hypervisor's p2m copy (mode option paravirt.p2mPage = 0xc0)
.equ PV_BATCH, 0x90000          ; mmu_update requests: 512 × (ptr, val)

; phys_to_machine: rax = guest-physical address → machine address (same offset; an entry's
; flags in bits 11:0 survive). Only rax changes.
phys_to_machine:
    push rdx
    mov rdx, rax
    and edx, 0xfff
    shr rax, 12
    mov rax, [P2M_PHYS + rax*8] ; the p2m: one qword per guest page
    shl rax, 12
    or rax, rdx
    pop rdx
    ret

; pt_queue: add the request "entry at machine address rdi = rsi" to the batch. Only rax changes.
pt_queue:
    mov rax, [pv_batch_count]
    shl rax, 4
    mov [PV_BATCH + rax], rdi
    mov [PV_BATCH + rax + 8], rsi
    mov rax, [pv_batch_count]
    inc rax
    mov [pv_batch_count], rax
    ret

; pt_commit: send the batch in one mmu_update hypercall. rax = 0, or -errno (the hypervisor
; stops at the first request it refuses). Only rax changes.
pt_commit:
    push rdi
    push rsi
    push rdx
    push r10
    mov eax, HYPERVISOR_MMU_UPDATE
    mov edi, PV_BATCH
    mov rsi, [pv_batch_count]
    xor edx, edx
    mov r10d, DOMID_SELF
    vmcall
    mov qword [pv_batch_count], 0
    pop r10
    pop rdx
    pop rsi
    pop rdi
    ret

; update_pt (UpdatePT): entry at machine address rdi = rsi. rax = 0, or -errno.
update_pt:
    call pt_queue
    jmp pt_commit

; mmuext_one: run the one mmuext_op at pv_op. rax = 0, or -errno. Only rax changes.
mmuext_one:
    push rdi
    push rsi
    push rdx
    push r10
    mov eax, HYPERVISOR_MMUEXT_OP
    lea rdi, [pv_op]
    mov esi, 1
    xor edx, edx
    mov r10d, DOMID_SELF
    vmcall
    pop r10
    pop rdx
    pop rsi
    pop rdi
    ret

; create_pt (CreatePT): rdi = level 1..4 → a new table of that level, pinned: rax = its machine
; address, rdx = its guest-physical address. The frame comes zeroed from the page-table area.
create_pt:
    mov rdx, [pv_next_table]
    cmp rdx, FRAME_POOL
    jae pv_out_of_tables
    lea rax, [rdx + PAGE_SIZE]
    mov [pv_next_table], rax
    mov rax, rdx
    call phys_to_machine
    push rax
    dec rdi                     ; MMUEXT_PIN_L1_TABLE + level - 1
    mov [pv_op], rdi
    shr rax, 12                 ; commands take machine frame numbers
    mov [pv_op + 8], rax
    call mmuext_one
    test rax, rax
    jnz pv_panic
    pop rax
    ret

; switch_pt (SwitchPT): rax = machine address of an L4 → the hypervisor validates it (if it
; is not a table yet), takes a reference on it and loads CR3 with it (flushing the TLB's
; non-global entries, as MOV CR3 would). Our L4s are pinned already: no validation needed.
switch_pt:
    push rax
    shr rax, 12
    mov [pv_op + 8], rax
    mov qword [pv_op], MMUEXT_NEW_BASEPTR
    call mmuext_one
    test rax, rax
    jnz pv_panic
    pop rax
    ret

; build_kernel_map: the two L1 tables that map guest-physical 0..4 MiB 1:1 for the kernel,
; filled with one mmu_update of 512 requests each.
build_kernel_map:
    push rbx
    mov edi, 1
    call create_pt
    mov [pv_kernel_pt], rax
    mov edi, 1
    call create_pt
    mov [pv_kernel_pt + 8], rax
    xor ebx, ebx                ; rbx = the guest-physical page to map
.page:
    mov rax, rbx
    shr rax, 21                 ; which of the two L1s
    mov rdi, [pv_kernel_pt + rax*8]
    mov rax, rbx
    shr rax, 12
    and eax, 511
    lea rdi, [rdi + rax*8]      ; the entry's machine address
    mov rax, rbx
    call phys_to_machine
    lea rsi, [rax + PTE_P]
    cmp rbx, P2M_PHYS           ; the p2m copy and the page tables: read-only
    jb .writable
    cmp rbx, FRAME_POOL
    jb .queue
.writable:
    or rsi, PTE_RW
.queue:
    call pt_queue
    add rbx, PAGE_SIZE
    test ebx, 0x1fffff          ; a full L1: send its batch
    jnz .page
    call pt_commit
    test rax, rax
    jnz pv_panic
    cmp rbx, 0x400000
    jb .page
    pop rbx
    ret

; build_address_space: make process rsi's tables for entry rdi; sets P_CR3 (the L4's machine
; address: what CR3 will hold) and P_PT (the user L1's guest-physical address, read through
; the kernel's read-only 1:1 map).
build_address_space:
    push r12
    push r13
    push r14
    push r15
    mov r12, rdi
    cmp qword [pv_kernel_pt], 0
    jne .kernel_ready
    call build_kernel_map
.kernel_ready:
    mov edi, 1
    call create_pt
    mov [r12 + P_PT], rdx
    mov r13, rax                ; r13 = the user window's L1
    mov edi, 2
    call create_pt
    mov r14, rax                ; r14 = the L2
    mov edi, 3
    call create_pt
    mov r15, rax                ; r15 = the L3
    mov edi, 4
    call create_pt
    mov [r12 + P_CR3], rax
    mov rdi, rax                ; link them in one batch: L4[0] → L3
    lea rsi, [r15 + PTE_USER_RW]
    call pt_queue
    mov rdi, r15                ; L3[0] → L2
    lea rsi, [r14 + PTE_USER_RW]
    call pt_queue
    mov rdi, r14                ; L2[0], L2[1] → the kernel's L1s, supervisor-only
    mov rsi, [pv_kernel_pt]
    or rsi, PTE_P | PTE_RW
    call pt_queue
    lea rdi, [r14 + 8]
    mov rsi, [pv_kernel_pt + 8]
    or rsi, PTE_P | PTE_RW
    call pt_queue
    lea rdi, [r14 + 16]         ; L2[2] → the user window's L1
    lea rsi, [r13 + PTE_USER_RW]
    call pt_queue
    call pt_commit
    test rax, rax
    jnz pv_panic
    pop r15
    pop r14
    pop r13
    pop r12
    ret

; enable_paging: long mode with process A's tables. CR3 comes from the hypervisor
; (NEW_BASEPTR), which must come first: the hypervisor refuses PG (#GP) without a base
; pointer, as it does without CR0.WP.
enable_paging:
    mov eax, CR4_PAE
    mov cr4, rax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov rax, [proc_table + P_CR3]
    call switch_pt
    mov eax, CR0_PG | CR0_WP | CR0_PE_ET
    mov cr0, rax                ; the hardware now walks the machine-frame tables directly
.ifdef PV_BOOT_HOOK
    call pv_boot_hook           ; an example's own kernel code (see pv-rejected.s)
.endif
    ret

; pte_address: rax = guest-physical (= kernel virtual) address of the PTE for user page rsi
; of process rdi.
pte_address:
    mov rax, rsi
    sub rax, USER_BASE
    shr rax, 12
    shl rax, PTE_SIZE_SHIFT
    add rax, [rdi + P_PT]
    ret

; set_pte: PTE of user page rsi in process rdi = rdx (a guest-physical frame | flags, or 0),
; through mmu_update with the frame translated to its machine frame. Only rax changes.
set_pte:
    push rdi
    push rsi
    call pte_address
    call phys_to_machine        ; the entry's machine address
    mov rdi, rax
    mov rax, rdx
    test eax, PTE_P
    jz .value
    call phys_to_machine        ; the frame it maps
.value:
    mov rsi, rax
    call update_pt
    test rax, rax
    jnz pv_panic
    pop rsi
    pop rdi
    ret

; get_pte: rax = the PTE of user page rsi in process rdi (it holds a machine frame number).
get_pte:
    call pte_address
    mov rax, [rax]
    ret

; kput_errno: print rax, a hypercall result (0 or -errno), in decimal. Only rax changes.
kput_errno:
    push rcx
    push rdx
    push rsi
    test rax, rax
    jns .digits
    push rax
    mov al, '-'
    out PORT_CONSOLE, al
    pop rax
    neg rax
.digits:
    lea rsi, [pv_digits + 20]   ; filled from its end
    mov byte [rsi], 0
    mov ecx, 10
.next:
    xor edx, edx
    div rcx
    add dl, '0'
    dec rsi
    mov [rsi], dl
    test rax, rax
    jnz .next
    call kputs
    pop rsi
    pop rdx
    pop rcx
    ret

; A hypercall the kernel relies on was refused: report the error and stop.
pv_panic:
    push rax
    KPRINT msg_pv_panic
    pop rax
    call kput_errno
    mov al, 10
    call kputc
    mov al, 1
    out PORT_EXIT, al

pv_out_of_tables:
    KPRINT msg_pv_tables
    mov al, 1
    out PORT_EXIT, al

; The same line as paging64.s: a guest's output does not depend on how memory is virtualized.
msg_paging: .asciz "4-level paging\n"
msg_pv_panic: .asciz "kernel panic: hypercall refused: "
msg_pv_tables: .asciz "kernel panic: out of page-table frames\n"

.align 8
pv_next_table: .qword PT_AREA   ; the next free frame of the page-table area
pv_kernel_pt: .qword 0, 0       ; machine addresses of the kernel's two L1 tables
pv_batch_count: .qword 0
pv_op: .qword 0, 0              ; one mmuext_op: command, argument
pv_digits: .space 24

.endif ; PV
