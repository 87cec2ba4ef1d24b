; boot.s — what the kernel does from reset to the first user instruction. The reset state
; (docs/machine.md): CPL 0, paging off, interrupts off, every register 0 — even rsp.

_start:
    mov rsp, KSTACK_TOP         ; a stack before the first call
    call idt_init
    call create_processes       ; page tables and trap frames for NPROC processes
    call enable_paging          ; paging32.s or paging64.s
    WRITE_MSR MSR_RSP0, KSTACK_TOP          ; traps from user mode land on this stack
    WRITE_MSR MSR_TIMER_PERIOD, TIMER_PERIOD ; preemption: vector 32 every TIMER_PERIOD instructions
    KPRINT msg_boot
    KPRINT msg_paging           ; which paging variant this is (paging32.s / paging64.s)
.if GUEST_SWAP
    call swap_init              ; swap.s: find the guest disk
.endif
.if BALLOON
    call balloon_init           ; balloon.s: load the driver now, or say when it will load
.endif
    jmp start_first_process

msg_boot: .asciz "kernel: booted, "
