// The paravirtual guest ABI: hypercall numbers, mmuext_op commands, mmu_update request types
// and error numbers. The numbers are Xen's (include/public/xen.h, errno.h), so what a student
// reads here matches what they would read in Xen; docs/vmm/paravirt.md documents the register
// convention and record layouts.

/** Hypercall numbers (rax at `vmcall`). */
export const Hypercall = {
  MMU_UPDATE: 1,
  CONSOLE_IO: 18,
  MMUEXT_OP: 26,
} as const;

export const HYPERCALL_NAMES: Readonly<Record<number, string>> = {
  1: 'mmu_update',
  18: 'console_io',
  26: 'mmuext_op',
};

/** mmu_update request types: bits 1:0 of `ptr`. */
export const MmuUpdateOp = {
  NORMAL_PT_UPDATE: 0,
  MACHPHYS_UPDATE: 1,
  PT_UPDATE_PRESERVE_AD: 2,
  PT_UPDATE_NO_TRANSLATE: 3,
} as const;

/** mmuext_op commands (the `cmd` qword of each 16-byte record). */
export const MmuextCmd = {
  PIN_L1_TABLE: 0,
  PIN_L2_TABLE: 1,
  PIN_L3_TABLE: 2,
  PIN_L4_TABLE: 3,
  UNPIN_TABLE: 4,
  NEW_BASEPTR: 5,
  TLB_FLUSH_LOCAL: 6,
  INVLPG_LOCAL: 7,
  TLB_FLUSH_ALL: 10,
  INVLPG_ALL: 11,
} as const;

export const MMUEXT_NAMES: Readonly<Record<number, string>> = {
  0: 'pin L1', 1: 'pin L2', 2: 'pin L3', 3: 'pin L4', 4: 'unpin', 5: 'new_baseptr',
  6: 'tlb_flush_local', 7: 'invlpg_local', 10: 'tlb_flush_all', 11: 'invlpg_all',
};

/** console_io sub-command (rdi). */
export const CONSOLEIO_WRITE = 0;

/** The only domain a guest may name: itself. */
export const DOMID_SELF = 0x7ff0;

/** Errors, returned negated in rax. */
export const Errno = {
  EPERM: 1,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  ENOSYS: 38,
} as const;

export const ERRNO_NAMES: Readonly<Record<number, string>> = { 1: 'EPERM', 14: 'EFAULT', 16: 'EBUSY', 22: 'EINVAL', 38: 'ENOSYS' };

/** Records and limits. */
export const MMU_UPDATE_SIZE = 16;
export const MMUEXT_OP_SIZE = 16;
/** Requests one hypercall may carry (Xen preempts long batches; this VMM refuses them instead). */
export const MAX_BATCH = 4096;

/** Page-table entry bits the validator reasons about (4-level format). */
export const PteBit = {
  P: 1n << 0n,
  RW: 1n << 1n,
  US: 1n << 2n,
  PWT: 1n << 3n,
  PCD: 1n << 4n,
  A: 1n << 5n,
  D: 1n << 6n,
  PS: 1n << 7n,
  G: 1n << 8n,
  NX: 1n << 63n,
} as const;

/** Bits 9–11: available to software. */
export const PTE_AVAIL = 0xe00n;
/** Address bits 51:12. */
export const PTE_ADDR = 0x000f_ffff_ffff_f000n;

/** Flags a guest may set at every level (Xen's allowed set: P RW US A D AVAIL NX). */
export const ALLOWED_FLAGS = PteBit.P | PteBit.RW | PteBit.US | PteBit.A | PteBit.D | PTE_AVAIL | PteBit.NX;
/** In an L1 entry G is allowed as well. */
export const ALLOWED_L1_FLAGS = ALLOWED_FLAGS | PteBit.G;
