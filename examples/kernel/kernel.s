; kernel.s — the teaching kernel. PAGING selects its paging variant:
;     PAGING = 64 (the default): 4-level paging — PML4, PDPT, PD, PT; long mode; 2 MiB kernel pages
;     PAGING = 32:               32-bit two-level paging — page directory + page tables; 4 MiB kernel page
; Choose it from outside: `vmem run FILE --define PAGING=32` (or "defines" in a launch
; configuration), or write `.equ PAGING, 32` before the include.
;     PV = 1 (with PAGING = 64): the paravirtual variant for `--mode paravirt` — the same 4-level
;                        layout, but the tables hold machine frames and change only by
;                        hypercall (paging-pv.s; docs/vmm/paravirt.md)
;
; An example includes it before its user programs:
;     .equ NPROC, 2                       ; optional settings, see layout.s
;     .include "kernel/kernel.s"
;     .org USER_CODE                      ; process A: runs at gva 0x400000 ...
;     .phys USER_IMAGE                    ; ... and is loaded at guest-physical USER_IMAGE
;     ...                                 ; (process B: .phys USER_IMAGE + USER_IMAGE_STRIDE)
; User code calls the library in ulib.s (print, exit, map_page, ...), which enters the
; kernel with int 0x80.

.ifndef PAGING
.equ PAGING, 64
.endif
.if PAGING != 32 && PAGING != 64
.error "PAGING must be 32 or 64"
.endif
.ifndef PV
.equ PV, 0
.endif
.if PV && PAGING != 64
.error "PV=1 (paravirtual paging) needs PAGING=64"
.endif

.include "layout.s"
.include "macros.s"
.if PV && GUEST_SWAP
.error "GUEST_SWAP=1 needs PV=0: a paravirtual kernel's PTEs hold machine frames, and it has no m2p table to find the guest page to write out"
.endif

.org KERNEL_BASE
.entry _start
.include "boot.s"
.if PV
.include "paging-pv.s"      ; paravirtual: tables by hypercall
.else
.include "paging32.s"       ; each paging file assembles only for its own PAGING value
.include "paging64.s"
.endif
.include "idt.s"
.include "sched.s"
.include "syscall.s"
.include "pagefault.s"
.include "frames.s"
.include "console.s"
.include "time.s"
.if BALLOON
.include "balloon.s"        ; the balloon driver (docs/overcommit/balloon.md)
.endif
.if GUEST_SWAP
.include "swap.s"           ; the guest's own swapper (docs/overcommit/guest-swap.md)
.endif

.include "ulib.s"
