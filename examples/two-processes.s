; two-processes.s — preemptive multitasking: processes A and B each print five numbered
; lines, spinning in between, and the timer interrupt switches between them.
;
; What to look at in the debugger:
;   - break on CR3 writes: every switch in switch_to (sched.s) loads the other process's
;     PML4 (PAGING=32: page directory), and the TLB's non-global entries are flushed with it
;   - both processes run at the same gva 0x400000, yet fetch different bytes: the same vpn
;     maps to guest-physical 0x800000 in A and 0x900000 in B (compare their page tables)
;   - the user library at gva 0x410000 is one guest-physical frame mapped in both
;   - timer_handler → save_context copies the trap frame into the process table
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; (The exact interleaving follows from TIMER_PERIOD; the test only pins what preemption
; guarantees: B starts before A is done.)
; expect-console: A: line 1
; expect-console: B: line 1
; expect-console: A: line 5
; expect-console: kernel: all processes exited
; expect-min: cr3-writes 8
; expect-min: timer-interrupts 8

.equ NPROC, 2
.equ TIMER_PERIOD, 2000
.include "kernel/kernel.s"

; --- process A ---
.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov r12d, 1                 ; the line number
.next_line:
    lea eax, [r12 + '0']        ; patch the digit into the line, then print it with one
    mov [a_digit], al           ; write: a system call is never interrupted half-way
    lea rdi, [a_line]
    call print
    mov ecx, 3000               ; spin longer than a time slice, so the timer preempts A
.spin:
    dec ecx
    jnz .spin
    inc r12d
    cmp r12d, 5
    jbe .next_line
    xor edi, edi
    call exit

a_line:  .ascii "A: line "
a_digit: .asciz "0\n"

; --- process B: the same code at the same virtual addresses, in other frames ---
.org USER_CODE
.phys USER_IMAGE + USER_IMAGE_STRIDE
proc_b:
    mov r12d, 1
.next_line:
    lea eax, [r12 + '0']
    mov [b_digit], al
    lea rdi, [b_line]
    call print
    mov ecx, 3000
.spin:
    dec ecx
    jnz .spin
    inc r12d
    cmp r12d, 5
    jbe .next_line
    xor edi, edi
    call exit

b_line:  .ascii "B: line "
b_digit: .asciz "0\n"
