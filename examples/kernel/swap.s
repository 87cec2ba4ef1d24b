; swap.s — the guest's own swapper (GUEST_SWAP=1). When the frame allocator has nothing left, it
; writes a user page to the guest disk, marks its PTE "swapped" (not present, slot in the upper
; bits, PTE_SWAPPED) and frees the frame; the page's next touch faults, and the page-fault
; handler reads it back into a fresh frame. The victim is chosen by a clock over the heap and
; stack pages of every process: a page whose PTE has the accessed bit set gets a second chance
; (the bit is cleared and the page's TLB entry dropped, so the next touch sets it again, in
; every memory mode alike); one with the bit clear goes. Disk ports: docs/overcommit/guest-swap.md.
;
; Under a hypervisor that swaps too, this is where double paging happens: the page the guest
; picks may be one the VMM already wrote to its own swap file. The disk reads the page by DMA
; through the VMM, which must read it back in from its swap file only to see it written out
; again here.

.equ DISK_PORT_SLOT, 0xd0
.equ DISK_PORT_PPN, 0xd1
.equ DISK_PORT_COMMAND, 0xd2
.equ DISK_PORT_STATUS, 0xd3
.equ DISK_PORT_SLOTS, 0xd4
.equ DISK_READ, 1
.equ DISK_WRITE, 2
.equ DISK_ERROR, 0x4

.equ STACK_PAGES, (USER_STACK_TOP - STACK_BASE) / PAGE_SIZE
.equ SWAP_CANDIDATES, HEAP_PAGES + STACK_PAGES     ; per process: its heap, then its stack

; swap_init: at boot. Is there a disk, and is it big enough?
swap_init:
    in eax, DISK_PORT_STATUS
    test eax, eax
    js .no_disk                 ; all ones: nothing answers
    in eax, DISK_PORT_SLOTS
    cmp rax, SWAP_SLOTS
    jb .no_disk
    KPRINT msg_s_on
    mov eax, SWAP_SLOTS
    call kput_dec
    KPRINT msg_s_slots
    mov eax, FRAME_POOL_PAGES
    call kput_dec
    KPRINT msg_s_frames
    mov qword [swap_enabled], 1
    ret
.no_disk:
    KPRINT msg_s_no_disk
    ret

; swap_out_one: rax = 1 when a user page went to disk and its frame is free again, 0 when no
; page could go (swapping off, nothing present, the disk full). Only rax changes.
swap_out_one:
    cmp qword [swap_enabled], 0
    je .off
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r12
    mov r8d, 2 * NPROC * SWAP_CANDIDATES    ; two sweeps: the first may only clear accessed bits
.next:
    test r8, r8
    jz .none
    dec r8
    mov rax, [swap_hand]        ; the hand: process index * SWAP_CANDIDATES + candidate
    lea rdx, [rax + 1]
    cmp rdx, NPROC * SWAP_CANDIDATES
    jb .advance
    xor edx, edx
.advance:
    mov [swap_hand], rdx
    xor edx, edx
    mov ecx, SWAP_CANDIDATES
    div rcx                     ; rax = process index, rdx = candidate
    shl rax, 8                  ; * PROC_SIZE
    lea r12, [proc_table + rax]
    cmp qword [r12 + P_STATE], PROC_RUNNABLE
    jne .next
    cmp rdx, HEAP_PAGES
    jae .stack
    shl rdx, 12
    lea rsi, [rdx + HEAP_BASE]
    jmp .page
.stack:
    sub rdx, HEAP_PAGES
    shl rdx, 12
    lea rsi, [rdx + STACK_BASE]
.page:
    mov rdi, r12
    call get_pte
    test eax, PTE_P
    jz .next                    ; not there (never touched, or on disk already)
    test eax, PTE_A
    jz .evict
    and rax, ~PTE_A             ; used since the hand last passed: a second chance
    mov rdx, rax
    call set_pte
    call swap_flush
    jmp .next
