// VMX basic exit reasons (SDM vol. 3 appendix C) and the exit qualifications this VMM
// produces (SDM vol. 3 §28.2.1), encoded exactly and decoded into words for the UI.

export const ExitReason = {
  EXCEPTION_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  CPUID: 10,
  HLT: 12,
  INVLPG: 14,
  VMCALL: 18,
  CR_ACCESS: 28,
  IO_INSTRUCTION: 30,
  RDMSR: 31,
  WRMSR: 32,
  EPT_VIOLATION: 48,
  EPT_MISCONFIG: 49,
  INVEPT: 50,
  INVVPID: 53,
  INVPCID: 58,
} as const;

export const EXIT_REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'exception or NMI', 1: 'external interrupt', 2: 'triple fault', 10: 'CPUID', 12: 'HLT', 14: 'INVLPG',
  18: 'VMCALL', 28: 'control-register access', 30: 'I/O instruction', 31: 'RDMSR', 32: 'WRMSR',
  48: 'EPT violation', 49: 'EPT misconfiguration', 50: 'INVEPT', 53: 'INVVPID', 58: 'INVPCID',
};

export function exitReasonName(reason: number): string {
  return EXIT_REASON_NAMES[reason] ?? `exit reason ${reason}`;
}

/** CR-access qualification (SDM table 28-3): CR number, access type, GPR. */
export const CrAccessType = { MOV_TO_CR: 0, MOV_FROM_CR: 1, CLTS: 2, LMSW: 3 } as const;

export function crAccessQualification(cr: number, accessType: number, gpr: number): number {
  return (cr & 15) | ((accessType & 3) << 4) | ((gpr & 15) << 8);
}

/** I/O qualification (SDM table 28-5): size−1, direction (1 = IN), operand encoding (1 = immediate), port. */
export function ioQualification(size: number, isIn: boolean, immediate: boolean, port: number): number {
  return ((size - 1) & 7) | (isIn ? 8 : 0) | (immediate ? 0x40 : 0) | ((port & 0xffff) << 16);
}

/** VM-exit interruption information (SDM table 25-19): vector, type, error-code valid, valid. */
export const InterruptionType = { EXTERNAL: 0, NMI: 2, HARDWARE_EXCEPTION: 3, SOFTWARE_INTERRUPT: 4, SOFTWARE_EXCEPTION: 6 } as const;

export function interruptionInfo(vector: number, type: number, hasErrorCode: boolean): number {
  return ((vector & 0xff) | ((type & 7) << 8) | (hasErrorCode ? 1 << 11 : 0) | (1 << 31)) >>> 0;
}

/** EPT-violation qualification bits (SDM table 28-7). */
export const EptQual = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  FETCH: 1 << 2,
  READABLE: 1 << 3,
  WRITABLE: 1 << 4,
  EXECUTABLE: 1 << 5,
  USER_EXECUTABLE: 1 << 6,
  LINEAR_VALID: 1 << 7,
  FINAL_TRANSLATION: 1 << 8,
  USER_MODE_LINEAR: 1 << 9,
  RW_LINEAR: 1 << 10,
  XD_LINEAR: 1 << 11,
  NMI_UNBLOCKING: 1 << 12,
} as const;

const REGS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** The qualification in words, as the debugger's "Last VM exit" scope shows it. */
export function describeQualification(reason: number, q: bigint): string {
  const n = Number(q & 0xffffffffn);
  switch (reason) {
    case ExitReason.CR_ACCESS: {
      const type = ['MOV to', 'MOV from', 'CLTS', 'LMSW'][(n >> 4) & 3];
      const cr = n & 15;
      const gpr = REGS[(n >> 8) & 15];
      return (n >> 4) & 3 ? (((n >> 4) & 3) === 1 ? `mov ${gpr}, cr${cr}` : type) : `mov cr${cr}, ${gpr}`;
    }
    case ExitReason.IO_INSTRUCTION: {
      const size = (n & 7) + 1;
      const port = (n >>> 16) & 0xffff;
      return `${n & 8 ? 'in' : 'out'} ${size}-byte, port 0x${port.toString(16)} (${n & 0x40 ? 'immediate' : 'dx'})`;
    }
    case ExitReason.INVLPG:
      return `invlpg 0x${q.toString(16)}`;
    case ExitReason.EPT_VIOLATION: {
      const acc = [n & 1 ? 'read' : '', n & 2 ? 'write' : '', n & 4 ? 'fetch' : ''].filter(Boolean).join('+') || 'no access';
      const perm = `${n & 8 ? 'R' : '-'}${n & 16 ? 'W' : '-'}${n & 32 ? 'X' : '-'}`;
      const where = n & EptQual.LINEAR_VALID ? (n & EptQual.FINAL_TRANSLATION ? 'the final guest-physical address' : 'a guest paging-structure access') : 'no guest-linear address';
      return `${acc} denied; EPT allowed ${perm}; ${where}`;
    }
    default:
      return q === 0n ? '' : `0x${q.toString(16)}`;
  }
}
