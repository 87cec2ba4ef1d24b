; pv-rejected.s — the hypervisor says no. A paravirtual kernel (PV=1, --mode paravirt) asks for
; page-table updates that would break isolation; each is refused with an error code, and the
; hypercall event says which rule it broke. Then a legal one: process A's own page table,
; mapped READ-ONLY into its window, where A reads its own PTE.
;   1. map A's page table (an L1 frame) writable at 0x480000   → -16 EBUSY: a page table
;      may be mapped read-only only (Xen's type counts: never both writable and a table)
;   2. map machine frame 0, the hypervisor's                    → -16 EBUSY: not the VM's frame
;      (Xen's get_page_from_l1e answers both L1 refusals with -EBUSY: "could not pin")
;   3. an L2 entry with PS=1 (a 2 MiB page)                     → -22 EINVAL: no large pages
;   4. pin A's L4 a second time                                 → -22 EINVAL: already pinned
;   5. new_baseptr with an L1 table                             → -22 EINVAL: an L1 cannot also
;      be an L4 (a type conflict; an unused frame would have been validated as an L4 instead)
;   6. map A's page table read-only at 0x480000                 → 0: allowed
; A then reads PTE 0 of its page table at 0x480000 (flags 0x27: P RW US A — the hardware set
; A in the guest's own table) and tries to write there: a protection fault that kills A.
;
; What to look at in the debugger:
;   - break on hypercall events: `rejected` gives the rule in words, rax gets -errno
;   - VM exits: each request is one VMCALL exit (18), accepted or not
;   - the guest PT view after step 6: PTE 0x480000 maps the frame of the table itself
;
; modes: paravirt
; expect-exit: 0
; expect-console: kernel: map A's page table writable: -16
; expect-console: kernel: map a frame the VM does not own: -16
; expect-console: kernel: a 2 MiB page (PS=1 in an L2 entry): -22
; expect-console: kernel: pin A's L4 again: -22
; expect-console: kernel: new_baseptr with an L1 table: -22
; expect-console: kernel: map A's page table read-only: 0
; expect-console: kernel: booted, 4-level paging
; expect-console: A: my own PTE for 0x400000 has flags 0x27
; expect-console: process A: segmentation fault at 0x480000
; expect-console: kernel: all processes exited
; expect-exact: page-faults-protection 1

.ifndef PV
.equ PV, 1
.endif
.equ NPROC, 1
.equ PV_BOOT_HOOK, 1
.include "kernel/kernel.s"

.equ WINDOW, 0x480000           ; where A gets to see its page table

; --- kernel code of this example, run once paging is on (paging-pv.s calls it) ---
.org 0x60000
pv_boot_hook:
    push rbx
    push r12
    mov rbx, [proc_table + P_PT] ; A's user L1 (guest-physical; tables come one after another:
    mov rax, rbx                 ; L1, L2, L3, L4 — see build_address_space)
    call phys_to_machine
    mov r12, rax                 ; r12 = the L1's machine address
    mov rax, rbx                 ; rdi = the machine address of the PTE for WINDOW
    add rax, (WINDOW - USER_BASE) >> 12 << 3
    call phys_to_machine
    mov rbx, rax                 ; rbx = that PTE's machine address

    lea rsi, [r12 + PTE_USER_RW] ; 1. the table itself, writable
    mov rdi, rbx
    call update_pt
    lea rsi, [msg_rw_table]
    call report

    mov rdi, rbx                 ; 2. machine frame 0: the hypervisor's
    mov esi, PTE_USER_RO
    call update_pt
    lea rsi, [msg_not_owned]
    call report

    mov rax, [proc_table + P_PT] ; 3. A's L2 (the frame after its L1), entry 3: a 2 MiB page
    add rax, PAGE_SIZE + 3 * 8
    call phys_to_machine
    mov rdi, rax
    mov esi, 0x600000 | PTE_USER_RW | PTE_PS
    call update_pt
    lea rsi, [msg_large]
    call report

    mov qword [pv_op], MMUEXT_PIN_L1_TABLE + 3   ; 4. pin A's L4 again
    mov rax, [proc_table + P_CR3]
    shr rax, 12
    mov [pv_op + 8], rax
    call mmuext_one
    lea rsi, [msg_pin_twice]
    call report

    mov qword [pv_op], MMUEXT_NEW_BASEPTR        ; 5. an L1 as the new CR3
    mov rax, r12
    shr rax, 12
    mov [pv_op + 8], rax
    call mmuext_one
    lea rsi, [msg_base_l1]
    call report

    lea rsi, [r12 + PTE_USER_RO] ; 6. the table, read-only: fine
    mov rdi, rbx
    call update_pt
    lea rsi, [msg_ro_table]
    call report
    pop r12
    pop rbx
    ret

; report: print "kernel: <rsi>: <rax>".
report:
    push rax
    push rsi
    KPRINT msg_kernel
    pop rsi
    call kputs
    mov al, ':'
    call kputc
    mov al, ' '
    call kputc
    pop rax
    call kput_errno
    mov al, 10
    jmp kputc

msg_kernel:    .asciz "kernel: "
msg_rw_table:  .asciz "map A's page table writable"
msg_not_owned: .asciz "map a frame the VM does not own"
msg_large:     .asciz "a 2 MiB page (PS=1 in an L2 entry)"
msg_pin_twice: .asciz "pin A's L4 again"
msg_base_l1:   .asciz "new_baseptr with an L1 table"
msg_ro_table:  .asciz "map A's page table read-only"

; --- process A ---
.org USER_CODE
.phys USER_IMAGE
proc_a:
    lea rdi, [a_pte]
    call print
    mov rdi, [WINDOW]           ; PTE 0 of its own page table: the one for 0x400000
    and edi, 0xfff              ; the flags (the frame is a machine address)
    call print_hex
    call print_newline
    mov qword [WINDOW], 0       ; a page table is never writable: #PF, and A is killed
    lea rdi, [a_wrong]
    call print
    xor edi, edi
    call exit

a_pte:   .asciz "A: my own PTE for 0x400000 has flags "
a_wrong: .asciz "A: wrote my own page table (wrong!)\n"
