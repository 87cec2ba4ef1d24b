// Text of a decoded instruction, in the assembler's own syntax, so that
// assemble(disassemble(x)) encodes to the same bytes (the round-trip the tests check).
import { Form, OP_INFO, Op } from './opcodes';
import { Insn } from './instruction';
import { registerName } from './registers';
import { decode } from './encoding';

const SIZE_KEYWORD: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword' };

export function hex(v: number): string {
  return '0x' + v.toString(16);
}

/** Signed 64-bit immediate (halves) as text: decimal when small, else hex of the unsigned value. */
function immText(lo: number, hi: number): string {
  if (hi === 0 && lo < 0x10) return String(lo);
  if (hi === 0xffffffff && lo >= 0xfffffff0) return String((lo | 0));
  if (hi === 0) return hex(lo);
  if (hi === 0xffffffff && lo & 0x80000000) return '-' + hex(-(lo | 0));
  return '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

function memText(insn: Insn, size: number, withSize: boolean): string {
  const parts: string[] = [];
  if (insn.base >= 0) parts.push(registerName(insn.base, 8));
  // `*1` is printed when there is no base, else `[rcx]` would re-assemble as a base register.
  if (insn.index >= 0) parts.push(registerName(insn.index, 8) + (insn.scale !== 1 || insn.base < 0 ? '*' + insn.scale : ''));
  let s = parts.join(' + ');
  if (insn.disp !== 0 || parts.length === 0) {
    // disp is sign-extended, so an absolute [0xfffffff8] really is [-8]; print what re-assembles.
    if (parts.length === 0) s = insn.disp < 0 ? '-' + hex(-insn.disp) : hex(insn.disp);
    else s += insn.disp < 0 ? ' - ' + hex(-insn.disp) : ' + ' + hex(insn.disp);
  }
  return (withSize ? SIZE_KEYWORD[size] + ' ' : '') + '[' + s + ']';
}

/**
 * Formats an instruction. `address` is where it lives, used to print REL targets as absolute
 * addresses (pass a resolver to print labels instead).
 */
export function formatInsn(insn: Insn, address?: number, labelFor?: (addr: number) => string | undefined): string {
  const info = OP_INFO.get(insn.op);
  const name = info ? info.name : '(bad)';
  const r = (reg: number, size = insn.size): string => registerName(reg, size);
  switch (insn.form) {
    case Form.NONE:
      return name;
    case Form.R:
      return `${name} ${r(insn.r0)}`;
    case Form.RR:
      if (insn.op === Op.MOVZX || insn.op === Op.MOVSX) return `${name} ${r(insn.r0)}, ${r(insn.r1, insn.srcSize)}`;
      if (insn.op === Op.SHL || insn.op === Op.SHR || insn.op === Op.SAR) return `${name} ${r(insn.r0)}, cl`;
      if (insn.op === Op.IN) return `${name} ${r(insn.r0)}, dx`;
      if (insn.op === Op.OUT) return `${name} dx, ${r(insn.r0)}`;
      return `${name} ${r(insn.r0)}, ${r(insn.r1)}`;
    case Form.RI:
      return `${name} ${r(insn.r0)}, ${immText(insn.immLo, insn.immHi)}`;
    case Form.RI64: {
      // A value that fits imm32 would re-assemble to the short form: say movabs to keep the bytes.
      const fits32 = insn.immHi === (insn.immLo & 0x80000000 ? 0xffffffff : 0);
      return `${fits32 ? 'movabs' : name} ${r(insn.r0)}, ${immText(insn.immLo, insn.immHi)}`;
    }
    case Form.RM: {
      if (insn.op === Op.MOVZX || insn.op === Op.MOVSX) return `${name} ${r(insn.r0)}, ${memText(insn, insn.srcSize, true)}`;
      if (insn.op === Op.LEA || insn.op === Op.INVPCID) return `${name} ${r(insn.r0)}, ${memText(insn, insn.size, false)}`;
      return `${name} ${r(insn.r0)}, ${memText(insn, insn.size, false)}`;
    }
    case Form.MR:
      if (insn.op === Op.SHL || insn.op === Op.SHR || insn.op === Op.SAR) return `${name} ${memText(insn, insn.size, true)}, cl`;
      return `${name} ${memText(insn, insn.size, false)}, ${r(insn.r0)}`;
    case Form.MI:
      return `${name} ${memText(insn, insn.size, true)}, ${immText(insn.immLo, insn.immHi)}`;
    case Form.M: {
      const sized = !(insn.op === Op.INVLPG || insn.op === Op.LIDT || insn.op === Op.JMP || insn.op === Op.CALL || insn.op === Op.PUSH || insn.op === Op.POP);
      return `${name} ${memText(insn, insn.size, sized)}`;
    }
    case Form.I:
      return `${name} ${immText(insn.immLo, insn.immHi)}`;
    case Form.REL: {
      if (address === undefined) return `${name} $${insn.rel >= 0 ? '+' : ''}${insn.rel + insn.length}`;
      const target = address + insn.length + insn.rel;
      return `${name} ${labelFor?.(target) ?? hex(target)}`;
    }
    case Form.CR:
      return `${name} cr${insn.r0}, ${r(insn.r1, 8)}`;
    case Form.RC:
      return `${name} ${r(insn.r1, 8)}, cr${insn.r0}`;
    case Form.IR:
      return `${name} ${immText(insn.immLo, insn.immHi)}, ${r(insn.r0)}`;
  }
  return name;
}

export interface DisassembledLine {
  address: number;
  bytes: number[];
  text: string;
  /** false when the bytes are not a valid instruction (shown as `.byte`). */
  valid: boolean;
}

/** Disassembles a byte range that starts at `address`; invalid bytes become `.byte` lines. */
export function disassembleBytes(bytes: Uint8Array, address: number, labelFor?: (addr: number) => string | undefined): DisassembledLine[] {
  const out: DisassembledLine[] = [];
  let o = 0;
  while (o < bytes.length) {
    const d = decode(bytes, o);
    if (typeof d === 'string') {
      out.push({ address: address + o, bytes: [bytes[o]], text: `.byte ${hex(bytes[o])}`, valid: false });
      o += 1;
      continue;
    }
    out.push({ address: address + o, bytes: Array.from(bytes.subarray(o, o + d.length)), text: formatInsn(d, address + o, labelFor), valid: true });
    o += d.length;
  }
  return out;
}
