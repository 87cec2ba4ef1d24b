; balloon.s — ballooning: the host asks for memory back and the guest's balloon driver gets it
; by allocating pages through the kernel's own frame allocator and handing their page numbers
; to the balloon device; the VMM frees the machine frames behind them. Later the host lowers
; its target and the driver takes pages back (deflate) and frees them.
;
; The host's targets come from the run: `; balloon-target:` below (seconds:pages), which the
; example tests pass as the run option devices.balloon.schedule — the stand-in for the memory
; scheduler, which sets BalloonDevice.target itself. From the command line:
;   node dist/cli.js run examples/balloon.s --mode shadow --balloon-target 0:300,1.5:100 The driver polls once a simulated second
; (HZ timer ticks; 1 s = 1,000,000 instructions) and inflates at most `rate` pages a second:
;   1 s  target 300: inflates 256 (its starting rate: the rest would come a second later)
;   2 s  the target is 100 now: deflates 156
;
; What to look at in the debugger:
;   - break on 'balloon' events: inflate / deflate with the balloon's size and the target
;   - the machine memory map: the VM's frames drop by 256 under shadow or nested paging (the
;     VMM freed them); the 156 given back get frames only when the guest touches them again
;   - step balloon_inflate: alloc_frame_raw, the list page, `out 0xb5` (INFLATE_LIST), RESULT
;   - run with --define BALLOON_DISABLED=1, BALLOON_LOAD_DELAY=5 or BALLOON=0 for the failure
;     modes, or BALLOON_MAX_PERCENT=20 for the guest's cap (docs/overcommit/balloon.md)
;
; balloon-target: 0:300 1.5:100
; expect-exit: 0
; expect-console: balloon: driver loaded, cap 332 of 512 pages
; expect-console: A: 32 heap pages written
; expect-console: balloon: 1 s: target 300, inflated 256, size 256
; expect-console: balloon: 2 s: target 100, deflated 156, size 100
; expect-console: A: heap intact, sum = 528
; expect-exact: page-faults 33

.equ NPROC, 1
.ifndef BALLOON
.equ BALLOON, 1                     ; --define BALLOON=0: the same guest without its driver
.endif
.include "kernel/kernel.s"

.equ PAGES, 32
.ifndef SPIN
.equ SPIN, 1_100_000                ; ~2.2 simulated seconds of work
.endif

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov ebx, HEAP_BASE              ; the process's own memory: 32 heap pages, page i holds i+1
    mov ecx, 1
.touch:
    mov [rbx], rcx
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, PAGES
    jbe .touch
    lea rdi, [a_written]
    call print

    mov ecx, SPIN                   ; meanwhile the balloon inflates and deflates
.spin:
    dec ecx
    jnz .spin

    mov ebx, HEAP_BASE              ; the balloon never took the process's pages
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
    call print_dec                  ; 1 + 2 + ... + 32 = 528
    call print_newline
    xor edi, edi
    call exit

a_written: .asciz "A: 32 heap pages written\n"
a_sum:     .asciz "A: heap intact, sum = "
