; segfault.s — protection: process A reads kernel memory, which every address space maps
; supervisor-only; the kernel kills A and process B carries on alone.
;
; What to look at in the debugger:
;   - the page fault's error code is 0x5 (present, read, user): a protection violation, not
;     a missing page, so page_fault_handler does not map anything
;   - the walk for gva 0x10000 ends in the kernel's large page, whose U/S bit is 0
;   - kill_current marks A free and schedule never picks it again
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console: A: reading kernel memory at 0x10000
; expect-console: process A: segmentation fault at 0x10000
; expect-console: B: still running after A died
; expect-console: process B: exited with status 0x0
; expect-not-console: A: the read succeeded (wrong!)
; expect-min: page-faults-protection 1

.equ NPROC, 2
.include "kernel/kernel.s"

; --- process A: touches the kernel ---
.org USER_CODE
.phys USER_IMAGE
proc_a:
    lea rdi, [a_warning]
    call print
    mov rax, [KERNEL_BASE]      ; U/S=0 on the kernel's page: #PF, and the kernel kills A
    lea rdi, [a_wrong]
    call print
    xor edi, edi
    call exit

a_warning: .asciz "A: reading kernel memory at 0x10000\n"
a_wrong:   .asciz "A: the read succeeded (wrong!)\n"

; --- process B: minds its own business ---
.org USER_CODE
.phys USER_IMAGE + USER_IMAGE_STRIDE
proc_b:
    call yield                  ; let A run (and die) first
    lea rdi, [b_alive]
    call print
    xor edi, edi
    call exit

b_alive: .asciz "B: still running after A died\n"
