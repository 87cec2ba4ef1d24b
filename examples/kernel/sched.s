; sched.s — processes and the round-robin scheduler.
;
; A process is a table entry: its state, its page tables (CR3) and a saved trap frame. Switching
; processes = copy the running one's trap frame into its entry, copy the next one's saved frame
; onto the kernel stack, load the next one's CR3 (a new address space: the TLB's non-global
; entries are flushed), and return from the trap into the other process.

; create_processes: build an address space and an initial trap frame for each of NPROC processes.
create_processes:
    lea r12, [proc_table]
    xor r13d, r13d              ; process index
.each:
    mov qword [r12 + P_STATE], PROC_RUNNABLE
    lea rax, [r13 + 'A']
    mov [r12 + P_NAME], al
    mov rdi, r12
    mov rsi, r13
    call build_address_space    ; paging32.s / paging64.s: sets P_CR3 and P_PT
    call map_user_image
    ; The first "return" into the process: user code and stack selectors, interrupts on.
    mov qword [r12 + P_CONTEXT + TF_RIP], USER_CODE
    mov qword [r12 + P_CONTEXT + TF_CS], USER_CS
    mov qword [r12 + P_CONTEXT + TF_RFLAGS], USER_RFLAGS
    mov qword [r12 + P_CONTEXT + TF_RSP], USER_STACK_TOP
    mov qword [r12 + P_CONTEXT + TF_SS], USER_SS
    add r12, PROC_SIZE
    inc r13d
    cmp r13d, NPROC
    jb .each
    ret

; map_user_image: map the image of process r13 (entry r12) at USER_CODE, and the shared library.
map_user_image:
    mov rax, r13                ; the image's guest-physical frames: USER_IMAGE + index * 1 MiB
    shl rax, 20                 ; index * USER_IMAGE_STRIDE
    add rax, USER_IMAGE
    or rax, PTE_USER_RW
    mov r14, rax                ; r14 = next PTE to write
    mov r15, USER_CODE          ; r15 = next page to map
.page:
    mov rdi, r12
    mov rsi, r15
    mov rdx, r14
    call set_pte
    add r14, PAGE_SIZE
    add r15, PAGE_SIZE
    cmp r15, USER_CODE + USER_CODE_PAGES * PAGE_SIZE
    jb .page
    mov rdi, r12                ; the library: one frame in every process, read-only to all
    mov esi, ULIB_VA
    mov edx, ULIB_PHYS | PTE_USER_RO
    call set_pte
    ret

; start_first_process: enter user mode for the first time. current_proc points at the last
; entry, so the scheduler's round-robin picks process A.
start_first_process:
    lea rax, [proc_table + (NPROC - 1) * PROC_SIZE]
    mov [current_proc], rax
    jmp schedule

; timer_handler: the running process's time slice is over; let the next one run.
timer_handler:
    call save_context
.if BALLOON
    call kernel_tick            ; time.s: seconds for the balloon driver's poll
.endif
    jmp schedule

; kill_current: the current process is gone (exit, fault); never return to it.
kill_current:
    mov qword [r12 + P_STATE], PROC_FREE
    jmp schedule

; schedule: pick the next runnable process after the current one (the current one last) and
; return into it. With none left the machine is done.
schedule:
    mov r12, [current_proc]
    mov ecx, NPROC
.next:
    add r12, PROC_SIZE
    cmp r12, proc_table + NPROC * PROC_SIZE
    jb .check
    lea r12, [proc_table]       ; wrap around
.check:
    cmp qword [r12 + P_STATE], PROC_RUNNABLE
    je switch_to
    dec ecx
    jnz .next
    KPRINT msg_all_exited
.if GUEST_SWAP
    call swap_report            ; swap.s: what the swapper did
.endif
    mov al, 0
    out PORT_EXIT, al           ; status 0: the machine stops here

; switch_to: make r12 the current process and return into it.
switch_to:
    cmp r12, [current_proc]
    je .same_space
    mov [current_proc], r12
    mov rax, [r12 + P_CR3]
.if PV
    call switch_pt              ; paravirtual: the hypervisor loads CR3 (NEW_BASEPTR)
.else
    mov cr3, rax                ; the other address space; stale translations are flushed
.endif
.same_space:
    mov rsp, TRAP_FRAME         ; first, so our own calls push below the frame being written
    lea rsi, [r12 + P_CONTEXT]
    mov rdi, TRAP_FRAME
    call copy_frame
    jmp trap_return

; save_context: copy the trap frame of the current process (r12) into its table entry.
save_context:
    mov rsi, TRAP_FRAME
    lea rdi, [r12 + P_CONTEXT]
    jmp copy_frame

; copy_frame: copy one trap frame from rsi to rdi.
copy_frame:
    mov ecx, TF_QWORDS
.loop:
    mov rax, [rsi]
    mov [rdi], rax
    add rsi, 8
    add rdi, 8
    dec ecx
    jnz .loop
    ret

msg_all_exited: .asciz "kernel: all processes exited\n"

.align 8
current_proc: .qword 0
.align 8
proc_table:
    .space NPROC * PROC_SIZE
