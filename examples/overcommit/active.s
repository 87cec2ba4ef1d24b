; active.s — an active guest for the overcommit experiments (docs/overcommit/experiments.md):
; process A writes COLD "initialisation" pages once (never used again: what a guest can give up
; cheaply) and HOT pages it keeps re-writing, one pass over all of them every WORK loop
; iterations, ROUNDS times. RAMP iterations between first touches make the guest grow slowly
; (as a real workload fills its memory), so a balloon polled once a second can keep up; the first
; RAMP_AFTER pages (cold ones first) are written at full speed — the guest's start-up — and only
; the rest grows at the RAMP pace. FREED pages, written after the hot ones and then unmapped with
; UNMAP_FREE, are memory the guest used and gave back to its kernel (a finished start-up job):
; free to the guest, still backed by machine frames the VMM cannot tell from used ones — what a
; balloon hands over first. DELAY iterations of nothing before anything else: a VM whose workload
; starts later (as one powered on later).
; At the end it checks every hot page (each holds its index + ROUNDS) and, with CHECK_COLD=1,
; every cold page: the contents survive whatever the host did (balloon, sharing, swapping).
;
; Alone: node dist/cli.js run examples/overcommit/active.s
; Under pressure: the scenarios examples/overcommit/idle-tax.json, balloon-vs-swap.json,
; double-paging.json, or `vmem experiment b|c|d`.
;
; expect-exit: 0
; expect-console: active: wrote 64 cold pages and 48 hot pages
; expect-console: active: 48 hot pages intact after 200 rounds
; expect-console: active: 64 cold pages intact
; expect-not-console: corrupted

.equ NPROC, 1
.ifndef BALLOON
.equ BALLOON, 1                     ; the balloon driver (BALLOON=0: none; the VMM must swap)
.endif
.ifndef GUEST_SWAP
.equ GUEST_SWAP, 1                  ; the guest's own swapper: what the balloon makes it use
.endif
.ifndef FRAME_POOL_PAGES
.equ FRAME_POOL_PAGES, 160          ; the guest's memory: its pages and some free ones
.endif
.include "../kernel/kernel.s"

.ifndef HOT
.equ HOT, 48                        ; pages re-written every round (the working set)
.endif
.ifndef COLD
.equ COLD, 64                       ; pages written once at start, never touched again
.endif
.ifndef ROUNDS
.equ ROUNDS, 200
.endif
.ifndef WORK
.equ WORK, 2000                     ; loop iterations of computation between two rounds
.endif
.ifndef RAMP
.equ RAMP, 0                        ; loop iterations after each first touch
.endif
.ifndef RAMP_AFTER
.equ RAMP_AFTER, 0                  ; pages written before the ramp starts (cold first, then hot)
.endif
.ifndef FREED
.equ FREED, 0                       ; pages written after the hot ones, then freed
.endif
.ifndef DELAY
.equ DELAY, 0                       ; loop iterations before the program starts
.endif
.ifndef CHECK_COLD
.equ CHECK_COLD, 1
.endif
.if HOT + COLD + FREED > HEAP_PAGES || HOT < 1
.error "HOT (≥ 1) + COLD + FREED pages must fit the heap (HEAP_PAGES)"
.endif

.equ HOT_BASE, HEAP_BASE + COLD * PAGE_SIZE
.equ FREED_BASE, HOT_BASE + HOT * PAGE_SIZE

.org USER_CODE
.phys USER_IMAGE
proc_a:
.if DELAY
    mov ecx, DELAY
.delay:
    dec ecx
    jnz .delay
.endif
    mov ebx, HEAP_BASE              ; cold page j: 7j+1 first, j last
    xor ecx, ecx
.cold:
    cmp ecx, COLD
    jae .cold_done
    lea rax, [rcx*8]
    sub rax, rcx
    inc rax
    mov [rbx], rax
    mov [rbx + PAGE_SIZE - 8], rcx
    call ramp
    add rbx, PAGE_SIZE
    inc ecx
    jmp .cold
