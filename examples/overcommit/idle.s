; idle.s — an idle guest for the idle-tax experiment (docs/overcommit/experiments.md): process A
; writes PAGES heap pages once (page i holds i + 1), then computes for SPIN iterations of a
; tight loop that touches no memory — its pages stay allocated but idle, what the idle memory
; tax (Waldspurger 2002 §5.2, Fig. 7) takes back first. At the end it checks every page: the
; contents survive whatever the host reclaimed meanwhile (balloon, guest swap, VMM swap).
;
; Alone: node dist/cli.js run examples/overcommit/idle.s
; Against an active VM: examples/overcommit/idle-tax.json, or `vmem experiment b`.
;
; expect-exit: 0
; expect-console: idle: wrote 112 pages, now computing without touching them
; expect-console: idle: 112 pages intact after 2000000 idle iterations
; expect-not-console: corrupted

.equ NPROC, 1
.ifndef BALLOON
.equ BALLOON, 1
.endif
.ifndef GUEST_SWAP
.equ GUEST_SWAP, 1
.endif
.ifndef FRAME_POOL_PAGES
.equ FRAME_POOL_PAGES, 160
.endif
.include "../kernel/kernel.s"

.ifndef PAGES
.equ PAGES, 112
.endif
.ifndef SPIN
.equ SPIN, 2000000                  ; ~4 simulated seconds of the VM's own time (2 instructions each)
.endif
.if PAGES < 1 || PAGES > HEAP_PAGES
.error "PAGES must be 1..HEAP_PAGES"
.endif

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov ebx, HEAP_BASE
    mov ecx, 1
.touch:
    mov [rbx], rcx
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, PAGES
    jbe .touch
    lea rdi, [m_wrote]
    call print
    mov edi, PAGES
    call print_dec
    lea rdi, [m_computing]
    call print

    mov ecx, SPIN                   ; idle: registers only
.spin:
    dec ecx
    jnz .spin

    mov ebx, HEAP_BASE
    mov ecx, 1
.check:
    cmp [rbx], rcx
    jne .corrupt
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, PAGES
    jbe .check
    lea rdi, [m_idle]
    call print
    mov edi, PAGES
    call print_dec
    lea rdi, [m_intact]
    call print
    mov edi, SPIN
    call print_dec
    lea rdi, [m_iterations]
    call print
    xor edi, edi
    call exit
.corrupt:
    lea rdi, [m_corrupt]
    call print
    mov edi, 1
    call exit

m_wrote:      .asciz "idle: wrote "
m_computing:  .asciz " pages, now computing without touching them\n"
m_idle:       .asciz "idle: "
m_intact:     .asciz " pages intact after "
m_iterations: .asciz " idle iterations\n"
m_corrupt:    .asciz "idle: page corrupted\n"
