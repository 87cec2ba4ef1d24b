// The debugger's expression language: what breakpoint conditions, watch, hover, `evaluate` and
// the console commands' arguments are written in. 64-bit unsigned arithmetic on bigint
// (wrapping like the registers), C operator precedence, and three kinds of names: registers
// (rax, eax, al, rip, rflags, cr3, ...), labels and .equ symbols of the program, and memory
// reads `[addr]` / `byte|word|dword|qword [addr]` that go through the vCPU's translation
// without side effects. Parse once (parseExpression) and evaluate many times (a condition).

export type MemSize = 1 | 2 | 4 | 8;

export type Expr =
  | { kind: 'num'; value: bigint }
  | { kind: 'name'; name: string; pos: number }
  | { kind: 'mem'; size: MemSize; address: Expr }
  | { kind: 'unary'; op: '-' | '~' | '!' | '+'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'cond'; test: Expr; then: Expr; else: Expr };

type BinaryOp = '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&' | '^' | '|' | '&&' | '||';

/** What names and memory mean: a vCPU's registers, a program's symbols, a translated read. */
export interface EvalEnv {
  register(name: string): bigint | undefined;
  symbol(name: string): bigint | undefined;
  /** Reads little-endian; throws (an ExpressionError) when the address cannot be read. */
  readMemory(address: bigint, size: MemSize): bigint;
}

export class ExpressionError extends Error {
  constructor(message: string, readonly position?: number) {
    super(message);
  }
}

const SIZES: Record<string, MemSize> = { byte: 1, word: 2, dword: 4, qword: 8 };
const MASK = (1n << 64n) - 1n;

interface Token {
  kind: 'num' | 'name' | 'op' | 'end';
  text: string;
  value?: bigint;
  pos: number;
}

