// Chooses the form of an instruction from its operands, checks sizes and ranges, and fills an
// Insn for encode(). Every rule that can reject a source line lives here.
import { Form, FormId, FORM_LENGTH, FORM_NAMES, MNEMONICS, OP_INFO, Op, OpInfo } from '../opcodes';
import { Insn } from '../instruction';
import { decode, encode } from '../encoding';
import { Expr } from './expression';
import { Operand, OperandSize } from './operands';

export interface InsnContext {
  /** Evaluates an expression; reports problems itself and then returns 0n. */
  evaluate(e: Expr): bigint;
  error(message: string, col: number, end?: number): void;
  /** Address of the instruction (REL targets are relative to its end). */
  here: number;
  /** A previous pass chose the 64-bit immediate form for this line; never shrink back (termination). */
  wide: boolean;
}

export interface BuiltInsn {
  /** Undefined when the line has an error (already reported). */
  insn: Insn | undefined;
  /** Bytes the line occupies (a best guess when it has an error, to keep later labels stable). */
  length: number;
  /** RI64 was chosen. */
  wide: boolean;
  bytes: number[];
}

const SHIFTS: ReadonlySet<number> = new Set([Op.SHL, Op.SHR, Op.SAR]);
/** Single memory operands whose size is implied (qword) rather than written. */
const IMPLIED_QWORD: ReadonlySet<number> = new Set([Op.INVLPG, Op.LIDT, Op.JMP, Op.CALL, Op.PUSH, Op.POP]);
const MIN_I32 = -(1n << 31n);
const MAX_I32 = (1n << 31n) - 1n;

/** Immediates a size accepts: its signed or unsigned range; qword takes a sign-extended imm32. */
function immRange(size: number): [bigint, bigint] {
  if (size === 8) return [MIN_I32, MAX_I32];
  const bits = BigInt(size * 8);
  return [-(1n << (bits - 1n)), (1n << bits) - 1n];
}

const bits = (size: number): string => `${size * 8}-bit`;

class Builder {
  readonly insn = new Insn();
  /** Length to assume on error: the form if it was identified. */
  guessForm: FormId | undefined;
  ok = true;

  constructor(readonly op: number, readonly info: OpInfo, readonly mnemonic: string, readonly ctx: InsnContext, readonly stmtCol: number, readonly stmtEnd: number) {
    this.insn.op = op;
  }

  fail(message: string, at?: { col: number; end: number }): undefined {
    if (this.ok) this.ctx.error(message, at?.col ?? this.stmtCol, at?.end ?? this.stmtEnd);
    this.ok = false;
    return undefined;
  }

  setForm(form: FormId, size: number, at?: { col: number; end: number }): void {
    this.guessForm = form;
    this.insn.form = form;
    this.insn.size = size;
    this.insn.srcSize = size;
    if (!this.info.forms.includes(form)) {
      this.fail(`'${this.mnemonic}' does not take operands of the form ${FORM_NAMES[form]} (allowed: ${this.allowedForms()})`, at);
      return;
    }
    if (!this.info.sizes.includes(size)) {
      const allowed = this.info.sizes.map(bits).join(', ');
      this.fail(`'${this.mnemonic}' does not support ${bits(size)} operands (allowed: ${allowed})`, at);
    }
  }

  allowedForms(): string {
    return this.info.forms.map((f) => FORM_NAMES[f]).join(' | ');
  }

  /** Once the line is rejected, operands are not evaluated (one error per line). */
  value(e: Expr): bigint {
    return this.ok ? this.ctx.evaluate(e) : 0n;
  }

  setImm32(v: bigint): void {
    const lo = Number(BigInt.asUintN(32, v));
    this.insn.immLo = lo;
    this.insn.immHi = lo & 0x80000000 ? 0xffffffff : 0;
  }

  imm(o: Extract<Operand, { kind: 'imm' }>, min: bigint, max: bigint, what: string): void {
    const v = this.value(o.expr);
    if (v < min || v > max) this.fail(`${what} ${v} is out of range ${min}..${max}`, o);
    this.setImm32(v);
  }

  sizedImm(o: Extract<Operand, { kind: 'imm' }>, size: number): void {
    const [min, max] = immRange(size);
    const v = this.value(o.expr);
    if (v < min || v > max) {
      const why = size === 8 ? 'does not fit in a sign-extended 32-bit immediate' : `is out of range for a ${bits(size)} operand (${min}..${max})`;
      this.fail(`immediate ${v} ${why}`, o);
    }
    this.setImm32(v);
  }

  mem(o: Extract<Operand, { kind: 'mem' }>): void {
    this.insn.base = o.base;
    this.insn.index = o.index;
    this.insn.scale = 1;
    if (o.scale) {
      const s = this.value(o.scale);
      if (s !== 1n && s !== 2n && s !== 4n && s !== 8n) this.fail(`scale must be 1, 2, 4 or 8, not ${s}`, o.scale);
      else this.insn.scale = Number(s);
    }
    if (o.disp) {
      const d = this.value(o.disp);
      if (d < MIN_I32 || d > MAX_I32) this.fail(`displacement ${d} does not fit in a signed 32-bit value`, o.disp);
      this.insn.disp = Number(BigInt.asIntN(32, d));
    }
  }

