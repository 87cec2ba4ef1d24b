// The guest ISA's mnemonics and their opcode bytes. docs/isa.md is the human reference;
// this table is the single source of truth the assembler, decoder and disassembler share.

export const Op = {
  INVALID: 0x00,
  NOP: 0x01, HLT: 0x02, CLI: 0x03, STI: 0x04, CLAC: 0x05, STAC: 0x06, IRETQ: 0x07, RET: 0x08,
  RDMSR: 0x09, WRMSR: 0x0a, CPUID: 0x0b, VMCALL: 0x0c, UD2: 0x0d, PUSHFQ: 0x0e, POPFQ: 0x0f,
  MOV: 0x10, MOVZX: 0x11, MOVSX: 0x12, LEA: 0x13, XCHG: 0x14, PUSH: 0x15, POP: 0x16,
  // The eight classic ALU ops keep x86's /digit order (add or adc sbb and sub xor cmp).
  ADD: 0x20, OR: 0x21, ADC: 0x22, SBB: 0x23, AND: 0x24, SUB: 0x25, XOR: 0x26, CMP: 0x27,
  TEST: 0x28, INC: 0x29, DEC: 0x2a, NEG: 0x2b, NOT: 0x2c, SHL: 0x2d, SHR: 0x2e, SAR: 0x2f,
  IMUL: 0x30, MUL: 0x31, DIV: 0x32, IDIV: 0x33, CQO: 0x34,
  JMP: 0x40, CALL: 0x41,
  // Jcc: 0x50 + condition code, in x86's order (o no b ae e ne be a s ns p np l ge le g).
  JCC: 0x50,
  INT: 0x60, INVLPG: 0x61, INVPCID: 0x62, LIDT: 0x63, IN: 0x64, OUT: 0x65, INT3: 0x66,
} as const;

export const CONDITION_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;

/** Aliases accepted by the assembler for condition codes (jz = je, jc = jb, ...). */
export const CONDITION_ALIASES: Readonly<Record<string, number>> = {
  o: 0, no: 1, b: 2, c: 2, nae: 2, ae: 3, nb: 3, nc: 3, e: 4, z: 4, ne: 5, nz: 5, be: 6, na: 6,
  a: 7, nbe: 7, s: 8, ns: 9, p: 10, pe: 10, np: 11, po: 11, l: 12, nge: 12, ge: 13, nl: 13,
  le: 14, ng: 14, g: 15, nle: 15,
};

/**
 * Operand layouts. The form byte of every instruction is (form << 4) | (srcSizeCode << 2) | sizeCode.
 * R = GPR byte, I = imm32 (sign-extended to the operation size), I64 = imm64, M = memory operand
 * (6 bytes), REL = rel32 from the next instruction, C = control-register number byte.
 */
export const Form = {
  NONE: 0, R: 1, RR: 2, RI: 3, RI64: 4, RM: 5, MR: 6, MI: 7, M: 8, I: 9, REL: 10, CR: 11, RC: 12, IR: 13,
} as const;
export type FormId = (typeof Form)[keyof typeof Form];

/** Encoded length in bytes of each form (opcode and form byte included). */
export const FORM_LENGTH: readonly number[] = [2, 3, 4, 7, 11, 9, 9, 12, 8, 6, 6, 4, 4, 7];

export const MEM_OPERAND_BYTES = 6;

export const FORM_NAMES = ['none', 'r', 'r,r', 'r,imm', 'r,imm64', 'r,m', 'm,r', 'm,imm', 'm', 'imm', 'rel', 'cr,r', 'r,cr', 'imm,r'] as const;

/** Which forms each mnemonic accepts; anything else is #UD when decoded and an error when assembled. */
export interface OpInfo {
  readonly name: string;
  readonly forms: readonly FormId[];
  /** Privileged: #GP(0) at CPL 3. */
  readonly privileged: boolean;
  /** Operand sizes allowed (bytes). */
  readonly sizes: readonly number[];
}

const ALL = [1, 2, 4, 8];
const Q = [8];
const ALU_FORMS: FormId[] = [Form.RR, Form.RI, Form.RM, Form.MR, Form.MI];

function info(name: string, forms: FormId[], sizes: number[] = Q, privileged = false): OpInfo {
  return { name, forms, sizes, privileged };
}

