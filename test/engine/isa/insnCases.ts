// Generates well-formed instructions for every opcode, form and size in OP_INFO, with a spread of
// registers, scales, displacements and boundary immediates. Shared by the round-trip tests.
import { FORM_LENGTH, Form, FormId, OP_INFO, Op } from '../../../src/engine/isa/opcodes';
import { Insn } from '../../../src/engine/isa/instruction';

const REGS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 15];
const SHIFTS: number[] = [Op.SHL, Op.SHR, Op.SAR];

export const IMMEDIATES: Readonly<Record<number, readonly bigint[]>> = {
  1: [0n, 1n, -1n, 127n, -128n, 255n],
  2: [0n, 1n, -1n, 0x7fffn, -0x8000n, 0xffffn],
  4: [0n, 1n, -1n, 0x7fffffffn, -0x80000000n, 0xffffffffn],
  8: [0n, 1n, -1n, 0x7fffffffn, -0x80000000n],
};
const BYTE_IMMEDIATES = [0n, 1n, 7n, 0x60n, 255n];
const IMM64 = [0x80000000n, -0x80000001n, 0x123456789abcdef0n, -0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn];
const DISPS = [0, 1, -1, 0x7fffffff, -0x80000000, 0x1000, -8];
const RELS = [0, -6, 1, 0x7fffffff, -0x80000000, 100];

interface Mem {
  base: number;
  index: number;
  scale: number;
  disp: number;
}

/** A compact set of memory operands covering every base/index/scale/disp value at least once. */
export const MEMS: readonly Mem[] = (() => {
  const bases = [-1, 0, 4, 5, 13, 15];
  const indexes = [-1, 1, 4, 12, 7];
  const scales = [1, 2, 4, 8];
  const out: Mem[] = [];
  for (let i = 0; i < 14; i++) {
    const base = bases[i % bases.length];
    let index = indexes[(i * 3) % indexes.length];
    if (base < 0 && index < 0) index = 2;
    out.push({ base, index, scale: index < 0 ? 1 : scales[i % scales.length], disp: DISPS[i % DISPS.length] });
  }
  out.push({ base: -1, index: -1, scale: 1, disp: 0x1000 }, { base: -1, index: -1, scale: 1, disp: -16 }, { base: -1, index: 3, scale: 1, disp: 0 });
  return out;
})();

function setImm(insn: Insn, v: bigint): void {
  insn.immLo = Number(BigInt.asUintN(32, v));
  insn.immHi = insn.immLo & 0x80000000 ? 0xffffffff : 0;
}

function base(op: number, form: FormId, size: number, srcSize = size): Insn {
  const i = new Insn();
  i.op = op;
  i.form = form;
  i.size = size;
  i.srcSize = srcSize;
  i.length = FORM_LENGTH[form];
  return i;
}

function withMem(i: Insn, m: Mem): Insn {
  i.base = m.base;
  i.index = m.index;
  i.scale = m.scale;
  i.disp = m.disp;
  return i;
}

/** Source sizes a movzx/movsx of `size` accepts. */
function srcSizes(op: number, size: number): number[] {
  return [1, 2, 4].filter((s) => s < size && !(op === Op.MOVZX && s === 4));
}

export interface Case {
  name: string;
  insn: Insn;
}

/** Forms that exist only at operand size 8 (the decoder rejects them at 1/2/4). */
export function only64(form: number): boolean {
  return form === Form.RI64 || form === Form.CR || form === Form.RC;
}

export function generateCases(): Case[] {
  const out: Case[] = [];
  for (const [op, info] of OP_INFO) {
    for (const form of info.forms) {
      for (const size of info.sizes) {
        if (only64(form) && size !== 8) continue;
        const add = (insn: Insn, what: string): void => {
          out.push({ name: `${info.name} form=${form} size=${size} ${what}`, insn });
        };
        const immsFor = SHIFTS.includes(op) || op === Op.IN || op === Op.OUT || op === Op.INT ? BYTE_IMMEDIATES : IMMEDIATES[size];
        const extend = op === Op.MOVZX || op === Op.MOVSX;
        switch (form) {
          case Form.NONE:
            add(base(op, form, size), '');
            break;
          case Form.R:
            REGS.forEach((r) => add(Object.assign(base(op, form, size), { r0: r }), `r${r}`));
            break;
          case Form.RR:
            REGS.forEach((r, k) => {
              let r1 = REGS[(k + 3) % REGS.length];
              if (SHIFTS.includes(op)) r1 = 1;
              if (op === Op.IN || op === Op.OUT) r1 = 2;
              if (extend) for (const s of srcSizes(op, size)) add(Object.assign(base(op, form, size, s), { r0: r, r1 }), `r${r},r${r1} src${s}`);
              else add(Object.assign(base(op, form, size), { r0: r, r1 }), `r${r},r${r1}`);
            });
            break;
          case Form.RI:
            immsFor.forEach((v, k) => {
              const i = Object.assign(base(op, form, size), { r0: REGS[k % REGS.length] });
              setImm(i, v);
              add(i, `imm ${v}`);
            });
            break;
          case Form.RI64:
            IMM64.forEach((v, k) => {
              const i = Object.assign(base(op, form, size), { r0: REGS[k % REGS.length] });
              i.immLo = Number(BigInt.asUintN(32, v));
              i.immHi = Number(BigInt.asUintN(32, v >> 32n));
              add(i, `imm64 ${v}`);
            });
            break;
          case Form.RM:
          case Form.MR:
            MEMS.forEach((m, k) => {
              const r0 = form === Form.MR && SHIFTS.includes(op) ? 1 : REGS[k % REGS.length];
              if (extend) for (const s of srcSizes(op, size)) add(withMem(Object.assign(base(op, form, size, s), { r0 }), m), `mem#${k} src${s}`);
              else add(withMem(Object.assign(base(op, form, size), { r0 }), m), `mem#${k}`);
            });
            break;
          case Form.MI:
            MEMS.forEach((m, k) => {
              const i = withMem(base(op, form, size), m);
              setImm(i, immsFor[k % immsFor.length]);
              add(i, `mem#${k} imm`);
            });
            break;
          case Form.M:
            MEMS.forEach((m, k) => add(withMem(base(op, form, size), m), `mem#${k}`));
            break;
          case Form.I:
            (op === Op.INT ? [0n, 3n, 0x80n, 255n] : IMMEDIATES[8]).forEach((v) => {
              const i = base(op, form, size);
              setImm(i, v);
              add(i, `imm ${v}`);
            });
            break;
          case Form.REL:
            RELS.forEach((rel) => add(Object.assign(base(op, form, size), { rel }), `rel ${rel}`));
            break;
          case Form.CR:
          case Form.RC:
            [0, 2, 3, 4].forEach((cr, k) => add(Object.assign(base(op, form, size), { r0: cr, r1: REGS[(k * 5) % REGS.length] }), `cr${cr}`));
            break;
          case Form.IR:
            BYTE_IMMEDIATES.forEach((v, k) => {
              const i = Object.assign(base(op, form, size), { r0: REGS[k % REGS.length] });
              setImm(i, v);
              add(i, `port ${v}`);
            });
            break;
        }
      }
    }
  }
  return out;
}
