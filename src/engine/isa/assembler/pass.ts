// One pass over the parsed statements: conditionals, labels, symbols, directives and
// instructions, advancing the location counter. The driver repeats layout passes until label
// values stop changing, then runs one final pass that stores bytes and keeps its diagnostics.
import { Expr, evaluate } from './expression';
import { buildInstruction } from './instructionBuilder';
import { isRegisterName } from './operands';
import { MAX_ADDRESS, MAX_OUTPUT_BYTES, OutputBuilder } from './output';
import { CONDITIONAL_DIRECTIVES, DirectiveArg, Statement } from './statement';
import { Diagnostic, SourceLocation, SourceMapEntry } from './types';

interface CondFrame {
  parentActive: boolean;
  active: boolean;
  /** Some branch of this .if chain was already taken. */
  taken: boolean;
  sawElse: boolean;
  st: Statement;
}

type Where = { col: number; end?: number };

const DATA_SIZES: Readonly<Record<string, number>> = { '.byte': 1, '.word': 2, '.dword': 4, '.qword': 8 };

export interface PassInput {
  statements: readonly Statement[];
  /** Symbol values from the previous pass, for forward references. */
  previous: ReadonlyMap<string, bigint>;
  /** Statements that needed a 64-bit immediate in an earlier pass (they never shrink back). */
  wide: Set<number>;
  defines: ReadonlyMap<string, bigint>;
  /** Final pass: store bytes. */
  store: boolean;
}

export class Pass {
  readonly symbols = new Map<string, bigint>();
  readonly labels = new Map<string, number>();
  /** Each label's guest-physical load address (differs from its value under `.phys`). */
  readonly labelLoads = new Map<string, number>();
  readonly diagnostics: Diagnostic[] = [];
  readonly sourceMap: SourceMapEntry[] = [];
  readonly output: OutputBuilder;
  entry: number | undefined;
  firstInsn: number | undefined;
  private readonly defs = new Map<string, SourceLocation>();
  private lc = 0;
  /** Load address minus location counter, set by .phys (a linker's LMA − VMA); .org resets it. */
  private loadOffset = 0;
  private scope = '';
  private entrySet: Statement | undefined;
  private readonly conds: CondFrame[] = [];
  private st!: Statement;

  constructor(private readonly input: PassInput) {
    this.output = new OutputBuilder(input.store);
    for (const [name, v] of input.defines) {
      this.symbols.set(name, v);
      this.defs.set(name, { file: '<defines>', line: 1, column: 1 });
    }
  }

  run(): this {
    this.input.statements.forEach((st, i) => {
      this.st = st;
      this.statement(st, i);
    });
    for (const c of this.conds) {
      this.st = c.st;
      this.report('error', 'unterminated .if (missing .endif)', this.bodyWhere());
    }
    return this;
  }

  private get active(): boolean {
    return this.conds.length === 0 || this.conds[this.conds.length - 1].active;
  }

  private bodyWhere(): Where {
    const b = this.st.body;
    return 'col' in b ? { col: b.col, end: 'end' in b ? b.end : undefined } : { col: 1 };
  }

  private report(severity: 'error' | 'warning', message: string, at: Where): void {
    const src = this.st.src;
    const d: Diagnostic = src.fixedColumn !== undefined
      ? { file: src.file, line: src.line, column: src.fixedColumn, severity, message: message + (src.context ?? '') }
      : { file: src.file, line: src.line, column: Math.max(1, at.col), severity, message };
    if (src.fixedColumn === undefined && at.end !== undefined && at.end > at.col) d.endColumn = at.end;
    this.diagnostics.push(d);
  }

  private error(message: string, at: Where): void {
    this.report('error', message, at);
  }

  private location(col: number): SourceLocation {
    const src = this.st.src;
    return { file: src.file, line: src.line, column: src.fixedColumn ?? col };
  }

  private qualify(name: string): string {
    return name.startsWith('.') ? this.scope + name : name;
  }

  private lookup(name: string): bigint | undefined {
    const full = this.qualify(name);
    return this.symbols.get(full) ?? this.input.previous.get(full);
  }

  /** Evaluates, reporting any problem; undefined when it failed. */
  private eval(e: Expr): bigint | undefined {
    const r = evaluate(e, { lookup: (n) => this.lookup(n), here: BigInt(this.lc) });
    if (r.ok) return r.value;
    this.error(r.message, r);
    return undefined;
  }

  private define(name: string, value: bigint, at: Where): boolean {
    if (isRegisterName(name)) {
      this.error(`'${name}' is a register name and cannot be a symbol`, at);
      return false;
    }
    const prev = this.defs.get(name);
    if (prev) {
      this.error(`'${name}' is already defined at ${prev.file}:${prev.line}`, at);
      return false;
    }
    this.defs.set(name, this.location(at.col));
    this.symbols.set(name, value);
    return true;
  }

