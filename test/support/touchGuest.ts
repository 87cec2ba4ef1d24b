// A guest that needs no kernel: paging off (guest-physical = linear), it writes 150 pages twice
// and halts — three copies overcommit a 1 MiB (256-page) machine. Used by the adapter and UI
// tests of overcommitment stops.
export const TOUCH_GUEST = `; touches 150 pages twice
.org 0x1000
.entry _start
_start:
    mov edx, 2
.pass:
    mov ebx, 0x100000
    mov ecx, 150
.touch:
    mov [rbx], rcx
    add rbx, 0x1000
    dec ecx
    jnz .touch
    dec edx
    jnz .pass
    hlt
`;
