; syscall.s — the system calls, entered by `int 0x80` from user mode.
; Arguments arrive in the trap frame's rdi and rsi, the number in rax; the result goes back
; into the frame's rax, which trap_return loads into the process's rax.

syscall_handler:
    mov rax, [rbx + TF_RAX]
    cmp rax, SYS_EXIT
    je sys_exit
    cmp rax, SYS_WRITE
    je sys_write
    cmp rax, SYS_MAP
    je sys_map
    cmp rax, SYS_UNMAP
    je sys_unmap
    cmp rax, SYS_YIELD
    je sys_yield
    jmp syscall_fail            ; an unknown number

; exit(status): the process ends; the others carry on.
sys_exit:
    call kput_proc
    KPRINT msg_exit
    mov rax, [rbx + TF_RDI]
    call kput_hex
    mov al, 10
    call kputc
    jmp kill_current

; write(buffer, length): copy the bytes to the console. The buffer must lie in the user
; window; a page that is not there yet is demand-paged like any other touch.
sys_write:
    mov rsi, [rbx + TF_RDI]
    mov rcx, [rbx + TF_RSI]
    mov rdi, rsi
    call check_user_range
    test eax, eax
    jz syscall_fail
.loop:
    test rcx, rcx
    jz syscall_ok
    mov al, [rsi]
    out PORT_CONSOLE, al
    inc rsi
    dec rcx
    jmp .loop

; map(page): give the page a fresh zeroed frame. A page that is already mapped is an error.
sys_map:
    mov rsi, [rbx + TF_RDI]
    call check_user_page
    test eax, eax
    jz syscall_fail
    mov rdi, r12
    call get_pte
    test eax, PTE_P
    jnz syscall_fail
    call alloc_frame
    test rax, rax
    jz syscall_fail
    or rax, PTE_USER_RW
    mov rdx, rax
    mov rdi, r12
    mov rsi, [rbx + TF_RDI]
    call set_pte                ; not present → present: nothing stale can be in the TLB
    jmp syscall_ok

; unmap(page, flags): remove the page's mapping. The TLB may still hold the old translation,
; so the kernel must INVLPG it — unless the caller asks for the UNMAP_SLOPPY bug. The frame is
; kept (a stale translation then still reaches the old data, not somebody else's page) unless
; the caller passes UNMAP_FREE: then, after the INVLPG, a pool frame goes back to the allocator
; (its free stack: handed out again first, contents and machine frame intact — the free memory a
; balloon takes, docs/overcommit/balloon.md) and a page on the guest disk gives its slot back.
sys_unmap:
    mov rsi, [rbx + TF_RDI]
    call check_user_page
    test eax, eax
    jz syscall_fail
.if PV
    test qword [rbx + TF_RSI], UNMAP_FREE
    jnz syscall_fail            ; a PV PTE holds a machine frame: no m2p to name the guest's frame
.endif
    mov rdi, r12
    call get_pte
    mov r13, rax                ; r13 = the old PTE
    mov rdi, r12
    mov rsi, [rbx + TF_RDI]
    xor edx, edx
    call set_pte                ; PTE = 0: not present
    test qword [rbx + TF_RSI], UNMAP_SLOPPY
    jnz syscall_ok              ; the bug: the old translation stays in the TLB
    mov rax, [rbx + TF_RDI]
    invlpg [rax]                ; drop this page's translation from the TLB
    test qword [rbx + TF_RSI], UNMAP_FREE
    jz syscall_ok
    test r13d, PTE_P
    jz .not_present
    mov edi, r13d
    and edi, 0xfffff000         ; the frame (the pool lies below 4 MiB)
    cmp rdi, FRAME_POOL
    jb syscall_ok
    cmp rdi, FRAME_POOL_END
    jae syscall_ok
    call free_frame
    jmp syscall_ok
.not_present:
.if GUEST_SWAP
    test r13d, PTE_SWAPPED
    jz syscall_ok
    mov rdi, r13
    shr rdi, 12
    call swap_slot_free
.endif
    jmp syscall_ok

; yield(): give up the rest of the time slice.
sys_yield:
    call save_context
    jmp schedule

syscall_ok:
    mov qword [rbx + TF_RAX], 0
    jmp trap_return
syscall_fail:
    mov qword [rbx + TF_RAX], -1
    jmp trap_return

; check_user_range: eax = 1 when [rdi, rdi + rcx) lies inside the user window, else 0.
check_user_range:
    xor eax, eax
    cmp rdi, USER_BASE
    jb .no
    cmp rcx, USER_TOP - USER_BASE
    ja .no
    lea rdx, [rdi + rcx]
    cmp rdx, USER_TOP
    ja .no
    mov eax, 1
.no:
    ret

; check_user_page: eax = 1 when rsi is a page-aligned address inside the user window, else 0.
check_user_page:
    xor eax, eax
    test esi, PAGE_SIZE - 1
    jnz .no
    cmp rsi, USER_BASE
    jb .no
    cmp rsi, USER_TOP
    jae .no
    mov eax, 1
.no:
    ret

msg_exit: .asciz "exited with status "
