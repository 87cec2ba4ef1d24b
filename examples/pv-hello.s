; pv-hello.s — a paravirtual guest (Xen-style direct paging; run it with --mode paravirt).
; The teaching kernel's PV variant (kernel/paging-pv.s) knows it runs on a hypervisor: its
; page tables hold MACHINE frame numbers, which it looks up in the p2m the hypervisor shares
; read-only, and it changes them only through hypercalls the hypervisor validates:
;   CreatePT (create_pt)  a fresh frame pinned as an L1..L4 table   (mmuext_op PIN_Ln)
;   UpdatePT (update_pt)  write entries                              (mmu_update, batched)
;   SwitchPT (switch_pt)  make a pinned L4 the new CR3               (mmuext_op NEW_BASEPTR)
; Two processes print, yield to each other, and demand-page their stacks as usual.
;
; What to look at in the debugger:
;   - break on VM exits: every `vmcall` is exit 18; the hypercall events say what was asked
;   - the guest page table view shows machine addresses in every entry: there is no shadow
;     and no EPT — the hardware walks the guest's own tables (compare a PTE with the p2m
;     at guest-physical 0xc0000)
;   - switch_to (sched.s) calls switch_pt instead of MOV CR3 — a MOV CR3 here would be #GP
;   - the kernel's map of its own page tables is read-only: a `mov` into one faults
;
; modes: paravirt
; expect-exit: 0
; expect-console: kernel: paravirtual (CPUID 0x40000001 eax = 3)
; expect-console: kernel: booted, 4-level paging
; expect-console: A: hello from a paravirtual guest
; expect-console: B: hello from a paravirtual guest
; expect-console: A: bye
; expect-console: B: bye
; expect-console: kernel: all processes exited
; expect-min: cr3-writes 3
; expect-min: page-faults 2

.ifndef PV
.equ PV, 1
.endif
.equ NPROC, 2
.equ TIMER_PERIOD, 100000       ; long slices: the yields decide the order
.equ PV_BOOT_HOOK, 1
.include "kernel/kernel.s"

; --- kernel code of this example, run once paging is on (paging-pv.s calls it) ---
.org 0x60000
pv_boot_hook:
    mov eax, 0x40000001         ; the hypervisor's leaf: eax = how memory is virtualized
    cpuid
    cmp eax, 3
    jne .not_pv
    KPRINT msg_pv
    KPRINT msg_p2m              ; the p2m: guest-physical page 0x10 (the kernel) → machine frame
    mov rax, [P2M_PHYS + 0x10 * 8]
    call kput_hex
    mov al, 10
    call kputc
    KPRINT msg_cr3
    mov rax, cr3                ; reading CR3 is allowed: it holds a machine address
    call kput_hex
    mov al, 10
    call kputc
    ret
.not_pv:
    KPRINT msg_not_pv
    mov al, 1
    out PORT_EXIT, al

msg_pv:     .asciz "kernel: paravirtual (CPUID 0x40000001 eax = 3)\n"
msg_not_pv: .asciz "kernel: not on a paravirtualizing hypervisor: run with --mode paravirt\n"
msg_p2m:    .asciz "kernel: p2m: guest page 0x10 is machine frame "
msg_cr3:    .asciz "kernel: CR3 (set by NEW_BASEPTR) = machine address "

; --- process A ---
.org USER_CODE
.phys USER_IMAGE
proc_a:
    lea rdi, [a_hello]
    call print
    call yield
    lea rdi, [a_bye]
    call print
    xor edi, edi
    call exit

a_hello: .asciz "A: hello from a paravirtual guest\n"
a_bye:   .asciz "A: bye\n"

; --- process B ---
.org USER_CODE
.phys USER_IMAGE + USER_IMAGE_STRIDE
proc_b:
    lea rdi, [b_hello]
    call print
    call yield
    lea rdi, [b_bye]
    call print
    xor edi, edi
    call exit

b_hello: .asciz "B: hello from a paravirtual guest\n"
b_bye:   .asciz "B: bye\n"
