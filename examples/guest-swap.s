; guest-swap.s — the guest's own swapper: the kernel manages only 16 frames (FRAME_POOL_PAGES)
; and process A uses 40 heap pages, so the allocator runs dry and the kernel pages user memory
; out to its disk (a clock over the PTEs' accessed bits picks the victim), and back in on the
; next touch. Every page's contents survive the round trips.
;
; What to look at in the debugger:
;   - break on 'swap-out' / 'swap-in' events (by: guest): the page, the disk slot, the latency
;   - step swap_out_one: get_pte, the accessed bit (a second chance clears it and runs INVLPG),
;     the disk write (`out 0xd2`), the PTE becoming slot << 12 | PTE_SWAPPED (not present)
;   - a fault on such a PTE goes to swap_in_fault: a frame, the disk read, the PTE present again
;   - each disk I/O makes the VM wait 10 ms of simulated time (stall cycles)
;   - under a hypervisor that also swaps, a page the guest writes out may be one the VMM swapped
;     already: the 'double-paging' event (docs/overcommit/guest-swap.md)
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console: swap: on, 1024 slots on the guest disk, 16 frames of memory
; expect-console: A: wrote 40 pages
; expect-console: A: pass 1: 40 pages intact, sum = 820
; expect-console: A: pass 2: 40 pages intact, sum = 820
; expect-console: kernel: all processes exited
; expect-console: kernel: swapped out 107 pages, swapped in 82
; expect-not-console: A: page corrupted
; expect-min: page-faults 100
; expect-min: invlpg 40

.equ NPROC, 1
.equ GUEST_SWAP, 1
.equ FRAME_POOL_PAGES, 16
.include "kernel/kernel.s"

.equ PAGES, 40

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov ebx, HEAP_BASE              ; page i: i+1 in its first qword, 3(i+1) in its last
    mov ecx, 1
.write:
    mov [rbx], rcx
    lea rax, [rcx + rcx*2]
    mov [rbx + PAGE_SIZE - 8], rax
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, PAGES
    jbe .write
    lea rdi, [a_wrote]
    call print

    mov r13d, 1                     ; two passes over all 40: each one swaps most of them in
.pass:
    mov ebx, HEAP_BASE
    xor r12d, r12d
    mov ecx, 1
.check:
    cmp [rbx], rcx
    jne .corrupt
    lea rax, [rcx + rcx*2]
    cmp [rbx + PAGE_SIZE - 8], rax
    jne .corrupt
    add r12, rcx
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, PAGES
    jbe .check
    lea rdi, [a_pass]
    call print
    mov rdi, r13
    call print_dec
    lea rdi, [a_intact]
    call print
    mov rdi, r12
    call print_dec                  ; 1 + 2 + ... + 40 = 820
    call print_newline
    inc r13d
    cmp r13d, 2
    jbe .pass
    xor edi, edi
    call exit
.corrupt:
    lea rdi, [a_corrupt]
    call print
    mov edi, 1
    call exit

a_wrote:   .asciz "A: wrote 40 pages\n"
a_pass:    .asciz "A: pass "
a_intact:  .asciz ": 40 pages intact, sum = "
a_corrupt: .asciz "A: page corrupted\n"
