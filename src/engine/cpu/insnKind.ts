// Decode-time specialisation: each cached instruction carries the index of a straight-line
// handler for its (op, form, size), so the hot 64-bit register / immediate / simple memory
// cases skip the generic operand and size dispatch. Kind.GENERIC runs the generic executor,
// which stays the reference every specialised handler must agree with (see the differential
// tests in test/engine/cpu).
import { BREAKPOINT_OP, Insn } from '../isa/instruction';
import { Form, Op } from '../isa/opcodes';

export const Kind = {
  GENERIC: 0,
  /** add/sub/cmp/and/or/xor/test, 64-bit, register destination (ADC/SBB need the carry-in: generic). */
  ALU_RR8: 1,
  ALU_RI8: 2,
  ALU_RM8: 3,
  MOV_RR8: 4,
  /** mov r64, imm32 (sign-extended) or imm64. */
  MOV_RI8: 5,
  MOV_RM8: 6,
  MOV_MR8: 7,
  MOV_MI8: 8,
  INC_R8: 9,
  DEC_R8: 10,
  JCC: 11,
  JMP_REL: 12,
  /** mov r32, imm32 / mov r32, r32: zero the upper half, as x86 does. */
  MOV_RI4: 13,
  MOV_RR4: 14,
} as const;

/**
 * An Insn plus its handler index. Every cached instruction is one of these (never a bare
 * Insn), so the executor's property loads stay monomorphic.
 */
export class ExecInsn extends Insn {
  kind = 0;
}

/** ADD SUB CMP AND OR XOR TEST → 0..6, else -1 (no 64-bit fast path). */
function aluIndex(op: number): number {
  switch (op) {
    case Op.ADD: return 0;
    case Op.SUB: return 1;
    case Op.CMP: return 2;
    case Op.AND: return 3;
    case Op.OR: return 4;
    case Op.XOR: return 5;
    case Op.TEST: return 6;
  }
  return -1;
}

/** Which handler runs `insn`; GENERIC for anything without a fast path. */
export function kindOf(insn: Insn): number {
  const { op, form, size } = insn;
  if (op >= Op.JCC && op < Op.JCC + 16) return Kind.JCC;
  if (op === Op.JMP && form === Form.REL) return Kind.JMP_REL;
  if (size === 8) {
    const alu = aluIndex(op);
    if (alu >= 0) {
      const f = form === Form.RR ? 0 : form === Form.RI ? 1 : form === Form.RM ? 2 : -1;
      return f < 0 ? Kind.GENERIC : Kind.ALU_RR8 + f;
    }
    if (op === Op.MOV) {
      switch (form) {
        case Form.RR: return Kind.MOV_RR8;
        case Form.RI:
        case Form.RI64: return Kind.MOV_RI8;
        case Form.RM: return Kind.MOV_RM8;
        case Form.MR: return Kind.MOV_MR8;
        case Form.MI: return Kind.MOV_MI8;
      }
      return Kind.GENERIC;
    }
    if (op === Op.INC && form === Form.R) return Kind.INC_R8;
    if (op === Op.DEC && form === Form.R) return Kind.DEC_R8;
  } else if (size === 4 && op === Op.MOV) {
    if (form === Form.RI) return Kind.MOV_RI4;
    if (form === Form.RR) return Kind.MOV_RR4;
  }
  return Kind.GENERIC;
}

/** A copy of a freshly decoded instruction with its handler chosen. */
export function specialise(d: Insn): ExecInsn {
  const x = new ExecInsn();
  x.op = d.op;
  x.form = d.form;
  x.size = d.size;
  x.srcSize = d.srcSize;
  x.length = d.length;
  x.r0 = d.r0;
  x.r1 = d.r1;
  x.base = d.base;
  x.index = d.index;
  x.scale = d.scale;
  x.disp = d.disp;
  x.immLo = d.immLo;
  x.immHi = d.immHi;
  x.rel = d.rel;
  x.kind = kindOf(d);
  return x;
}

/**
 * The pseudo-instruction the fetch returns at a breakpoint address: executing it stops the
 * vCPU before the real instruction (`orig`) runs, unless the debugger is resuming from it.
 */
export function breakpointInsn(orig: Insn | null): ExecInsn {
  const b = new ExecInsn();
  b.op = BREAKPOINT_OP;
  b.kind = Kind.GENERIC;
  b.orig = orig;
  b.length = orig?.length ?? 1;
  return b;
}
