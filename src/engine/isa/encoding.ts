// The byte encoding of guest instructions (docs/isa.md, "Encoding"):
//   byte 0      opcode (0x00 is never valid, so zeroed memory raises #UD)
//   byte 1      form << 4 | srcSizeCode << 2 | sizeCode   (size codes: 0=1 1=2 2=4 3=8 bytes)
//   operands    in the order of the form: R = 1 byte GPR, C = 1 byte CR number,
//               I = imm32 LE (sign-extended), I64 = imm64 LE, REL = rel32 LE,
//               M = [flags][index][disp32]: flags bit7 has-base, bit6 has-index,
//                   bits5:4 log2(scale), bits3:0 base; index byte bits3:0 index reg.
import { FORM_LENGTH, Form, FormId, OP_INFO, Op, SIZE_FROM_CODE, sizeCode } from './opcodes';
import { Insn } from './instruction';

export const MAX_INSN_LENGTH = 12;

export type DecodeResult = Insn | 'invalid' | 'truncated';

function rd32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) | 0;
}

function decodeMem(b: Uint8Array, o: number, insn: Insn): boolean {
  const flags = b[o];
  const idx = b[o + 1];
  if ((idx & 0xf0) !== 0) return false;
  insn.base = flags & 0x80 ? flags & 15 : -1;
  insn.index = flags & 0x40 ? idx & 15 : -1;
  if (!(flags & 0x40) && (idx !== 0 || (flags & 0x30) !== 0)) return false;
  if (!(flags & 0x80) && (flags & 15) !== 0) return false;
  insn.scale = 1 << ((flags >> 4) & 3);
  insn.disp = rd32(b, o + 2);
  return true;
}

/** Decodes the instruction at bytes[offset]. Never throws. */
export function decode(bytes: Uint8Array, offset: number, end = bytes.length): DecodeResult {
  if (offset + 2 > end) return offset < end && !OP_INFO.has(bytes[offset]) ? 'invalid' : 'truncated';
  const op = bytes[offset];
  const info = OP_INFO.get(op);
  if (!info) return 'invalid';
  const fb = bytes[offset + 1];
  const form = (fb >> 4) as FormId;
  if (form >= FORM_LENGTH.length || !info.forms.includes(form)) return 'invalid';
  const len = FORM_LENGTH[form];
  if (offset + len > end) return 'truncated';
  const insn = new Insn();
  insn.op = op;
  insn.form = form;
  insn.size = SIZE_FROM_CODE[fb & 3];
  insn.srcSize = SIZE_FROM_CODE[(fb >> 2) & 3];
  insn.length = len;
  if (!info.sizes.includes(insn.size)) return 'invalid';
  // A 64-bit immediate and control-register moves exist only at operand size 8.
  if ((form === Form.RI64 || form === Form.CR || form === Form.RC) && insn.size !== 8) return 'invalid';
  const o = offset + 2;
  const gpr = (v: number): number => (v < 16 ? v : -2);
  switch (form) {
    case Form.NONE:
      break;
    case Form.R:
      insn.r0 = gpr(bytes[o]);
      break;
    case Form.RR:
      insn.r0 = gpr(bytes[o]);
      insn.r1 = gpr(bytes[o + 1]);
      break;
    case Form.RI:
      insn.r0 = gpr(bytes[o]);
      insn.immLo = rd32(bytes, o + 1) >>> 0;
      insn.immHi = insn.immLo & 0x80000000 ? 0xffffffff : 0;
      break;
    case Form.RI64:
      insn.r0 = gpr(bytes[o]);
      insn.immLo = rd32(bytes, o + 1) >>> 0;
      insn.immHi = rd32(bytes, o + 5) >>> 0;
      break;
    case Form.RM:
      insn.r0 = gpr(bytes[o]);
      if (!decodeMem(bytes, o + 1, insn)) return 'invalid';
      break;
    case Form.MR:
      if (!decodeMem(bytes, o, insn)) return 'invalid';
      insn.r0 = gpr(bytes[o + 6]);
      break;
    case Form.MI:
      if (!decodeMem(bytes, o, insn)) return 'invalid';
      insn.immLo = rd32(bytes, o + 6) >>> 0;
      insn.immHi = insn.immLo & 0x80000000 ? 0xffffffff : 0;
      break;
    case Form.M:
      if (!decodeMem(bytes, o, insn)) return 'invalid';
      break;
    case Form.I:
      insn.immLo = rd32(bytes, o) >>> 0;
      insn.immHi = insn.immLo & 0x80000000 ? 0xffffffff : 0;
      break;
    case Form.REL:
      insn.rel = rd32(bytes, o);
      break;
    case Form.CR:
    case Form.RC:
      insn.r0 = bytes[o];
      insn.r1 = gpr(bytes[o + 1]);
      if (![0, 2, 3, 4].includes(insn.r0)) return 'invalid';
      break;
    case Form.IR:
      insn.immLo = rd32(bytes, o) >>> 0;
      insn.immHi = insn.immLo & 0x80000000 ? 0xffffffff : 0;
      insn.r0 = gpr(bytes[o + 4]);
      break;
  }
  if (insn.r0 === -2 || insn.r1 === -2) return 'invalid';
  const extends_ = op === Op.MOVZX || op === Op.MOVSX;
  if (extends_ ? insn.srcSize >= insn.size || (op === Op.MOVZX && insn.srcSize === 4) : insn.srcSize !== insn.size) {
    return 'invalid';
  }
  return insn;
}

function wr32(out: number[], v: number): void {
  out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

function encodeMem(out: number[], insn: Insn): void {
  const sc = insn.scale === 8 ? 3 : insn.scale === 4 ? 2 : insn.scale === 2 ? 1 : 0;
  let flags = 0;
  if (insn.base >= 0) flags |= 0x80 | insn.base;
  if (insn.index >= 0) flags |= 0x40 | (sc << 4);
  out.push(flags, insn.index >= 0 ? insn.index : 0);
  wr32(out, insn.disp);
}

/** Encodes a well-formed Insn (the assembler validates operands before calling this). */
export function encode(insn: Insn): number[] {
  const out: number[] = [insn.op, (insn.form << 4) | (sizeCode(insn.srcSize) << 2) | sizeCode(insn.size)];
  switch (insn.form) {
    case Form.NONE:
      break;
    case Form.R:
      out.push(insn.r0);
      break;
    case Form.RR:
      out.push(insn.r0, insn.r1);
      break;
    case Form.RI:
      out.push(insn.r0);
      wr32(out, insn.immLo);
      break;
    case Form.RI64:
      out.push(insn.r0);
      wr32(out, insn.immLo);
      wr32(out, insn.immHi);
      break;
    case Form.RM:
      out.push(insn.r0);
      encodeMem(out, insn);
      break;
    case Form.MR:
      encodeMem(out, insn);
      out.push(insn.r0);
      break;
    case Form.MI:
      encodeMem(out, insn);
      wr32(out, insn.immLo);
      break;
    case Form.M:
      encodeMem(out, insn);
      break;
    case Form.I:
      wr32(out, insn.immLo);
      break;
    case Form.REL:
      wr32(out, insn.rel);
      break;
    case Form.CR:
    case Form.RC:
      out.push(insn.r0, insn.r1);
      break;
    case Form.IR:
      wr32(out, insn.immLo);
      out.push(insn.r0);
      break;
  }
  return out;
}

export function formLength(form: FormId): number {
  return FORM_LENGTH[form];
}
