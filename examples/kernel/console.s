; console.s — kernel output on the debug console (port 0xE9, one byte per `out`).
; These routines clobber rax and rsi only, so handlers can print between other work.

; kputs: print the zero-terminated string at rsi.
kputs:
.loop:
    mov al, [rsi]
    test al, al
    jz .done
    out PORT_CONSOLE, al
    inc rsi
    jmp .loop
.done:
    ret

; kputc: print the character in al.
kputc:
    out PORT_CONSOLE, al
    ret

; kput_hex: print rax as "0x..." without leading zeros (an address reads better that way).
kput_hex:
    push rbx
    push rcx
    mov rbx, rax
    mov al, '0'
    out PORT_CONSOLE, al
    mov al, 'x'
    out PORT_CONSOLE, al
    mov ecx, 60                 ; shift count of the highest hex digit
.skip_zeros:                    ; find the first non-zero digit (the last one always prints)
    mov rax, rbx
    shr rax, cl
    and eax, 0xf
    jnz .digits
    sub ecx, 4
    jnz .skip_zeros
.digits:
    mov rax, rbx
    shr rax, cl
    and eax, 0xf
    mov al, [hex_digits + rax]
    out PORT_CONSOLE, al
    sub ecx, 4
    jns .digits                 ; stop after the digit at shift 0
    pop rcx
    pop rbx
    ret

; kput_dec: print rax in decimal (counts read better that way).
kput_dec:
    push rcx
    push rdx
    push rbx
    mov rbx, rsp                ; digits go below rbx, last digit first
    sub rsp, 24
    mov rsi, rbx
    mov ecx, 10
.digit:
    xor edx, edx
    div rcx                     ; rax = value / 10, rdx = the next digit
    add dl, '0'
    dec rsi
    mov [rsi], dl
    test rax, rax
    jnz .digit
.print:
    mov al, [rsi]
    out PORT_CONSOLE, al
    inc rsi
    cmp rsi, rbx
    jb .print
    mov rsp, rbx
    pop rbx
    pop rdx
    pop rcx
    ret

; kput_proc: print "process X: " for the process table entry at r12.
kput_proc:
    KPRINT msg_process
    mov al, [r12 + P_NAME]
    out PORT_CONSOLE, al
    mov al, ':'
    out PORT_CONSOLE, al
    mov al, ' '
    out PORT_CONSOLE, al
    ret

hex_digits:    .ascii "0123456789abcdef"
msg_process:   .asciz "process "
