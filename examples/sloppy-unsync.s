; sloppy-unsync.s — why a shadow-paging VMM that stops tracing leaf page tables must resync
; on INVLPG. Process A maps a page, writes 0x41, then remaps it the sloppy way (PTE changed,
; no INVLPG) onto a fresh zeroed frame. It then touches five heap pages that fall into the
; same TLB set, so the stale TLB entry is evicted, and reads the page again.
;   native, shadow (trace), nested: the TLB miss walks the guest's page table and finds the
;     new frame: 0x0. Forgetting INVLPG only mattered while the TLB held the old entry.
;   shadow with --shadow-sync unsync: the leaf table was not write-protected, so the VMM never
;     saw the PTE change; the hardware walks the *shadow* entry, still the old frame: 0x41,
;     until the guest finally runs INVLPG (the resync point), after which it reads 0x0.
; Run it side by side:
;     node dist/cli.js run examples/sloppy-unsync.s --compare native,shadow,nested
;     node dist/cli.js run examples/sloppy-unsync.s --mode shadow --shadow-sync unsync
;
; What to look at in the debugger:
;   - in unsync mode, break on `shadow-sync`: nothing until the INVLPG at the end
;   - after the eviction loop, compare the guest PTE for 0x581000 (new frame) with the
;     shadow PTE (old frame) — they disagree, and the read follows the shadow
;
; modes: native shadow nested shadow-unsync
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console: A: wrote 0x41
; expect-console[native]: A: after eviction the page reads 0x0
; expect-console[shadow]: A: after eviction the page reads 0x0
; expect-console[nested]: A: after eviction the page reads 0x0
; expect-console[shadow-unsync]: A: after eviction the page reads 0x41
; expect-console[shadow-unsync]: A: (a stale shadow entry: the VMM never saw the PTE change)
; expect-console: A: after INVLPG the page reads 0x0
; expect-exact: invlpg 1

.equ NPROC, 1
.include "kernel/kernel.s"

.equ PAGE, 0x581000             ; vpn 0x581: TLB set 1 of 16
.equ HEAP, 0x500000

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov edi, PAGE
    call map_page
    mov byte [PAGE], 0x41       ; TLB (and shadow) now map PAGE → frame 1
    lea rdi, [a_wrote]
    call print
    movzx edi, byte [PAGE]
    call print_hex
    call print_newline

    mov edi, PAGE               ; the bug: PTE cleared, no INVLPG
    mov esi, UNMAP_SLOPPY
    call unmap_page
    mov edi, PAGE               ; PTE → frame 2 (zeroed)
    call map_page

    ; Evict PAGE's TLB entry: five heap pages whose vpn ≡ 1 (mod 16) fill its 4-way set.
    mov ecx, 5
    mov rbx, HEAP + 0x1000
.evict:
    mov byte [rbx], 1           ; demand-paged: a page fault, then a TLB fill in set 1
    add rbx, 0x10000
    dec ecx
    jnz .evict

    lea rdi, [a_after]
    call print
    movzx r12d, byte [PAGE]     ; a TLB miss: native walks the guest PT, unsync the shadow
    mov rdi, r12
    call print_hex
    call print_newline
    test r12d, r12d
    jz .flush
    lea rdi, [a_stale]
    call print

.flush:
    mov edi, PAGE               ; unmap and map again, this time with INVLPG: everyone agrees
    xor esi, esi
    call unmap_page
    mov edi, PAGE
    call map_page
    lea rdi, [a_invlpg]
    call print
    movzx edi, byte [PAGE]
    call print_hex
    call print_newline
    xor edi, edi
    call exit

a_wrote:  .asciz "A: wrote "
a_after:  .asciz "A: after eviction the page reads "
a_stale:  .asciz "A: (a stale shadow entry: the VMM never saw the PTE change)\n"
a_invlpg: .asciz "A: after INVLPG the page reads "
