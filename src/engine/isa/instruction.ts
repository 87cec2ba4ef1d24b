// One decoded instruction. Every field is always present (a single hidden class for V8), so the
// CPU's dispatch stays monomorphic; -1 marks an unused register slot.
import { Form, FormId } from './opcodes';

export class Insn {
  op = 0;
  form: FormId = Form.NONE;
  /** Operation size in bytes (1, 2, 4, 8). */
  size = 8;
  /** Source size for movzx/movsx, else equal to size. */
  srcSize = 8;
  length = 2;
  /** First register operand (destination in RR/RI/RM, source in MR/IR), or control register in CR/RC. */
  r0 = -1;
  /** Second register operand (source in RR; GPR in CR/RC). */
  r1 = -1;
  /** Memory operand: base/index GPR (-1 none), scale 1/2/4/8, signed 32-bit displacement. */
  base = -1;
  index = -1;
  scale = 1;
  disp = 0;
  /** Immediate as two 32-bit halves, already sign-extended to 64 bits (imm32 forms). */
  immLo = 0;
  immHi = 0;
  /** Signed rel32 of REL forms. */
  rel = 0;
  /**
   * For the debugger's breakpoint pseudo-instruction (op BREAKPOINT_OP): the instruction at
   * that address, or null when the bytes there do not decode (resuming then raises #UD).
   */
  orig: Insn | null = null;
}

/** Not an opcode byte (it does not fit one): the decoder never produces it, only breakpoints do. */
export const BREAKPOINT_OP = 0x1ff;

export function hasMemOperand(form: FormId): boolean {
  return form === Form.RM || form === Form.MR || form === Form.MI || form === Form.M;
}