.evict:
    mov r9, rax
    shr r9, 12
    shl r9, 12                  ; r9 = the frame
    call swap_slot_alloc
    cmp rax, -1
    je .none                    ; the disk is full
    mov r10, rax                ; r10 = the slot
    out DISK_PORT_SLOT, eax
    mov rax, r9
    shr rax, 12
    out DISK_PORT_PPN, eax
    mov eax, DISK_WRITE
    out DISK_PORT_COMMAND, eax  ; the vCPU waits for the disk
    in eax, DISK_PORT_STATUS
    test eax, DISK_ERROR
    jnz .disk_error
    mov rdx, r10
    shl rdx, 12
    or rdx, PTE_SWAPPED         ; not present; where the page is
    mov rdi, r12
    call set_pte
    call swap_flush
    mov rdi, r9
    call free_frame
    inc qword [swap_outs]
    mov eax, 1
    jmp .out
.disk_error:
    mov rdi, r10
    call swap_slot_free
    KPRINT msg_s_disk_error
.none:
    xor eax, eax
.out:
    pop r12
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    ret
.off:
    xor eax, eax
    ret

; swap_flush: the running process may have page rsi in its TLB: drop it. (Another process's
; entries went at the CR3 switch away from it: no PCIDs, no global user pages.)
swap_flush:
    cmp r12, [current_proc]
    jne .done
    invlpg [rsi]
.done:
    ret

; swap_in_fault: from page_fault_handler, for a user page whose PTE (rax) says "swapped".
; Reads the page back into a fresh frame, maps it and resumes the process.
swap_in_fault:
    mov r13, rax
    shr r13, 12                 ; r13 = the slot
    call alloc_frame_raw        ; may send another page out
    test rax, rax
    jz page_fault_handler.out_of_memory
    mov r14, rax                ; r14 = the frame
    mov eax, r13d
    out DISK_PORT_SLOT, eax
    mov rax, r14
    shr rax, 12
    out DISK_PORT_PPN, eax
    mov eax, DISK_READ
    out DISK_PORT_COMMAND, eax  ; the vCPU waits for the disk
    mov rdi, r13
    call swap_slot_free
    lea rdx, [r14 + PTE_USER_RW]
    mov rdi, r12
    mov rsi, cr2
    call set_pte                ; not present → present: nothing stale in the TLB
    inc qword [swap_ins]
    jmp trap_return

; swap_slot_alloc: rax = a free slot, or -1. Freed slots first, then ones never used.
swap_slot_alloc:
    mov rax, [swap_free_count]
    test rax, rax
    jz .fresh
    dec rax
    mov [swap_free_count], rax
    mov rax, [swap_free_slots + rax*8]
    ret
.fresh:
    mov rax, [swap_next_slot]
    cmp rax, SWAP_SLOTS
    jae .full
    inc qword [swap_next_slot]
    ret
.full:
    mov rax, -1
    ret

; swap_slot_free: slot rdi is free again. Only rax changes.
swap_slot_free:
    mov rax, [swap_free_count]
    mov [swap_free_slots + rax*8], rdi
    inc rax
    mov [swap_free_count], rax
    ret

; swap_report: at the end, what the swapper did.
swap_report:
    KPRINT msg_s_report
    mov rax, [swap_outs]
    call kput_dec
    KPRINT msg_s_report_in
    mov rax, [swap_ins]
    call kput_dec
    mov al, 10
    jmp kputc

msg_s_on:         .asciz "swap: on, "
msg_s_slots:      .asciz " slots on the guest disk, "
msg_s_frames:     .asciz " frames of memory\n"
msg_s_no_disk:    .asciz "swap: no guest disk (or too small): swapping off\n"
msg_s_disk_error: .asciz "swap: disk error\n"
msg_s_report:     .asciz "kernel: swapped out "
msg_s_report_in:  .asciz " pages, swapped in "

.align 8
swap_enabled:    .qword 0
swap_hand:       .qword 0
swap_outs:       .qword 0
swap_ins:        .qword 0
swap_next_slot:  .qword 0
swap_free_count: .qword 0
swap_free_slots: .space SWAP_SLOTS * 8
