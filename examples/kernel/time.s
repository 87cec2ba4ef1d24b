; time.s — the kernel's clock: timer ticks and whole seconds. The timer interrupts every
; TIMER_PERIOD instructions; HZ of them make a simulated second (layout.s). Only kernels with
; once-a-second work (the balloon driver's poll) count them: the tick costs a few instructions
; per interrupt, which would shift every other example's timing.

; kernel_tick: called by timer_handler. Counts the tick; on each new second runs the per-second work.
kernel_tick:
    mov rax, [ticks_this_second]
    inc rax
    cmp rax, HZ
    jae .second
    mov [ticks_this_second], rax
    ret
.second:
    mov qword [ticks_this_second], 0
    inc qword [seconds]
.if BALLOON
    call balloon_second
.endif
    ret

; kput_seconds: print "N s: " (the time since boot), for log lines.
kput_seconds:
    mov rax, [seconds]
    call kput_dec
    KPRINT msg_seconds
    ret

msg_seconds: .asciz " s: "

.align 8
ticks_this_second: .qword 0
seconds:           .qword 0     ; whole simulated seconds since boot
