; pagefault.s — demand paging. A process's heap and stack start out with no frames at all;
; the first touch of each page faults, and this handler gives it a zeroed frame and maps it.
; iretq then restarts the faulting instruction, which now finds the page present.

page_fault_handler:
    mov rax, cr2                ; the linear address that faulted
    test qword [rbx + TF_ERROR], PF_PRESENT
    jnz .violation              ; present but not allowed (e.g. a kernel page): no fix-up
    mov rdi, rax
    call in_demand_region
    test eax, eax
    jz .violation
.if GUEST_SWAP
    mov rdi, r12
    mov rsi, cr2
    call get_pte
    test eax, PTE_SWAPPED
    jnz swap_in_fault           ; swap.s: the page is on the guest disk
.endif
    call alloc_frame
    test rax, rax
    jz .out_of_memory
    or rax, PTE_USER_RW
    mov rdx, rax                ; the new PTE: frame | P | RW | US
    mov rdi, r12
    mov rsi, cr2
    call set_pte                ; not-present entries are never cached: no INVLPG needed
    jmp trap_return

.violation:
    test qword [rbx + TF_CS], 3
    jnz .segfault
    mov rax, cr2                ; the kernel faulted: on a user address only in sys_write
    cmp rax, USER_BASE
    jb kernel_panic
    cmp rax, USER_TOP
    jae kernel_panic
.segfault:                      ; the process touched memory it does not own: kill it
    call kput_proc
    KPRINT msg_segfault
    mov rax, cr2
    call kput_hex
    mov al, 10
    call kputc
    jmp kill_current

.out_of_memory:
    call kput_proc
    KPRINT msg_oom
    jmp kill_current

; in_demand_region: eax = 1 when the address rdi is in the heap or the stack region, else 0.
in_demand_region:
    xor eax, eax
    cmp rdi, HEAP_BASE
    jb .no
    cmp rdi, HEAP_END
    jb .yes
    cmp rdi, STACK_BASE
    jb .no
    cmp rdi, USER_STACK_TOP
    jae .no
.yes:
    mov eax, 1
.no:
    ret

msg_segfault: .asciz "segmentation fault at "
msg_oom:      .asciz "out of memory\n"
