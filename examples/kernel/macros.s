; macros.s — small macros the kernel repeats. Each expands to a handful of plain instructions,
; so single-stepping shows exactly what runs.

; Save every general register on the stack, so a handler may use them freely and the
; interrupted code gets them back untouched. The order fixes the TF_* offsets in layout.s.
.macro SAVE_REGS
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
.endm

; The mirror image of SAVE_REGS.
.macro RESTORE_REGS
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
.endm

; Print a kernel string (a label of an .asciz) on the console.
.macro KPRINT msg
    lea rsi, [\msg]
    call kputs
.endm

; Write a 64-bit constant to an MSR: wrmsr takes the index in ecx and the value in edx:eax.
.macro WRITE_MSR msr, value
    mov ecx, \msr
    mov eax, (\value) & 0xffffffff
    mov edx, (\value) >> 32
    wrmsr
.endm

; An exception entry stub for a vector where the CPU pushes no error code: push a 0 in its
; place so every trap frame has the same layout, then the vector number.
.macro TRAP_NOERR vec
trap_\vec:
    push 0
    push \vec
    jmp trap_common
.endm

; An entry stub for a vector where the CPU already pushed an error code.
.macro TRAP_ERR vec
trap_\vec:
    push \vec
    jmp trap_common
.endm
