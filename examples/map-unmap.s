; map-unmap.s — the map and unmap system calls, done right: unmap clears the PTE *and*
; invalidates the TLB entry with INVLPG, so the next access sees the new mapping.
;
; Process A maps page 0x581000 (outside the demand-paged heap), stores 0x41 there, unmaps it,
; maps it again (a new zeroed frame) and reads 0x0; after a final unmap, a touch is a
; segmentation fault.
;
; What to look at in the debugger:
;   - break on INVLPG in sys_unmap (syscall.s); before it, the TLB view still shows the
;     translation 0x581000 → the old frame even though the PTE is already 0
;   - after INVLPG the entry is gone; the next read misses, walks, and finds the new frame
;   - sys_map needs no INVLPG: the TLB never caches a not-present translation
;
; variants: PAGING=64 PAGING=32
; expect-exit: 0
; expect-console: A: wrote 0x41
; expect-console: A: after unmap and map again: 0x0
; expect-console: process A: segmentation fault at 0x581000
; expect-not-console: A: still readable after unmap (wrong!)
; expect-exact: invlpg 2

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

    mov edi, PAGE               ; unmap (with INVLPG), then map a fresh frame 2
    xor esi, esi
    call unmap_page
    mov edi, PAGE
    call map_page
    lea rdi, [a_remapped]
    call print
    movzx edi, byte [PAGE]      ; a TLB miss: the walk finds frame 2, which is zero
    call print_hex
    call print_newline

    mov edi, PAGE               ; unmap for good: the next touch must fault
    xor esi, esi
    call unmap_page
    movzx eax, byte [PAGE]      ; #PF: not present, and not heap or stack → killed here
    lea rdi, [a_wrong]
    call print
    xor edi, edi
    call exit

a_wrote:    .asciz "A: wrote "
a_remapped: .asciz "A: after unmap and map again: "
a_wrong:    .asciz "A: still readable after unmap (wrong!)\n"
