; ulib.s — the user library: one page of code that every process maps read-only at ULIB_VA
; (the same guest-physical frame in each address space, like a shared library).
; Calling convention: arguments in rdi, rsi; result in rax; rax, rcx, rdx, rsi, rdi may change.

.org ULIB_VA
.phys ULIB_PHYS

; exit(rdi = status): end this process. Never returns.
exit:
    mov eax, SYS_EXIT
    int 0x80

; write(rdi = buffer, rsi = length): put bytes on the console.
write:
    mov eax, SYS_WRITE
    int 0x80
    ret

; map_page(rdi = page): back the page with a fresh zeroed frame. rax = 0, or -1.
map_page:
    mov eax, SYS_MAP
    int 0x80
    ret

; unmap_page(rdi = page, rsi = flags): remove the page. flags = UNMAP_SLOPPY skips INVLPG.
unmap_page:
    mov eax, SYS_UNMAP
    int 0x80
    ret

; yield(): let the next process run now.
yield:
    mov eax, SYS_YIELD
    int 0x80
    ret

; print(rdi = zero-terminated string).
print:
    mov rsi, rdi
.find_end:
    cmp byte [rsi], 0
    je .found
    inc rsi
    jmp .find_end
.found:
    sub rsi, rdi                ; the length
    jmp write

; print_newline().
print_newline:
    lea rdi, [ulib_newline]
    mov esi, 1
    jmp write

; print_dec(rdi = unsigned value): in decimal.
print_dec:
    sub rsp, 32                 ; a buffer on the stack, filled from its end
    lea rsi, [rsp + 32]
    mov rax, rdi
    mov ecx, 10
.digit:
    xor edx, edx
    div rcx                     ; rax = value / 10, rdx = the next digit
    add dl, '0'
    dec rsi
    mov [rsi], dl
    test rax, rax
    jnz .digit
    mov rdi, rsi
    lea rsi, [rsp + 32]
    sub rsi, rdi                ; the length
    call write
    add rsp, 32
    ret

; print_hex(rdi = value): as "0x..." without leading zeros.
print_hex:
    push rbx
    sub rsp, 32
    mov rbx, rdi
    mov byte [rsp], '0'
    mov byte [rsp + 1], 'x'
    lea rdi, [rsp + 2]          ; where the next digit goes
    mov ecx, 60                 ; shift count of the highest digit
.skip_zeros:
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
    mov al, [ulib_hex_digits + rax]
    mov [rdi], al
    inc rdi
    sub ecx, 4
    jns .digits
    mov rsi, rdi
    sub rsi, rsp                ; the length
    mov rdi, rsp
    call write
    add rsp, 32
    pop rbx
    ret

ulib_hex_digits: .ascii "0123456789abcdef"
ulib_newline:    .byte 10
