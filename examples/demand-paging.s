; demand-paging.s — the heap has no frames until it is touched: writing one byte in each
; of 8 heap pages takes 8 page faults, each fixed by the kernel with a fresh zeroed frame.
; A second pass over the same pages takes none: the PTEs are present now.
;
; What to look at in the debugger:
;   - break on page faults: CR2 is the heap address, the error code is 0x6 (not present,
;     write, user); step page_fault_handler → in_demand_region → alloc_frame → set_pte
;   - after set_pte the PTE holds frame | 0x7, and iretq re-runs the faulting mov
;   - watch the frame allocator's next_free_frame advance by 0x1000 per fault
;   - the first fault of all is the user stack (the first `call`), at 0x5ffff8
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console: A: touched 8 heap pages
; expect-console: A: sum of the 8 values = 36
; expect-exact: page-faults 9
; expect-exact: page-faults-not-present 9

.equ NPROC, 1
.include "kernel/kernel.s"

.equ PAGES, 8

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov ebx, HEAP_BASE          ; pass 1: write i+1 into the first qword of heap page i
    mov ecx, 1
.touch:
    mov [rbx], rcx              ; not present → #PF → the kernel maps a frame → retried
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, PAGES
    jbe .touch
    lea rdi, [a_touched]
    call print

    mov ebx, HEAP_BASE          ; pass 2: read them back; no faults this time
    xor r12d, r12d
    mov ecx, PAGES
.sum:
    add r12, [rbx]
    add rbx, PAGE_SIZE
    dec ecx
    jnz .sum
    lea rdi, [a_sum]
    call print
    mov rdi, r12
    call print_dec              ; 1 + 2 + ... + 8 = 36
    call print_newline
    xor edi, edi
    call exit

a_touched: .asciz "A: touched 8 heap pages\n"
a_sum:     .asciz "A: sum of the 8 values = "