  private statement(st: Statement, index: number): void {
    if (CONDITIONAL_DIRECTIVES.has(st.head)) {
      this.conditional(st);
      return;
    }
    if (!this.active) return;
    for (const l of st.labels) {
      if (!l.name.startsWith('.')) this.scope = l.name;
      const name = this.qualify(l.name);
      if (this.define(name, BigInt(this.lc), l)) {
        this.labels.set(name, this.lc);
        this.labelLoads.set(name, this.lc + this.loadOffset);
      }
    }
    const b = st.body;
    switch (b.kind) {
      case 'empty':
        return;
      case 'error':
        this.error(b.message, b);
        return;
      case 'equ': {
        const v = this.eval(b.expr);
        if (v !== undefined) this.define(this.qualify(b.name), v, b);
        return;
      }
      case 'directive':
        this.directive(b.name, b.args, b);
        return;
      case 'insn': {
        const built = buildInstruction(b.mnemonic, b.operands, {
          evaluate: (e) => this.eval(e) ?? 0n,
          error: (m, col, end) => this.error(m, { col, end }),
          here: this.lc,
          wide: this.input.wide.has(index),
        }, b.col, b.end);
        if (built.wide) this.input.wide.add(index);
        if (this.firstInsn === undefined && built.length > 0) this.firstInsn = this.lc;
        if (built.insn) this.emit(built.bytes, 'insn', b);
        else this.advance(built.length, b);
        return;
      }
    }
  }

  private conditional(st: Statement): void {
    const top = this.conds[this.conds.length - 1] as CondFrame | undefined;
    const b = st.body;
    const name = st.head;
    if (b.kind !== 'directive') {
      // A malformed conditional: report it when it matters, but keep the nesting right.
      if (this.active) this.error(b.kind === 'error' ? b.message : `bad ${name}`, b.kind === 'error' ? b : { col: 1 });
      if (name.startsWith('.if')) this.conds.push({ parentActive: this.active, active: false, taken: true, sawElse: false, st });
      else if (name === '.endif') this.conds.pop();
      else if (top) top.active = false;
      return;
    }
    if (name.startsWith('.if')) {
      const parentActive = this.active;
      const value = parentActive ? this.condition(name, b.args[0]) : false;
      this.conds.push({ parentActive, active: parentActive && value, taken: value, sawElse: false, st });
      return;
    }
    if (!top) {
      if (this.active) this.error(`${name} without .if`, b);
      return;
    }
    if (name === '.endif') {
      this.conds.pop();
      return;
    }
    if (top.sawElse) {
      if (top.parentActive) this.error(`${name} after .else`, b);
      top.active = false;
      return;
    }
    if (name === '.else') {
      top.active = top.parentActive && !top.taken;
      top.taken = true;
      top.sawElse = true;
      return;
    }
    // .elseif
    if (top.taken || !top.parentActive) {
      top.active = false;
      return;
    }
    const value = this.condition('.if', b.args[0]);
    top.active = value;
    top.taken = value;
  }

  private condition(name: string, arg: DirectiveArg): boolean {
    if (arg.kind !== 'expr') {
      this.error(`${name} needs an expression, not a string`, arg);
      return false;
    }
    if (name === '.ifdef' || name === '.ifndef') {
      if (arg.expr.k !== 'sym') {
        this.error(`${name} needs a symbol name`, arg);
        return false;
      }
      // Only what is defined above this line (or by the caller's defines) counts.
      const defined = this.symbols.has(this.qualify(arg.expr.name));
      return name === '.ifdef' ? defined : !defined;
    }
    const v = this.eval(arg.expr);
    return v !== undefined && v !== 0n;
  }

  private advance(n: number, at: Where): boolean {
    if (this.lc + n > MAX_ADDRESS) {
      this.error(`location counter passes the top of guest-physical memory (2^52)`, at);
      return false;
    }
    this.lc += n;
    return true;
  }

  private room(n: number, at: Where): boolean {
    if (this.output.fits(this.lc + this.loadOffset, n)) return true;
    if (this.lc + n > MAX_ADDRESS) this.error(`location counter passes the top of guest-physical memory (2^52)`, at);
    else this.error(`output too large: more than ${MAX_OUTPUT_BYTES} bytes in total`, at);
    return false;
  }

  private mapEntry(length: number, kind: 'insn' | 'data', at: Where): void {
    const src = this.st.src;
    const e: SourceMapEntry = { address: this.lc, loadAddress: this.lc + this.loadOffset, length, kind, text: src.text.trim(), ...this.location(at.col) };
    if (src.definition) e.macroDefinition = src.definition;
    this.sourceMap.push(e);
  }

  private emit(bytes: ArrayLike<number>, kind: 'insn' | 'data', at: Where): void {
    if (bytes.length === 0 || !this.room(bytes.length, at)) return;
    this.mapEntry(bytes.length, kind, at);
    this.output.write(this.lc + this.loadOffset, bytes, this.location(at.col));
    this.lc += bytes.length;
  }

