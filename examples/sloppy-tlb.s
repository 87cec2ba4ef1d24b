; sloppy-tlb.s — what a kernel that forgets INVLPG breaks. Process A maps a page, stores
; 0x41 in it, then asks for the deliberately buggy unmap (UNMAP_SLOPPY: the PTE is cleared
; but the TLB entry stays) and maps the page again. The PTE now points at a new, zeroed frame,
; but the read still goes through the stale TLB entry to the *old* frame: it returns 0x41.
; Done again with the correct unmap, the same steps read 0x0.
;
; What to look at in the debugger:
;   - after the sloppy unmap, compare the guest page table (PTE 0, then the new frame) with
;     the TLB view (still the old frame): they disagree
;   - the stale read is a TLB hit, so no page walk happens at all
;   - the second round: sys_unmap runs INVLPG, the read misses and walks to the new frame
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console: A: wrote 0x41
; expect-console: A: sloppy unmap, map again, read: 0x41
; expect-console: A: stale TLB entry: the PTE points at a zeroed frame, the read saw the old one
; expect-console: A: correct unmap, map again, read: 0x0
; expect-exact: invlpg 1

.equ NPROC, 1
.include "kernel/kernel.s"

.equ PAGE, 0x581000

.org USER_CODE
.phys USER_IMAGE
proc_a:
    mov edi, PAGE
    call map_page
    mov byte [PAGE], 0x41       ; the TLB now caches PAGE → frame 1
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
    lea rdi, [a_sloppy]
    call print
    movzx r12d, byte [PAGE]     ; a TLB hit on the stale entry: frame 1's 0x41
    mov rdi, r12
    call print_hex
    call print_newline
    test r12d, r12d
    jz .round_two
    lea rdi, [a_stale]
    call print

.round_two:
    mov byte [PAGE], 0x41       ; the same again, with the correct unmap
    mov edi, PAGE
    xor esi, esi
    call unmap_page             ; PTE cleared and INVLPG
    mov edi, PAGE
    call map_page               ; PTE → frame 3 (zeroed)
    lea rdi, [a_correct]
    call print
    movzx edi, byte [PAGE]      ; a TLB miss: the walk finds frame 3
    call print_hex
    call print_newline
    xor edi, edi
    call exit

a_wrote:   .asciz "A: wrote "
a_sloppy:  .asciz "A: sloppy unmap, map again, read: "
a_stale:   .asciz "A: stale TLB entry: the PTE points at a zeroed frame, the read saw the old one\n"
a_correct: .asciz "A: correct unmap, map again, read: "