.cold_done:
    mov ebx, HOT_BASE               ; hot page i: i
    xor ecx, ecx
.hot:
    mov [rbx], rcx
    call ramp
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, HOT
    jb .hot
    lea rdi, [m_wrote]
    call print
    mov edi, COLD
    call print_dec
    lea rdi, [m_and]
    call print
    mov edi, HOT
    call print_dec
    lea rdi, [m_hot_pages]
    call print
.if FREED
    mov ebx, FREED_BASE             ; used once, then given back to the kernel
    xor ecx, ecx
.freed:
    mov [rbx], rcx
    call ramp
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, FREED
    jb .freed
    mov ebx, FREED_BASE
    mov r12d, FREED
.free:
    mov rdi, rbx
    mov esi, UNMAP_FREE
    call unmap_page
    test rax, rax
    jnz .unmap_failed
    add rbx, PAGE_SIZE
    dec r12d
    jnz .free
    lea rdi, [m_freed]
    call print
    mov edi, FREED
    call print_dec
    lea rdi, [m_freed_pages]
    call print
.endif

    mov r13d, ROUNDS
.round:
    mov ebx, HOT_BASE               ; one pass: every hot page re-written
    mov ecx, HOT
.pass:
    inc qword [rbx]
    add rbx, PAGE_SIZE
    dec ecx
    jnz .pass
    mov ecx, WORK                   ; computation that touches no memory
.work:
    dec ecx
    jnz .work
    dec r13d
    jnz .round

    mov ebx, HOT_BASE
    xor ecx, ecx
.check_hot:
    lea rax, [rcx + ROUNDS]
    cmp [rbx], rax
    jne .corrupt
    add rbx, PAGE_SIZE
    inc ecx
    cmp ecx, HOT
    jb .check_hot
    lea rdi, [m_hot]
    call print
    mov edi, HOT
    call print_dec
    lea rdi, [m_intact_after]
    call print
    mov edi, ROUNDS
    call print_dec
    lea rdi, [m_rounds]
    call print
.if CHECK_COLD
    mov ebx, HEAP_BASE
    xor ecx, ecx
.check_cold:
    cmp ecx, COLD
    jae .cold_ok
    lea rax, [rcx*8]
    sub rax, rcx
    inc rax
    cmp [rbx], rax
    jne .corrupt
    cmp [rbx + PAGE_SIZE - 8], rcx
    jne .corrupt
    add rbx, PAGE_SIZE
    inc ecx
    jmp .check_cold
.cold_ok:
    lea rdi, [m_cold]
    call print
    mov edi, COLD
    call print_dec
    lea rdi, [m_cold_intact]
    call print
.endif
    xor edi, edi
    call exit
.corrupt:
    lea rdi, [m_corrupt]
    call print
    mov edi, 1
    call exit
.unmap_failed:
    lea rdi, [m_unmap_failed]
    call print
    mov edi, 2
    call exit

; ramp: RAMP iterations of nothing once RAMP_AFTER pages are written (keeps rcx).
ramp:
.if RAMP
    inc qword [ramp_pages]
    cmp qword [ramp_pages], RAMP_AFTER
    jbe .fast
    push rcx
    mov ecx, RAMP
.spin:
    dec ecx
    jnz .spin
    pop rcx
.fast:
.endif
    ret

m_wrote:        .asciz "active: wrote "
m_and:          .asciz " cold pages and "
m_hot_pages:    .asciz " hot pages\n"
m_hot:          .asciz "active: "
m_intact_after: .asciz " hot pages intact after "
m_rounds:       .asciz " rounds\n"
m_cold:         .asciz "active: "
m_cold_intact:  .asciz " cold pages intact\n"
m_corrupt:      .asciz "active: page corrupted\n"
m_unmap_failed: .asciz "active: unmap failed\n"
m_freed:        .asciz "active: used and freed "
m_freed_pages:  .asciz " pages\n"
.align 8
ramp_pages:     .qword 0            ; pages written so far (for RAMP_AFTER)
