; idt.s — the interrupt descriptor table and the one path every trap takes into the kernel.
;
; A trap from user mode (CPL 3) switches to the kernel stack in MSR RSP0 and pushes SS, RSP,
; RFLAGS, CS, RIP (and an error code for some exceptions). The stub pushes the vector,
; trap_common pushes every register: that is the trap frame (TF_* in layout.s). Handlers
; read and change the frame, and trap_return pops it back into the CPU.

; idt_init: fill the gates the kernel uses and load the IDT register.
idt_init:
    xor ebx, ebx                ; vectors 0..31: CPU exceptions, reachable only by the CPU
.exceptions:
    mov rdi, rbx
    mov rsi, [exception_stubs + rbx*8]
    mov edx, GATE_KERNEL
    call set_gate
    inc ebx
    cmp ebx, 32
    jb .exceptions
    mov edi, VEC_TIMER          ; the timer: an external interrupt, DPL 0 is fine
    lea rsi, [trap_32]
    mov edx, GATE_KERNEL
    call set_gate
    mov edi, VEC_SYSCALL        ; int 0x80: DPL 3, or user code would get #GP instead
    lea rsi, [trap_128]
    mov edx, GATE_USER
    call set_gate
    lidt [idt_pointer]
    ret

; set_gate: write the 16-byte gate for vector rdi → handler rsi, type/attributes dl.
set_gate:
    shl rdi, 4
    add rdi, idt
    mov [rdi], si               ; offset 15:0
    mov word [rdi + 2], 0x08    ; kernel code selector
    mov byte [rdi + 4], 0       ; no IST
    mov [rdi + 5], dl           ; P, DPL, type
    mov rax, rsi
    shr rax, 16
    mov [rdi + 6], ax           ; offset 31:16
    shr rax, 16
    mov [rdi + 8], eax          ; offset 63:32
    mov dword [rdi + 12], 0
    ret

; The entry stubs: the CPU pushes an error code for vectors 8, 10-14 and 17 only.
    TRAP_NOERR 0
    TRAP_NOERR 1
    TRAP_NOERR 2
    TRAP_NOERR 3
    TRAP_NOERR 4
    TRAP_NOERR 5
    TRAP_NOERR 6
    TRAP_NOERR 7
    TRAP_ERR 8
    TRAP_NOERR 9
    TRAP_ERR 10
    TRAP_ERR 11
    TRAP_ERR 12
    TRAP_ERR 13
    TRAP_ERR 14
    TRAP_NOERR 15
    TRAP_NOERR 16
    TRAP_ERR 17
    TRAP_NOERR 18
    TRAP_NOERR 19
    TRAP_NOERR 20
    TRAP_NOERR 21
    TRAP_NOERR 22
    TRAP_NOERR 23
    TRAP_NOERR 24
    TRAP_NOERR 25
    TRAP_NOERR 26
    TRAP_NOERR 27
    TRAP_NOERR 28
    TRAP_NOERR 29
    TRAP_NOERR 30
    TRAP_NOERR 31
    TRAP_NOERR 32
    TRAP_NOERR 128

; trap_common: save the registers and send the trap to its handler.
; Handlers run with rbx = the trap frame and r12 = the current process, and end with
; `jmp trap_return` (rsp back at the frame) or by scheduling another process.
trap_common:
    SAVE_REGS
    mov rbx, rsp
    mov r12, [current_proc]
    mov rax, [rbx + TF_VECTOR]
    cmp rax, VEC_PF
    je page_fault_handler       ; may come from the kernel too (a user buffer in sys_write)
    test qword [rbx + TF_CS], 3
    jz kernel_panic             ; any other trap from the kernel is a kernel bug
    cmp rax, VEC_TIMER
    je timer_handler
    cmp rax, VEC_SYSCALL
    je syscall_handler
    jmp user_exception

; trap_return: pop the trap frame at rsp back into the CPU and resume the interrupted code.
trap_return:
    RESTORE_REGS
    add rsp, 16                 ; drop the vector and the error code
    iretq

; user_exception: a user process broke a rule the kernel does not fix up (#GP, #UD, #DE...).
user_exception:
    call kput_proc
    mov rax, [rbx + TF_VECTOR]
    mov rsi, [exception_names + rax*8]
    call kputs
    KPRINT msg_at_rip
    mov rax, [rbx + TF_RIP]
    call kput_hex
    mov al, 10
    call kputc
    jmp kill_current

; kernel_panic: the kernel itself faulted; report and stop the machine with status 1.
kernel_panic:
    KPRINT msg_panic
    mov rax, [rbx + TF_VECTOR]
    mov rsi, [exception_names + rax*8]
    call kputs
    KPRINT msg_at_rip
    mov rax, [rbx + TF_RIP]
    call kput_hex
    KPRINT msg_cr2
    mov rax, cr2
    call kput_hex
    mov al, 10
    call kputc
    mov al, 1
    out PORT_EXIT, al

.align 8
exception_stubs:
    .qword trap_0, trap_1, trap_2, trap_3, trap_4, trap_5, trap_6, trap_7
    .qword trap_8, trap_9, trap_10, trap_11, trap_12, trap_13, trap_14, trap_15
    .qword trap_16, trap_17, trap_18, trap_19, trap_20, trap_21, trap_22, trap_23
    .qword trap_24, trap_25, trap_26, trap_27, trap_28, trap_29, trap_30, trap_31
exception_names:
    .qword name_de, name_db, name_nmi, name_bp, name_of, name_br, name_ud, name_nm
    .qword name_df, name_other, name_ts, name_np, name_ss, name_gp, name_pf, name_other
    .qword name_mf, name_ac, name_mc, name_xm, name_other, name_other, name_other, name_other
    .qword name_other, name_other, name_other, name_other, name_other, name_other, name_other, name_other
    .qword name_other               ; 32: the timer never gets here, but keep the table total

name_de:    .asciz "divide error (#DE)"
name_db:    .asciz "debug exception (#DB)"
name_nmi:   .asciz "NMI"
name_bp:    .asciz "breakpoint (#BP)"
name_of:    .asciz "overflow (#OF)"
name_br:    .asciz "bound range (#BR)"
name_ud:    .asciz "invalid opcode (#UD)"
name_nm:    .asciz "device not available (#NM)"
name_df:    .asciz "double fault (#DF)"
name_ts:    .asciz "invalid TSS (#TS)"
name_np:    .asciz "segment not present (#NP)"
name_ss:    .asciz "stack fault (#SS)"
name_gp:    .asciz "general protection fault (#GP)"
name_pf:    .asciz "page fault (#PF)"
name_mf:    .asciz "x87 error (#MF)"
name_ac:    .asciz "alignment check (#AC)"
name_mc:    .asciz "machine check (#MC)"
name_xm:    .asciz "SIMD exception (#XM)"
name_other: .asciz "exception"
msg_at_rip: .asciz " at rip "
msg_panic:  .asciz "kernel panic: "
msg_cr2:    .asciz ", cr2 "

; The IDT register image (2-byte limit, 8-byte base) and the table itself.
.align 8
idt_pointer:
    .word 256 * 16 - 1
    .qword idt
.align 4096
idt:
    .space 256 * 16
