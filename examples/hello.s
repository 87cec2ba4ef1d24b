; hello.s — the smallest complete run: the kernel boots with 4-level paging (or 32-bit
; two-level paging with --define PAGING=32), starts one user process (A) at CPL 3, and A
; prints a line through the write system call.
;
; What to look at in the debugger:
;   - step over `mov cr0, rax` in enable_paging: from the next instruction on, addresses are
;     translated through process A's PML4 (CR3), and EFER.LMA turns on: long mode
;     (PAGING=32: through A's page directory; no long mode)
;   - the iretq in trap_return enters user mode (CS 0x1b) at gva 0x400000, which the page
;     table maps to guest-physical USER_IMAGE (0x800000)
;   - the first `push` / `call` faults: the user stack is demand-paged (a not-present #PF
;     at 0x5ffff8, fixed up by page_fault_handler)
;   - `int 0x80` in the user library (gva 0x410000) switches to the kernel stack (RSP0)
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console[64]: kernel: booted, 4-level paging
; expect-console[32]: kernel: booted, 32-bit two-level paging
; expect-console: hello from A
; expect-console: process A: exited with status 0x0
; expect-console: kernel: all processes exited
; expect-min: page-faults 1

.equ NPROC, 1
.include "kernel/kernel.s"

; --- process A ---
.org USER_CODE
.phys USER_IMAGE
proc_a:
    lea rdi, [a_hello]
    call print
    xor edi, edi
    call exit

a_hello: .asciz "hello from A\n"
