; frames.s — the physical frame allocator: hands out 4 KiB frames from FRAME_POOL (FRAME_POOL_PAGES
; of them: the memory the kernel manages, "the guest's memory" for the balloon's cap).
;
; Frames never handed out are taken in address order (a bump pointer); a freed frame goes on a
; free stack and is handed out again first. The free stack lives in kernel data, not in the free
; frames themselves: freeing a frame must not touch it (a page the balloon just gave back has no
; machine frame until the guest writes it, and writing a list link there would take one).
; Who frees: the balloon driver (deflate, pop), the swapper (a page written to disk) and unmap
; with UNMAP_FREE (after its INVLPG). A plain unmap does not free, so a stale TLB entry (see
; sloppy-tlb) still points at the old data instead of at somebody else's page. Handing out the
; most recently freed frame first is what real allocators do, and it gives a balloon backed
; pages: each frees a machine frame (docs/overcommit/balloon.md).

; alloc_frame: rax = the guest-physical address of a zeroed frame, or 0 when none is left.
alloc_frame:
    call alloc_frame_raw
    test rax, rax
    jz .empty
    push rax
    mov rdi, rax
    call zero_frame
    pop rax
.empty:
    ret

; alloc_frame_raw: rax = a frame with whatever it held, or 0. For the balloon, which never reads
; its pages. With GUEST_SWAP, an empty pool makes the swapper write a user page to disk first.
; Clobbers rax, rdi (and what swap_out_one clobbers: nothing else).
alloc_frame_raw:
    mov rax, [free_count]
    test rax, rax
    jz .bump
    dec rax
    mov [free_count], rax
    mov rax, [free_stack + rax*8]
    ret
.bump:
    mov rax, [next_free_frame]
    cmp rax, FRAME_POOL_END
    jae .empty
    lea rdi, [rax + PAGE_SIZE]
    mov [next_free_frame], rdi
    ret
.empty:
.if GUEST_SWAP
    call swap_out_one           ; rax = 1 when a page went to disk and its frame was freed
    test rax, rax
    jnz alloc_frame_raw
.endif
    xor eax, eax
    ret

; free_frame: give the frame at rdi back to the allocator. Only rax changes.
free_frame:
    mov rax, [free_count]
    mov [free_stack + rax*8], rdi
    inc rax
    mov [free_count], rax
    ret

; frames_available: rax = frames the allocator can hand out without swapping.
frames_available:
    mov rax, FRAME_POOL_END
    sub rax, [next_free_frame]
    shr rax, 12
    add rax, [free_count]
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
free_count:      .qword 0
free_stack:      .space FRAME_POOL_PAGES * 8     ; never more free frames than the pool holds
