// The guest assembly's vocabulary — mnemonics, registers, directives, size keywords — read
// from the engine's own tables, so the grammar, hovers and tests cannot drift from what the
// assembler accepts.
import { CONDITION_ALIASES, CONDITION_NAMES, MNEMONICS, OP_INFO } from '../../engine/isa/opcodes';
import { CONTROL_REGS, REG16, REG32, REG64, REG8 } from '../../engine/isa/registers';
import { DIRECTIVES } from '../../engine/isa/assembler/statement';
import { SIZE_KEYWORDS } from '../../engine/isa/assembler/operands';

/** Directives handled before the passes (preprocessor and symbol definition), not in DIRECTIVES. */
export const PREPROCESSOR_DIRECTIVES = ['.include', '.macro', '.endm', '.equ', '.set'] as const;

/** Every directive the assembler accepts, lower case, with the leading dot. */
export const ALL_DIRECTIVES: readonly string[] = [...Object.keys(DIRECTIVES), ...PREPROCESSOR_DIRECTIVES].sort();

/** Mnemonics the assembler accepts (aliases such as jz, iret and the movabs form included). */
export const ALL_MNEMONICS: readonly string[] = [...MNEMONICS.keys(), 'movabs'].sort();

/** Jumps, calls and returns: highlighted as control flow. */
export const CONTROL_FLOW_MNEMONICS: readonly string[] = ALL_MNEMONICS.filter(
  (m) => ['jmp', 'call', 'ret', 'iretq', 'iret', 'int', 'int3'].includes(m) || (m.startsWith('j') && m.slice(1) in CONDITION_ALIASES),
);

/** Privileged or machine-level instructions (and vmcall): highlighted as system instructions. */
export const SYSTEM_MNEMONICS: readonly string[] = ALL_MNEMONICS.filter((m) => {
  const op = MNEMONICS.get(m);
  const info = op === undefined ? undefined : OP_INFO.get(op);
  return (info?.privileged ?? false) || ['vmcall', 'cpuid', 'ud2'].includes(m);
});

export type RegisterWidth = 64 | 32 | 16 | 8;

export const GPR_BY_WIDTH: Readonly<Record<RegisterWidth, readonly string[]>> = { 64: REG64, 32: REG32, 16: REG16, 8: REG8 };

export const CONTROL_REGISTERS: readonly string[] = CONTROL_REGS.map((n) => `cr${n}`);

export const SIZE_KEYWORD_NAMES: readonly string[] = Object.keys(SIZE_KEYWORDS);

/** The condition-code suffixes of jcc, primary names first. */
export const CONDITION_CODES: readonly string[] = [...CONDITION_NAMES];

export interface RegisterInfo {
  name: string;
  /** Register number in the encoding (0–15), or the CR number. */
  number: number;
  width: RegisterWidth;
  kind: 'gpr' | 'control';
  /** The 64-bit register this one is part of. */
  full: string;
}

export function registerInfo(word: string): RegisterInfo | undefined {
  const name = word.toLowerCase();
  for (const width of [64, 32, 16, 8] as const) {
    const i = GPR_BY_WIDTH[width].indexOf(name);
    if (i >= 0) return { name, number: i, width, kind: 'gpr', full: REG64[i] };
  }
  const cr = CONTROL_REGISTERS.indexOf(name);
  if (cr >= 0) return { name, number: CONTROL_REGS[cr], width: 64, kind: 'control', full: name };
  return undefined;
}

export function isMnemonic(word: string): boolean {
  return MNEMONICS.has(word.toLowerCase()) || word.toLowerCase() === 'movabs';
}