  private fill(value: number, count: number, at: Where): void {
    if (count === 0 || !this.room(count, at)) return;
    this.mapEntry(count, 'data', at);
    this.output.fill(this.lc + this.loadOffset, value, count, this.location(at.col));
    this.lc += count;
  }

  private exprArg(arg: DirectiveArg, what: string): bigint | undefined {
    if (arg.kind !== 'expr') {
      this.error(`${what} must be an expression, not a string`, arg);
      return undefined;
    }
    return this.eval(arg.expr);
  }

  /** An expression argument within [min, max]. */
  private ranged(arg: DirectiveArg | undefined, what: string, min: bigint, max: bigint, dflt: bigint): bigint | undefined {
    if (!arg) return dflt;
    const v = this.exprArg(arg, what);
    if (v === undefined) return undefined;
    if (v < min || v > max) {
      this.error(`${what} ${v} is out of range ${min}..${max}`, arg);
      return undefined;
    }
    return v;
  }

  private directive(name: string, args: DirectiveArg[], at: Where): void {
    const size = DATA_SIZES[name];
    if (size !== undefined) {
      const bytes: number[] = [];
      const bits = BigInt(size * 8);
      const min = size === 8 ? -(1n << 63n) : -(1n << (bits - 1n));
      const max = size === 8 ? (1n << 63n) - 1n : (1n << bits) - 1n;
      for (const a of args) {
        if (a.kind === 'str') {
          if (size !== 1) this.error(`${name} does not take strings (use .ascii)`, a);
          else bytes.push(...a.bytes);
          continue;
        }
        const v = this.eval(a.expr) ?? 0n;
        if (v < min || v > max) this.error(`value ${v} does not fit in ${name} (${min}..${max})`, a);
        for (let i = 0n; i < bits; i += 8n) bytes.push(Number((v >> i) & 0xffn));
      }
      this.emit(bytes, 'data', at);
      return;
    }
    switch (name) {
      case '.ascii':
      case '.asciz': {
        const bytes: number[] = [];
        for (const a of args) {
          if (a.kind !== 'str') {
            this.error(`${name} expects quoted strings`, a);
            continue;
          }
          bytes.push(...a.bytes);
          if (name === '.asciz') bytes.push(0);
        }
        this.emit(bytes, 'data', at);
        return;
      }
      case '.org': {
        const v = this.ranged(args[0], '.org address', 0n, BigInt(MAX_ADDRESS), 0n);
        if (v !== undefined) {
          this.lc = Number(v);
          this.loadOffset = 0;
        }
        return;
      }
      case '.phys': {
        // Following bytes keep addresses counted from the location counter (what code and
        // labels see, e.g. a user program's gva) but are loaded at this guest-physical address.
        const v = this.ranged(args[0], '.phys address', 0n, BigInt(MAX_ADDRESS), 0n);
        if (v !== undefined) this.loadOffset = Number(v) - this.lc;
        return;
      }
      case '.space': {
        const n = this.ranged(args[0], '.space size', 0n, BigInt(MAX_OUTPUT_BYTES), 0n);
        const fill = this.ranged(args[1], '.space fill byte', -128n, 255n, 0n);
        if (n !== undefined && fill !== undefined) this.fill(Number(fill) & 0xff, Number(n), at);
        return;
      }
      case '.align': {
        const n = this.ranged(args[0], '.align boundary', 1n, 1n << 30n, 1n);
        const fill = this.ranged(args[1], '.align fill byte', -128n, 255n, 0n);
        if (n === undefined || fill === undefined) return;
        if ((n & (n - 1n)) !== 0n) return this.error(`.align boundary ${n} is not a power of two`, args[0]);
        const a = Number(n);
        this.fill(Number(fill) & 0xff, (a - (this.lc % a)) % a, at);
        return;
      }
      case '.entry': {
        if (this.entrySet) return this.error(`the entry point is already set at line ${this.entrySet.src.line}`, at);
        this.entrySet = this.st;
        const v = this.ranged(args[0], '.entry address', 0n, BigInt(MAX_ADDRESS), 0n);
        if (v !== undefined) this.entry = Number(v);
        return;
      }
      case '.global':
      case '.globl':
        // Every symbol is visible already (one program, no linker); accepted for familiarity.
        for (const a of args) if (a.kind !== 'expr' || a.expr.k !== 'sym') this.error(`${name} expects symbol names`, a);
        return;
      case '.text':
      case '.data':
        // Sections are not modelled: bytes go where .org puts them.
        return;
      case '.error':
      case '.warning': {
        const a = args[0];
        if (a && a.kind !== 'str') return this.error(`${name} expects a quoted message`, a);
        const msg = a ? new TextDecoder().decode(new Uint8Array(a.bytes)) : `${name} directive`;
        this.report(name === '.error' ? 'error' : 'warning', msg, at);
        return;
      }
    }
    this.error(`directive '${name}' is not supported here`, at);
  }
}