  /** The size of a memory operand that has no register to take it from. */
  memSize(o: Extract<Operand, { kind: 'mem' }>): number | undefined {
    if (IMPLIED_QWORD.has(this.op)) {
      if (o.size !== undefined && o.size !== 8) return this.fail(`'${this.mnemonic}' takes a qword memory operand`, o);
      return 8;
    }
    if (o.size === undefined) return this.fail(`operand size not specified: write byte, word, dword or qword before '['`, o);
    return o.size;
  }

  /** A register's size must agree with a memory operand's size keyword. */
  agree(r: Extract<Operand, { kind: 'reg' }>, m: Extract<Operand, { kind: 'mem' }>): void {
    if (m.size !== undefined && m.size !== r.size) this.fail(`operand size mismatch: '${r.name}' is ${bits(r.size)} but the memory operand is ${bits(m.size)}`, m);
  }

  need64(r: Extract<Operand, { kind: 'reg' }>, why: string): void {
    if (r.size !== 8) this.fail(`${why} must be a 64-bit register, not '${r.name}'`, r);
  }
}

function build(b: Builder, ops: Operand[], forceWide: boolean): void {
  const { insn, op } = b;
  if (ops.length === 0) {
    if (!b.info.forms.includes(Form.NONE)) return void b.fail(`'${b.mnemonic}' needs operands (${b.allowedForms()})`);
    b.setForm(Form.NONE, 8);
    return;
  }
  if (ops.length > 2) return void b.fail(`too many operands for '${b.mnemonic}'`, ops[2]);
  if (ops.length === 1) {
    const [a] = ops;
    if (a.kind === 'reg') {
      b.setForm(Form.R, a.size, a);
      insn.r0 = a.reg;
    } else if (a.kind === 'mem') {
      const size = b.memSize(a);
      b.setForm(Form.M, size ?? 8, a);
      b.mem(a);
    } else if (a.kind === 'imm') {
      if (b.info.forms.includes(Form.REL)) {
        b.setForm(Form.REL, 8, a);
        const target = b.value(a.expr);
        const rel = target - BigInt(b.ctx.here + FORM_LENGTH[Form.REL]);
        if (rel < MIN_I32 || rel > MAX_I32) b.fail(`jump target 0x${BigInt.asUintN(64, target).toString(16)} is out of rel32 range`, a);
        insn.rel = Number(BigInt.asIntN(32, rel));
      } else {
        b.setForm(Form.I, 8, a);
        if (op === Op.INT) b.imm(a, 0n, 255n, 'interrupt vector');
        else b.sizedImm(a, 8);
      }
    } else {
      b.fail(`a control register can only be used with mov`, a);
    }
    return;
  }
  const [a, c] = ops;
  if (a.kind === 'cr' || c.kind === 'cr') {
    if (a.kind === 'cr' && c.kind === 'reg') {
      b.setForm(Form.CR, 8, a);
      b.need64(c, 'the source of a control-register move');
      insn.r0 = a.cr;
      insn.r1 = c.reg;
    } else if (a.kind === 'reg' && c.kind === 'cr') {
      b.setForm(Form.RC, 8, a);
      b.need64(a, 'the destination of a control-register move');
      insn.r0 = c.cr;
      insn.r1 = a.reg;
    } else {
      b.fail('a control register can only be moved to or from a 64-bit general register', a.kind === 'cr' ? c : a);
    }
    return;
  }
  if (a.kind === 'reg' && c.kind === 'reg') {
    if (SHIFTS.has(op)) {
      if (c.reg !== 1 || c.size !== 1) return void b.fail(`a shift count must be cl or an immediate, not '${c.name}'`, c);
      b.setForm(Form.RR, a.size, a);
      insn.r0 = a.reg;
      insn.r1 = 1;
    } else if (op === Op.IN) {
      if (c.reg !== 2 || c.size !== 2) return void b.fail(`the port of 'in' must be dx or an immediate, not '${c.name}'`, c);
      b.setForm(Form.RR, a.size, a);
      insn.r0 = a.reg;
      insn.r1 = 2;
    } else if (op === Op.OUT) {
      if (a.reg !== 2 || a.size !== 2) return void b.fail(`the port of 'out' must be dx or an immediate, not '${a.name}'`, a);
      b.setForm(Form.RR, c.size, c);
      insn.r0 = c.reg;
      insn.r1 = 2;
    } else if (op === Op.MOVZX || op === Op.MOVSX) {
      b.setForm(Form.RR, a.size, a);
      extendSizes(b, a.size, c.size, c);
      insn.r0 = a.reg;
      insn.r1 = c.reg;
    } else {
      b.setForm(Form.RR, a.size, a);
      if (a.size !== c.size) b.fail(`operand size mismatch: '${a.name}' is ${bits(a.size)}, '${c.name}' is ${bits(c.size)}`, c);
      insn.r0 = a.reg;
      insn.r1 = c.reg;
    }
    return;
  }
  if (a.kind === 'reg' && c.kind === 'imm') {
    insn.r0 = a.reg;
    if (op === Op.IN) {
      b.setForm(Form.RI, a.size, a);
      b.imm(c, 0n, 255n, 'port');
    } else if (SHIFTS.has(op)) {
      b.setForm(Form.RI, a.size, a);
      b.imm(c, 0n, 255n, 'shift count');
    } else if (op === Op.MOV && a.size === 8) {
      const v = b.value(c.expr);
      if (forceWide || b.ctx.wide || v < MIN_I32 || v > MAX_I32) {
        b.setForm(Form.RI64, 8, a);
        insn.immLo = Number(BigInt.asUintN(32, v));
        insn.immHi = Number(BigInt.asUintN(32, v >> 32n));
      } else {
        b.setForm(Form.RI, 8, a);
        b.setImm32(v);
      }
    } else {
      b.setForm(Form.RI, a.size, a);
      b.sizedImm(c, a.size);
    }
    return;
  }
  if (a.kind === 'reg' && c.kind === 'mem') {
    insn.r0 = a.reg;
    if (op === Op.MOVZX || op === Op.MOVSX) {
      b.setForm(Form.RM, a.size, a);
      if (c.size === undefined) return void b.fail(`'${b.mnemonic}' needs the size of its memory operand (byte, word or dword)`, c);
      extendSizes(b, a.size, c.size, c);
    } else if (op === Op.LEA || op === Op.INVPCID) {
      // The memory operand is an address, not a load: any size keyword is decoration.
      b.setForm(Form.RM, a.size, a);
      if (op === Op.INVPCID) b.need64(a, 'the invpcid type operand');
    } else {
      b.setForm(Form.RM, a.size, a);
      b.agree(a, c);
    }
    b.mem(c);
    return;
  }
  if (a.kind === 'mem' && c.kind === 'reg') {
    if (SHIFTS.has(op)) {
      if (c.reg !== 1 || c.size !== 1) return void b.fail(`a shift count must be cl or an immediate, not '${c.name}'`, c);
      const size = b.memSize(a);
      b.setForm(Form.MR, size ?? 8, a);
      insn.r0 = 1;
    } else if (op === Op.XCHG) {
      // xchg is symmetric; only the r,m form exists.
      b.setForm(Form.RM, c.size, c);
      b.agree(c, a);
      insn.r0 = c.reg;
    } else {
      b.setForm(Form.MR, c.size, c);
      b.agree(c, a);
      insn.r0 = c.reg;
    }
    b.mem(a);
    return;
  }
  if (a.kind === 'mem' && c.kind === 'imm') {
    const size = b.memSize(a);
    b.setForm(Form.MI, size ?? 8, a);
    b.mem(a);
    if (SHIFTS.has(op)) b.imm(c, 0n, 255n, 'shift count');
    else b.sizedImm(c, size ?? 8);
    return;
  }
  if (a.kind === 'imm' && c.kind === 'reg') {
    b.setForm(Form.IR, c.size, c);
    insn.r0 = c.reg;
    b.imm(a, 0n, 255n, 'port');
    return;
  }
  b.fail(`invalid operands for '${b.mnemonic}' (allowed: ${b.allowedForms()})`, a);
}