const OPS = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '<', '>', '&', '^', '|', '~', '!', '(', ')', '[', ']', '?', ':'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(0x[0-9a-f_]+|0b[01_]+|0o[0-7_]+|[0-9][0-9_]*)/i.exec(src.slice(i));
    if (num) {
      const text = num[1].replace(/_/g, '');
      const lower = text.toLowerCase();
      const value = lower.startsWith('0o') ? BigInt('0o' + lower.slice(2)) : BigInt(lower);
      // A number glued to letters (12ab) is a typo, not a number followed by a name.
      if (/[a-z_.$@]/i.test(src[i + num[1].length] ?? '')) throw new ExpressionError(`bad number '${src.slice(i).split(/[^\w.$@]/)[0]}'`, i);
      out.push({ kind: 'num', text, value, pos: i });
      i += num[1].length;
      continue;
    }
    const name = /^[A-Za-z_.$@][\w.$@]*/.exec(src.slice(i));
    if (name) {
      out.push({ kind: 'name', text: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected '${c}' at column ${i + 1}`, i);
    out.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}

const LEVELS: BinaryOp[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i];
  }

  private take(): Token {
    return this.toks[this.i++];
  }

  private expect(text: string): void {
    const t = this.take();
    if (t.text !== text) throw new ExpressionError(t.kind === 'end' ? `expected '${text}' at the end` : `expected '${text}' at column ${t.pos + 1}, found '${t.text}'`, t.pos);
  }

  parseAll(): Expr {
    const e = this.conditional();
    const t = this.peek();
    if (t.kind !== 'end') throw new ExpressionError(`unexpected '${t.text}' at column ${t.pos + 1}`, t.pos);
    return e;
  }

  private conditional(): Expr {
    const test = this.binary(0);
    if (this.peek().text !== '?') return test;
    this.take();
    const then = this.conditional();
    this.expect(':');
    return { kind: 'cond', test, then, else: this.conditional() };
  }

  private binary(level: number): Expr {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !(LEVELS[level] as string[]).includes(t.text)) return left;
      this.take();
      left = { kind: 'binary', op: t.text as BinaryOp, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '~' || t.text === '!' || t.text === '+')) {
      this.take();
      return { kind: 'unary', op: t.text, arg: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.take();
    if (t.kind === 'num') return { kind: 'num', value: t.value! & MASK };
    if (t.kind === 'op' && t.text === '(') {
      const e = this.conditional();
      this.expect(')');
      return e;
    }
    if (t.kind === 'op' && t.text === '[') return this.memory(8);
    if (t.kind === 'name') {
      const size = SIZES[t.text.toLowerCase()];
      if (size !== undefined && (this.peek().text === '[' || this.peek().text.toLowerCase() === 'ptr')) {
        if (this.peek().text.toLowerCase() === 'ptr') this.take();
        this.expect('[');
        return this.memory(size);
      }
      return { kind: 'name', name: t.text, pos: t.pos };
    }
    throw new ExpressionError(t.kind === 'end' ? 'expression ends too early' : `unexpected '${t.text}' at column ${t.pos + 1}`, t.pos);
  }

  private memory(size: MemSize): Expr {
    const address = this.conditional();
    this.expect(']');
    return { kind: 'mem', size, address };
  }
}

export function parseExpression(text: string): Expr {
  if (text.trim() === '') throw new ExpressionError('empty expression');
  return new Parser(tokenize(text)).parseAll();
}

const b = (v: boolean): bigint => (v ? 1n : 0n);

export function evaluateExpr(e: Expr, env: EvalEnv): bigint {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'name': {
      const r = env.register(e.name) ?? env.symbol(e.name);
      if (r === undefined) throw new ExpressionError(`unknown name '${e.name}'`, e.pos);
      return BigInt.asUintN(64, r);
    }
    case 'mem':
      return env.readMemory(evaluateExpr(e.address, env), e.size);
    case 'unary': {
      const v = evaluateExpr(e.arg, env);
      if (e.op === '-') return (-v) & MASK;
      if (e.op === '~') return ~v & MASK;
      if (e.op === '!') return b(v === 0n);
      return v;
    }
    case 'cond':
      return evaluateExpr(e.test, env) !== 0n ? evaluateExpr(e.then, env) : evaluateExpr(e.else, env);
    case 'binary': {
      // Short-circuit, so `rcx != 0 && [rcx] == 5` never reads through a null pointer.
      if (e.op === '&&') return b(evaluateExpr(e.left, env) !== 0n && evaluateExpr(e.right, env) !== 0n);
      if (e.op === '||') return b(evaluateExpr(e.left, env) !== 0n || evaluateExpr(e.right, env) !== 0n);
      const l = evaluateExpr(e.left, env);
      const r = evaluateExpr(e.right, env);
      switch (e.op) {
        case '+': return (l + r) & MASK;
        case '-': return (l - r) & MASK;
        case '*': return (l * r) & MASK;
        case '/':
        case '%':
          if (r === 0n) throw new ExpressionError('division by zero');
          return e.op === '/' ? l / r : l % r;
        case '<<': return r >= 64n ? 0n : (l << r) & MASK;
        case '>>': return r >= 64n ? 0n : l >> r;
        case '<': return b(l < r);
        case '<=': return b(l <= r);
        case '>': return b(l > r);
        case '>=': return b(l >= r);
        case '==': return b(l === r);
        case '!=': return b(l !== r);
        case '&': return l & r;
        case '^': return l ^ r;
        case '|': return l | r;
      }
    }
  }
  throw new ExpressionError('internal: unknown expression node');
}

/** Parses and evaluates in one go (watch, hover, console arguments). */
export function evaluateExpression(text: string, env: EvalEnv): bigint {
  return evaluateExpr(parseExpression(text), env);
}

/** The names an expression reads (to tell a hover on `rax` from one on a label, or validate a condition). */
export function namesIn(e: Expr): string[] {
  switch (e.kind) {
    case 'name': return [e.name];
    case 'mem': return namesIn(e.address);
    case 'unary': return namesIn(e.arg);
    case 'binary': return [...namesIn(e.left), ...namesIn(e.right)];
    case 'cond': return [...namesIn(e.test), ...namesIn(e.then), ...namesIn(e.else)];
    default: return [];
  }
}
