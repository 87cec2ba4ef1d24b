// Register names in x86 numbering (rax=0 … r15=15) for each operand size.

export const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
export const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'] as const;
export const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'] as const;
export const REG8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'] as const;

export const Reg = {
  RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSP: 4, RBP: 5, RSI: 6, RDI: 7,
  R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15,
} as const;

/** Control registers the ISA can move to and from. */
export const CONTROL_REGS = [0, 2, 3, 4] as const;

export interface RegisterRef {
  readonly reg: number;
  readonly size: 1 | 2 | 4 | 8;
}

const BY_NAME: ReadonlyMap<string, RegisterRef> = (() => {
  const m = new Map<string, RegisterRef>();
  const tables: [readonly string[], 1 | 2 | 4 | 8][] = [[REG64, 8], [REG32, 4], [REG16, 2], [REG8, 1]];
  for (const [names, size] of tables) names.forEach((n, reg) => m.set(n, { reg, size }));
  return m;
})();

export function lookupRegister(name: string): RegisterRef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function registerName(reg: number, size: number): string {
  const t = size === 8 ? REG64 : size === 4 ? REG32 : size === 2 ? REG16 : REG8;
  return t[reg & 15];
}

/** cr0/cr2/cr3/cr4 → number, else undefined. */
export function lookupControlRegister(name: string): number | undefined {
  const m = /^cr([0-9])$/i.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return (CONTROL_REGS as readonly number[]).includes(n) ? n : undefined;
}