export const OP_INFO: ReadonlyMap<number, OpInfo> = new Map<number, OpInfo>([
  [Op.NOP, info('nop', [Form.NONE])],
  [Op.HLT, info('hlt', [Form.NONE], Q, true)],
  [Op.CLI, info('cli', [Form.NONE], Q, true)],
  [Op.STI, info('sti', [Form.NONE], Q, true)],
  [Op.CLAC, info('clac', [Form.NONE], Q, true)],
  [Op.STAC, info('stac', [Form.NONE], Q, true)],
  [Op.IRETQ, info('iretq', [Form.NONE])],
  [Op.RET, info('ret', [Form.NONE])],
  [Op.RDMSR, info('rdmsr', [Form.NONE], Q, true)],
  [Op.WRMSR, info('wrmsr', [Form.NONE], Q, true)],
  [Op.CPUID, info('cpuid', [Form.NONE])],
  [Op.VMCALL, info('vmcall', [Form.NONE])],
  [Op.UD2, info('ud2', [Form.NONE])],
  [Op.PUSHFQ, info('pushfq', [Form.NONE])],
  [Op.POPFQ, info('popfq', [Form.NONE])],
  [Op.MOV, info('mov', [Form.RR, Form.RI, Form.RI64, Form.RM, Form.MR, Form.MI, Form.CR, Form.RC], ALL)],
  [Op.MOVZX, info('movzx', [Form.RR, Form.RM], [2, 4, 8])],
  [Op.MOVSX, info('movsx', [Form.RR, Form.RM], [2, 4, 8])],
  [Op.LEA, info('lea', [Form.RM], [2, 4, 8])],
  [Op.XCHG, info('xchg', [Form.RR, Form.RM], ALL)],
  [Op.PUSH, info('push', [Form.R, Form.I, Form.M])],
  [Op.POP, info('pop', [Form.R, Form.M])],
  [Op.ADD, info('add', ALU_FORMS, ALL)],
  [Op.OR, info('or', ALU_FORMS, ALL)],
  [Op.ADC, info('adc', ALU_FORMS, ALL)],
  [Op.SBB, info('sbb', ALU_FORMS, ALL)],
  [Op.AND, info('and', ALU_FORMS, ALL)],
  [Op.SUB, info('sub', ALU_FORMS, ALL)],
  [Op.XOR, info('xor', ALU_FORMS, ALL)],
  [Op.CMP, info('cmp', ALU_FORMS, ALL)],
  [Op.TEST, info('test', ALU_FORMS, ALL)],
  [Op.INC, info('inc', [Form.R, Form.M], ALL)],
  [Op.DEC, info('dec', [Form.R, Form.M], ALL)],
  [Op.NEG, info('neg', [Form.R, Form.M], ALL)],
  [Op.NOT, info('not', [Form.R, Form.M], ALL)],
  // Shifts: count is an immediate or cl (RR form with src = cl).
  [Op.SHL, info('shl', [Form.RI, Form.RR, Form.MI, Form.MR], ALL)],
  [Op.SHR, info('shr', [Form.RI, Form.RR, Form.MI, Form.MR], ALL)],
  [Op.SAR, info('sar', [Form.RI, Form.RR, Form.MI, Form.MR], ALL)],
  [Op.IMUL, info('imul', [Form.RR, Form.RM], [2, 4, 8])],
  [Op.MUL, info('mul', [Form.R, Form.M], ALL)],
  [Op.DIV, info('div', [Form.R, Form.M], ALL)],
  [Op.IDIV, info('idiv', [Form.R, Form.M], ALL)],
  [Op.CQO, info('cqo', [Form.NONE])],
  [Op.JMP, info('jmp', [Form.REL, Form.R, Form.M])],
  [Op.CALL, info('call', [Form.REL, Form.R, Form.M])],
  ...CONDITION_NAMES.map((cc, i): [number, OpInfo] => [Op.JCC + i, info('j' + cc, [Form.REL])]),
  [Op.INT, info('int', [Form.I])],
  [Op.INT3, info('int3', [Form.NONE])],
  [Op.INVLPG, info('invlpg', [Form.M], Q, true)],
  [Op.INVPCID, info('invpcid', [Form.RM], Q, true)],
  [Op.LIDT, info('lidt', [Form.M], Q, true)],
  // in: RI (reg <- port imm8) or RR (reg <- port dx). out: IR (port imm8 <- reg) or RR (dx <- reg).
  [Op.IN, info('in', [Form.RI, Form.RR], [1, 2, 4], true)],
  [Op.OUT, info('out', [Form.IR, Form.RR], [1, 2, 4], true)],
]);

/** Mnemonic (lower case) → opcode, condition-code aliases included (jz → je's opcode). */
export const MNEMONICS: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [op, i] of OP_INFO) m.set(i.name, op);
  for (const [alias, cc] of Object.entries(CONDITION_ALIASES)) m.set('j' + alias, Op.JCC + cc);
  m.set('iret', Op.IRETQ);
  return m;
})();

export function sizeCode(bytes: number): number {
  return bytes === 1 ? 0 : bytes === 2 ? 1 : bytes === 4 ? 2 : 3;
}
export const SIZE_FROM_CODE: readonly number[] = [1, 2, 4, 8];
