// Guest assembly shared by the benchmark guests (and tests that run the same kind of guest):
// switch a bare-metal program into 4-level long-mode paging with the given PML4.
export function enterLongMode(pml4: string): string {
  return `    mov rax, 0x20           ; CR4.PAE
    mov cr4, rax
    mov rax, ${pml4}
    mov cr3, rax
    mov ecx, 0xC0000080     ; EFER.LME
    mov eax, 0x100
    xor edx, edx
    wrmsr
    mov rax, 0x80000011     ; CR0.PG | ET | PE
    mov cr0, rax`;
}
