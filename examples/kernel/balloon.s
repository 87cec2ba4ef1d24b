; balloon.s — the balloon driver (BALLOON=1): ESX's vmmemctl / Linux's virtio_balloon in a page.
; The host wants memory back; the driver gets it by allocating pages through the kernel's own
; allocator (so the guest decides what to give up, and swaps if it must) and handing their
; page numbers to the balloon device, which frees the machine frames behind them. When the host
; lowers its target the driver takes pages back from the device and frees them. Device ports
; and status bits: docs/overcommit/balloon.md.
;
; Once a simulated second (time.s) the driver polls:
;   - STATUS.POPPED: the guest touched a ballooned page and the host reset the balloon — every
;     page it held is the guest's again: free them all (without telling the host: it has
;     forgotten them already), clear the bit, start over;
;   - TARGET, capped at BALLOON_CAP (BALLOON_MAX_PERCENT of the pool: the guest's own limit);
;   - inflate toward it at most `rate` pages a second, in requests of at most 256 page numbers
;     (a list page, like one virtqueue buffer); the rate doubles after a poll the rate limited
;     and halves when the allocator ran dry (the guest is short of memory itself);
;   - deflate toward it: tell the host first, then free (virtio's MUST_TELL_HOST: a page the
;     host still counts as ballooned must not be reused, or the guest writes a frame it gave up).
; Failure modes, each visible on the console and in the device's state (driverState, whyNot):
;   BALLOON=0            no driver: the device never hears from one
;   BALLOON_DISABLED=1   the driver loads, says it is disabled, and never inflates
;   BALLOON_LOAD_DELAY=N the driver loads N seconds after boot; until then nobody answers
;   target > BALLOON_CAP the driver stops at the cap; the host sees the shortfall

.ifndef BALLOON_TOUCH
.equ BALLOON_TOUCH, 0             ; 1: a kernel bug writes to a ballooned page once (pops the balloon)
.endif
.equ BALLOON_CAP, FRAME_POOL_PAGES * BALLOON_MAX_PERCENT / 100
.equ BALLOON_BATCH, 256             ; page numbers per request (virtio-balloon's limit)
.equ BALLOON_RATE_START, 256        ; pages per second at first
.equ BALLOON_RATE_MIN, 32
.equ BALLOON_RATE_MAX, 1024

; The device's ports and bits (src/engine/memory/overcommit/balloon/balloonPorts.ts).
.equ BALLOON_PORT_TARGET, 0xb0
.equ BALLOON_PORT_ACTUAL, 0xb1
.equ BALLOON_PORT_LIST, 0xb4
.equ BALLOON_PORT_INFLATE_LIST, 0xb5
.equ BALLOON_PORT_DEFLATE_LIST, 0xb6
.equ BALLOON_PORT_STATUS, 0xb7
.equ BALLOON_PORT_RESULT, 0xb8
.equ BALLOON_PORT_DRIVER, 0xb9
.equ BALLOON_PORT_LIMIT, 0xba
.equ BALLOON_POPPED, 0x2
.equ BALLOON_DRIVER_LOADED, 1
.equ BALLOON_DRIVER_DISABLED, 2

; The driver's states.
.equ BSTATE_NOT_LOADED, 0
.equ BSTATE_LOADED, 1
.equ BSTATE_DISABLED, 2
.equ BSTATE_NO_DEVICE, 3

; balloon_init: at boot. Loads the driver now, or says when it will.
balloon_init:
.if BALLOON_LOAD_DELAY
    KPRINT msg_b_not_loaded
    mov eax, BALLOON_LOAD_DELAY
    call kput_dec
    KPRINT msg_b_seconds
    ret
.else
    jmp balloon_load
.endif

; balloon_second: the driver's once-a-second work (time.s). Any register may change but rbx, r12.
balloon_second:
    push rbx
    push r12
    mov rax, [balloon_state]
    cmp rax, BSTATE_NOT_LOADED
    jne .loaded
    mov rax, [seconds]
    cmp rax, BALLOON_LOAD_DELAY
    jb .done
    call balloon_load
    jmp .done
.loaded:
    cmp rax, BSTATE_LOADED
    jne .done                   ; disabled, or no device: nothing to do, ever
    call balloon_poll
.done:
    pop r12
    pop rbx
    ret

; balloon_load: find the device, announce the driver (and its cap) or its being disabled.
balloon_load:
    in eax, BALLOON_PORT_STATUS
    test eax, eax
    js .no_device               ; all ones: nothing answers on the port
.if BALLOON_DISABLED
    mov eax, BALLOON_DRIVER_DISABLED
    out BALLOON_PORT_DRIVER, eax
    mov qword [balloon_state], BSTATE_DISABLED
    KPRINT msg_b_disabled
    ret
.else
    mov eax, BALLOON_CAP
    out BALLOON_PORT_LIMIT, eax
    mov eax, BALLOON_DRIVER_LOADED
    out BALLOON_PORT_DRIVER, eax
    mov qword [balloon_state], BSTATE_LOADED
    KPRINT msg_b_loaded
    mov eax, BALLOON_CAP
    call kput_dec
    KPRINT msg_b_cap_of
    mov eax, FRAME_POOL_PAGES
    call kput_dec
    KPRINT msg_b_pages
    ret
.endif
.no_device:
    mov qword [balloon_state], BSTATE_NO_DEVICE
    KPRINT msg_b_no_device
    ret

; balloon_poll: read the status and the target, move toward the target.
balloon_poll:
    in eax, BALLOON_PORT_STATUS
    test eax, BALLOON_POPPED
    jz .target
    call balloon_reset
.target:
    in eax, BALLOON_PORT_TARGET
    mov r13, rax                ; r13 = what the host wants
    cmp r13, BALLOON_CAP
    jbe .capped
    cmp r13, [balloon_over_cap] ; say it once per target
    je .at_cap
    mov [balloon_over_cap], r13
    call kput_balloon
    KPRINT msg_b_target
    mov rax, r13
    call kput_dec
    KPRINT msg_b_over_cap
.at_cap:
    mov r13, BALLOON_CAP
.capped:
.if BALLOON_TOUCH
    call balloon_touch_bug
.endif
    mov rax, [balloon_size]
    cmp rax, r13
    jb balloon_inflate
    ja balloon_deflate
    ret

; balloon_inflate: up to min(r13 - size, rate) more pages, a list of at most 256 at a time.
balloon_inflate:
    mov r14, r13
    sub r14, [balloon_size]
    cmp r14, [balloon_rate]
    jbe .wanted
    mov r14, [balloon_rate]     ; r14 = pages to add this second
.wanted:
    xor r15d, r15d              ; r15 = pages added
    xor r9d, r9d                ; r9 = 1 once the allocator ran dry
.batch:
    cmp r15, r14
    jae .report
    xor r8d, r8d                ; r8 = pages in this request
.fill:
    mov rax, r14
    sub rax, r15
    sub rax, r8
    jz .send
    cmp r8, BALLOON_BATCH
    jae .send
    call alloc_frame_raw        ; pinned: the kernel will not swap or reuse it
    test rax, rax
    jz .dry
    shr rax, 12
    mov [balloon_list + r8*4], eax
    inc r8
    jmp .fill
.dry:
    mov r9d, 1
.send:
    test r8, r8
    jz .report
.if PV
    xor ecx, ecx
    mov rdx, r8
    xor esi, esi
    call balloon_pv_remap       ; a PV hypervisor takes only pages the guest no longer maps
.endif
    mov eax, balloon_list
    out BALLOON_PORT_LIST, eax
    mov eax, r8d
    out BALLOON_PORT_INFLATE_LIST, eax
    in eax, BALLOON_PORT_RESULT ; pages the host took (it stops at the first it refuses)
    mov r10, rax
.if PV
    mov rcx, r10
    mov rdx, r8
    mov esi, 1
    call balloon_pv_remap       ; the refused ones are the kernel's again: map them back
.endif
    xor ecx, ecx
.keep:                          ; the taken ones are the balloon's now
    cmp rcx, r10
    jae .give_back
    mov eax, [balloon_list + rcx*4]
    mov rdx, [balloon_size]
    mov [balloon_pages + rdx*8], rax
    inc rdx
    mov [balloon_size], rdx
    inc rcx
    jmp .keep
.give_back:                     ; the refused ones go back to the allocator
    cmp rcx, r8
    jae .sent
    mov edi, [balloon_list + rcx*4]
    shl rdi, 12
    call free_frame
    inc rcx
    jmp .give_back
.sent:
    add r15, r10
    cmp r10, r8
    jb .report                  ; the host refused a page: try again next second
    test r9, r9
    jz .batch
.report:
    ; adapt the rate: halve it when the guest had no memory to give, double it when it limited us
    mov rax, [balloon_rate]
    test r9, r9
    jz .not_dry
    shr rax, 1
    cmp rax, BALLOON_RATE_MIN
    jae .set_rate
    mov eax, BALLOON_RATE_MIN
    jmp .set_rate
.not_dry:
    cmp r15, rax
    jb .set_rate
    shl rax, 1
    cmp rax, BALLOON_RATE_MAX
    jbe .set_rate
    mov eax, BALLOON_RATE_MAX
.set_rate:
    mov [balloon_rate], rax
    call balloon_tell_actual
    call kput_balloon
    KPRINT msg_b_target
    mov rax, r13
    call kput_dec
    KPRINT msg_b_inflated
    mov rax, r15
    call kput_dec
    test r9, r9
    jz .size
    KPRINT msg_b_dry
.size:
    jmp kput_size

; balloon_deflate: give back size - r13 pages, the most recently ballooned first.
balloon_deflate:
    mov r14, [balloon_size]
    sub r14, r13                ; r14 = pages to give back
    xor r15d, r15d              ; r15 = given back
.batch:
    mov r8, r14
    sub r8, r15                 ; r8 = pages in this request
    jz .report
    cmp r8, BALLOON_BATCH
    jbe .fill_list
    mov r8d, BALLOON_BATCH
.fill_list:
    xor ecx, ecx
    mov rdx, [balloon_size]
.fill:
    cmp rcx, r8
    jae .send
    dec rdx
    mov rax, [balloon_pages + rdx*8]
    mov [balloon_list + rcx*4], eax
    inc rcx
    jmp .fill
.send:
    mov eax, balloon_list
    out BALLOON_PORT_LIST, eax
    mov eax, r8d
    out BALLOON_PORT_DEFLATE_LIST, eax
    in eax, BALLOON_PORT_RESULT ; the host acknowledged these: now they may be reused
    mov r10, rax
.if PV
    xor ecx, ecx
    mov rdx, r10
    mov esi, 1
    call balloon_pv_remap       ; the host gave each a frame again (its p2m copy says which)
.endif
    xor ecx, ecx
.free:
    cmp rcx, r10
    jae .sent
    mov edi, [balloon_list + rcx*4]
    shl rdi, 12
    call free_frame
    dec qword [balloon_size]
    inc rcx
    jmp .free
.sent:
    add r15, r10
    cmp r10, r8
    je .batch
.report:
    call balloon_tell_actual
    call kput_balloon
    KPRINT msg_b_target
    mov rax, r13
    call kput_dec
    KPRINT msg_b_deflated
    mov rax, r15
    call kput_dec
    jmp kput_size

; balloon_reset: the host popped the balloon. Its pages are ours again; start over.
balloon_reset:
    mov rcx, [balloon_size]
    mov r10, rcx
.free:
    test rcx, rcx
    jz .freed
    dec rcx
    mov rdi, [balloon_pages + rcx*8]
    shl rdi, 12
    call free_frame
    jmp .free
.freed:
    mov qword [balloon_size], 0
    mov qword [balloon_rate], BALLOON_RATE_START
    mov eax, BALLOON_POPPED
    out BALLOON_PORT_STATUS, eax    ; write 1 to clear: the driver has reset
    call balloon_tell_actual
    call kput_balloon
    KPRINT msg_b_popped
    mov rax, r10
    call kput_dec
    KPRINT msg_b_pages
    ret

; balloon_tell_actual: report the size to the device (virtio's `actual`).
balloon_tell_actual:
    mov rax, [balloon_size]
    out BALLOON_PORT_ACTUAL, eax
    ret

; kput_balloon: "balloon: N s: ".
kput_balloon:
    KPRINT msg_b_prefix
    jmp kput_seconds

; kput_size: ", size N\n" (the end of a poll's line).
kput_size:
    KPRINT msg_b_size
    mov rax, [balloon_size]
    call kput_dec
    mov al, 10
    jmp kputc

.if PV
; balloon_pv_remap: the kernel's 1:1 mappings of the list's pages rcx..rdx-1 — dropped (esi = 0)
; or made again (esi = 1, to the machine frame the p2m copy names) — in one mmu_update, then
; INVLPG each: a paravirtual hypervisor refuses to take back a frame the guest still maps, as
; Xen's balloon driver clears its direct-map entry before decrease_reservation.
balloon_pv_remap:
    push rbx
    push r11
    mov rbx, rcx                ; rbx = first, r11 = the flag
    mov r11, rsi
.queue:
    cmp rcx, rdx
    jae .commit
    mov eax, [balloon_list + rcx*4]
    shl rax, 12
    push rax
    shr rax, 21                 ; which of the kernel's two L1s
    mov rdi, [pv_kernel_pt + rax*8]
    mov rax, [rsp]
    shr rax, 12
    and eax, 511
    lea rdi, [rdi + rax*8]      ; the entry's machine address
    pop rax
    xor esi, esi
    test r11, r11
    jz .put
    call phys_to_machine
    lea rsi, [rax + PTE_P + PTE_RW]
.put:
    call pt_queue
    inc rcx
    jmp .queue
.commit:
    call pt_commit
    test rax, rax
    jnz pv_panic
.flush:
    cmp rbx, rdx
    jae .done
    mov eax, [balloon_list + rbx*4]
    shl rax, 12
    invlpg [rax]
    inc rbx
    jmp .flush
.done:
    pop r11
    pop rbx
    ret
.endif

.if BALLOON_TOUCH
; balloon_touch_bug: a kernel bug for the pop demonstration — write to the first ballooned page,
; once. The host sees the touch, gives the page a fresh zeroed frame and pops the balloon.
balloon_touch_bug:
    cmp qword [balloon_touched], 0
    jne .done
    cmp qword [balloon_size], 0
    je .done
    mov qword [balloon_touched], 1
    mov rax, [balloon_pages]
    shl rax, 12
    mov byte [rax], 0x42
    call kput_balloon
    KPRINT msg_b_touch
.done:
    ret
.endif

msg_b_prefix:     .asciz "balloon: "
msg_b_not_loaded: .asciz "balloon: driver not loaded at boot (it loads after "
msg_b_seconds:    .asciz " s)\n"
msg_b_disabled:   .asciz "balloon: driver disabled by the administrator: it will not inflate\n"
msg_b_loaded:     .asciz "balloon: driver loaded, cap "
msg_b_cap_of:     .asciz " of "
msg_b_pages:      .asciz " pages\n"
msg_b_no_device:  .asciz "balloon: no balloon device: the driver gives up\n"
msg_b_target:     .asciz "target "
msg_b_over_cap:   .asciz " is over the guest's cap: the balloon stops at the cap\n"
msg_b_inflated:   .asciz ", inflated "
msg_b_deflated:   .asciz ", deflated "
msg_b_dry:        .asciz " (the guest ran out of free memory: rate halved)"
msg_b_size:       .asciz ", size "
msg_b_popped:     .asciz "popped by the host (a ballooned page was touched): reset, took back "
msg_b_touch:      .asciz "kernel bug: wrote to a ballooned page\n"

.align 8
balloon_state:    .qword BSTATE_NOT_LOADED
balloon_size:     .qword 0          ; pages in the balloon (the host acknowledged them)
balloon_rate:     .qword BALLOON_RATE_START
balloon_over_cap: .qword 0          ; the last over-the-cap target reported
balloon_touched:  .qword 0
balloon_pages:    .space (BALLOON_CAP + 1) * 8   ; their page numbers, in the order ballooned
.align 4096
balloon_list:     .space 4096       ; one request: up to 256 dword page numbers
