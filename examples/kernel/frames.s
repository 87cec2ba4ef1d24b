; frames.s — the physical frame allocator: hands out zeroed 4 KiB frames from FRAME_POOL.
; A bump allocator: simple to step through, and it never reuses a frame, so a stale TLB entry
; (see sloppy-tlb) still points at the old data instead of at somebody else's page.

; alloc_frame: rax = the guest-physical address of a fresh zeroed frame, or 0 when none is left.
alloc_frame:
    mov rax, [next_free_frame]
    cmp rax, FRAME_POOL_END
    jae .empty
    lea rdi, [rax + PAGE_SIZE]
    mov [next_free_frame], rdi
    push rax
    mov rdi, rax
    call zero_frame
    pop rax
    ret
.empty:
    xor eax, eax
    ret

; zero_frame: clear the 4 KiB frame at rdi. The kernel reaches it through its 1:1 mapping.
; A frame must be zeroed before a process sees it, or it could read another's old data.
zero_frame:
    mov ecx, PAGE_SIZE / 8
.loop:
    mov qword [rdi], 0
    add rdi, 8
    dec ecx
    jnz .loop
    ret

.align 8
next_free_frame: .qword FRAME_POOL
