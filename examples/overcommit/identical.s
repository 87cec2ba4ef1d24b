; identical.s — the guest of the identical-VMs sharing experiment (docs/overcommit/experiments.md,
; Waldspurger 2002 Fig. 4): every VM runs this same program. Its pages are of three kinds:
;   SAME  heap pages filled from a fixed pseudo-random sequence: the same in every VM, different
;         from each other (a program's libraries, read-only data, a file every VM reads)
;   ZERO  heap pages touched but left zero (memory a guest zeroed and has not used yet)
;   OWN   heap pages filled from a sequence seeded by VM_SEED: each VM's own data
; plus the kernel and the program image (identical code in every VM). Then it computes for
; ROUNDS rounds — reading the SAME pages (a read never breaks copy-on-write), updating its OWN
; pages — and checks everything: sharing never changes what a guest reads.
;
; Alone: node dist/cli.js run examples/overcommit/identical.s
; N of them: examples/overcommit/identical-4.json, or `vmem experiment a`.
;
; expect-exit: 0
; expect-console: identical: 40 same, 16 zero, 40 own pages written (seed 1)
; expect-console: identical: all pages intact after 100 rounds
; expect-not-console: corrupted

.equ NPROC, 1
.include "../kernel/kernel.s"

.ifndef SAME
.equ SAME, 40
.endif
.ifndef ZERO
.equ ZERO, 16
.endif
.ifndef OWN
.equ OWN, 40
.endif
.ifndef ROUNDS
.equ ROUNDS, 100
.endif
.ifndef WORK
.equ WORK, 2000                     ; loop iterations of computation per round
.endif
.ifndef VM_SEED
.equ VM_SEED, 1                     ; give each VM its own (the scenario's defines)
.endif
.if SAME + ZERO + OWN > HEAP_PAGES
.error "SAME + ZERO + OWN pages must fit the heap (HEAP_PAGES)"
.endif

.equ SAME_BASE, HEAP_BASE
.equ ZERO_BASE, SAME_BASE + SAME * PAGE_SIZE
.equ OWN_BASE, ZERO_BASE + ZERO * PAGE_SIZE
.equ LCG_MUL, 6364136223846793005
.equ LCG_INC, 1442695040888963407
.equ SAME_SEED, 0x5eed

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov edi, SAME_BASE              ; the same sequence in every VM
    mov esi, SAME
    mov eax, SAME_SEED
    call fill
    mov ebx, ZERO_BASE              ; zero pages: a read maps a zeroed frame
    mov ecx, ZERO
.zero:
    mov rax, [rbx]
    add rbx, PAGE_SIZE
    dec ecx
    jnz .zero
    mov edi, OWN_BASE               ; this VM's own sequence
    mov esi, OWN
    mov rax, [vm_seed]
    call fill
    lea rdi, [m_written]
    call print
    mov edi, SAME
    call print_dec
    lea rdi, [m_same]
    call print
    mov edi, ZERO
    call print_dec
    lea rdi, [m_zero]
    call print
    mov edi, OWN
    call print_dec
    lea rdi, [m_own]
    call print
    mov rdi, [vm_seed]
    call print_dec
    lea rdi, [m_close]
    call print

    mov r13d, ROUNDS
.round:
    mov ebx, SAME_BASE              ; read every SAME page
    mov ecx, SAME
    xor r12d, r12d
.read:
    add r12, [rbx]
    add rbx, PAGE_SIZE
    dec ecx
    jnz .read
    mov ebx, OWN_BASE               ; update every OWN page (its last qword counts the rounds)
    mov ecx, OWN
.update:
    inc qword [rbx + PAGE_SIZE - 8]
    add rbx, PAGE_SIZE
    dec ecx
    jnz .update
    mov ecx, WORK
.work:
    dec ecx
    jnz .work
    dec r13d
    jnz .round

    mov edi, SAME_BASE              ; check: SAME and OWN regenerate, ZERO still zero
    mov esi, SAME
    mov eax, SAME_SEED
    call verify
    test rax, rax
    jnz .corrupt
    mov edi, OWN_BASE
    mov esi, OWN
    mov rax, [vm_seed]
    call verify
    test rax, rax
    jnz .corrupt
    mov ebx, ZERO_BASE
    mov ecx, ZERO * PAGE_SIZE / 8
.zcheck:
    cmp qword [rbx], 0
    jne .corrupt
    add rbx, 8
    dec ecx
    jnz .zcheck
    mov ebx, OWN_BASE + PAGE_SIZE - 8
    mov ecx, OWN
.ccheck:
    cmp qword [rbx], ROUNDS
    jne .corrupt
    add rbx, PAGE_SIZE
    dec ecx
    jnz .ccheck
    lea rdi, [m_intact]
    call print
    mov edi, ROUNDS
    call print_dec
    lea rdi, [m_rounds]
    call print
    xor edi, edi
    call exit
.corrupt:
    lea rdi, [m_corrupt]
    call print
    mov edi, 1
    call exit

; fill(rdi = first page, rsi = pages, rax = seed): 8 qwords per page (every 512 bytes but the
; last qword, which the rounds use) from x ← x·LCG_MUL + LCG_INC.
fill:
    mov r8, LCG_MUL
    mov r9, LCG_INC
.page:
    xor ecx, ecx
.qword:
    imul rax, r8
    add rax, r9
    mov [rdi + rcx], rax
    add ecx, 512
    cmp ecx, PAGE_SIZE
    jb .qword
    add rdi, PAGE_SIZE
    dec esi
    jnz .page
    ret

; verify(rdi, rsi, rax) as fill, comparing: rax = 0 when every qword matches, else 1.
verify:
    mov r8, LCG_MUL
    mov r9, LCG_INC
.vpage:
    xor ecx, ecx
.vqword:
    imul rax, r8
    add rax, r9
    cmp [rdi + rcx], rax
    jne .bad
    add ecx, 512
    cmp ecx, PAGE_SIZE
    jb .vqword
    add rdi, PAGE_SIZE
    dec esi
    jnz .vpage
    xor eax, eax
    ret
.bad:
    mov eax, 1
    ret

m_written: .asciz "identical: "
m_same:    .asciz " same, "
m_zero:    .asciz " zero, "
m_own:     .asciz " own pages written (seed "
m_close:   .asciz ")\n"
m_intact:  .asciz "identical: all pages intact after "
m_rounds:  .asciz " rounds\n"
m_corrupt: .asciz "identical: page corrupted\n"

; The seed on a page of its own, so that VMs with different seeds differ only here (and in their
; OWN pages): their code pages stay identical.
.align 4096
vm_seed: .qword VM_SEED
