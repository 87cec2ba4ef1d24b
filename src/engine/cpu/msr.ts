// Model-specific registers the vCPU implements. Any other index raises #GP(0), as on x86.
export const Msr = {
  TSC: 0x10,
  EFER: 0xc0000080,
  /** Kernel stack pointer loaded on a CPL 3 → 0 transition: this machine's stand-in for TSS.RSP0. */
  VMEM_RSP0: 0x40000100,
  /** Timer period in instructions (0 = off): the stand-in for a local APIC timer. */
  VMEM_TIMER_PERIOD: 0x40000101,
  /** Timer interrupt vector. */
  VMEM_TIMER_VECTOR: 0x40000102,
} as const;

export const Efer = { SCE: 1 << 0, LME: 1 << 8, LMA: 1 << 10, NXE: 1 << 11 } as const;
export const EFER_WRITABLE = Efer.SCE | Efer.LME | Efer.NXE;

export const Cr0 = { PE: 1 << 0, MP: 1 << 1, ET: 1 << 4, NE: 1 << 5, WP: 1 << 16, AM: 1 << 18, CD: 1 << 30, PG: 0x80000000 } as const;
/** CR0 bits a guest may set (others are reserved → #GP). */
export const CR0_VALID = 0xe005003f;

export const Cr4 = {
  PSE: 1 << 4, PAE: 1 << 5, PGE: 1 << 7, LA57: 1 << 12, PCIDE: 1 << 17, SMEP: 1 << 20, SMAP: 1 << 21, PKE: 1 << 22,
} as const;
/** CR4 bits this vCPU supports (VME..OSXMMEXCPT as plain bits, plus the paging ones). */
export const CR4_VALID = 0x7f | Cr4.PGE | (1 << 8) | (1 << 9) | (1 << 10) | Cr4.LA57 | Cr4.PCIDE | Cr4.SMEP | Cr4.SMAP;

export const Rflags = { CF: 1 << 0, FIXED1: 1 << 1, PF: 1 << 2, ZF: 1 << 6, SF: 1 << 7, TF: 1 << 8, IF: 1 << 9, DF: 1 << 10, OF: 1 << 11, AC: 1 << 18 } as const;
