; kernel32.s — the teaching kernel with 32-bit two-level paging (page directory + page tables, 4 MiB kernel page).
;
; An example includes it before its user programs:
;     .equ NPROC, 2                       ; optional settings, see layout.s
;     .include "kernel/kernel32.s"
;     .org USER_CODE                      ; process A: runs at gva 0x400000 ...
;     .phys USER_IMAGE                    ; ... and is loaded at guest-physical USER_IMAGE
;     ...                                 ; (process B: .phys USER_IMAGE + USER_IMAGE_STRIDE)
; User code calls the library in ulib.s (print, exit, map_page, ...), which enters the
; kernel with int 0x80.

.include "layout.s"
.include "macros.s"

.org KERNEL_BASE
.entry _start
.include "boot.s"
.include "paging32.s"
.include "idt.s"
.include "sched.s"
.include "syscall.s"
.include "pagefault.s"
.include "frames.s"
.include "console.s"

.include "ulib.s"