function extendSizes(b: Builder, size: number, src: OperandSize, at: { col: number; end: number }): void {
  b.insn.srcSize = src;
  if (src >= size) b.fail(`'${b.mnemonic}' must widen: the source (${bits(src)}) must be smaller than the destination (${bits(size)})`, at);
  else if (b.op === Op.MOVZX && src === 4) b.fail(`movzx from a 32-bit source does not exist: 'mov r32, r/m32' already zero-extends`, at);
}

/** Builds and encodes one instruction. */
export function buildInstruction(mnemonic: string, operands: Operand[], ctx: InsnContext, col: number, end: number): BuiltInsn {
  const forceWide = mnemonic === 'movabs';
  const op = forceWide ? Op.MOV : MNEMONICS.get(mnemonic);
  const info = op === undefined ? undefined : OP_INFO.get(op);
  if (op === undefined || !info) {
    ctx.error(`unknown instruction '${mnemonic}'`, col, end);
    return { insn: undefined, length: 0, wide: false, bytes: [] };
  }
  const b = new Builder(op, info, mnemonic, ctx, col, end);
  build(b, operands, forceWide);
  if (forceWide && b.ok && b.insn.form !== Form.RI64) b.fail(`movabs takes a 64-bit register and an immediate`);
  const length = b.guessForm === undefined ? 0 : FORM_LENGTH[b.guessForm];
  const wide = b.insn.form === Form.RI64;
  if (!b.ok) return { insn: undefined, length, wide, bytes: [] };
  b.insn.length = length;
  const bytes = encode(b.insn);
  // A cheap guard that the tables above and the decoder agree.
  if (bytes.length !== length || typeof decode(Uint8Array.from(bytes), 0) === 'string') {
    ctx.error(`internal assembler error: '${mnemonic}' encoded to an undecodable instruction`, col, end);
    return { insn: undefined, length, wide, bytes: [] };
  }
  return { insn: b.insn, length, wide, bytes };
}
