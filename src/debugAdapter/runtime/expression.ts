// The debugger's one expression language: breakpoint conditions, logpoint {expr}, hit
// conditions, event-filter conditions, data-breakpoint addresses, watch/hover/console values and
// the console commands' arguments (`walk rax + 8`). Values are 64-bit (bigint, wrapping) or
// strings (event fields such as reasonName, compared with == / !=). Grammar and precedence are
// C's (with `?:`); what names, memory and functions mean is the EvalContext's business
// (evalContext.ts). docs/debugging.md documents the language.

export type Value = bigint | string;

/** What names and memory mean where an expression is evaluated. */
export interface EvalContext {
  /** A name (register, event field, label, symbol) → value, or undefined when unknown. */
  lookup(name: string): Value | undefined;
  /** Reads `size` bytes at guest-virtual `address`; undefined when it is not mapped. */
  read(address: bigint, size: 1 | 2 | 4 | 8): bigint | undefined;
  /** Functions such as pte(gva); undefined when unknown. */
  call?(name: string, args: bigint[]): bigint | undefined;
}

export class ExpressionError extends Error {}

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

type Node =
  | { t: 'num'; v: bigint }
  | { t: 'str'; v: string }
  | { t: 'name'; name: string }
  | { t: 'mem'; size: 1 | 2 | 4 | 8; addr: Node }
  | { t: 'call'; name: string; args: Node[] }
  | { t: 'unary'; op: string; a: Node }
  | { t: 'binary'; op: string; a: Node; b: Node }
  | { t: 'cond'; test: Node; then: Node; else: Node };

export interface Expression {
  readonly text: string;
  evaluate(ctx: EvalContext): Value;
}

const SIZES: Record<string, 1 | 2 | 4 | 8> = { byte: 1, word: 2, dword: 4, qword: 8 };

// Binary operators by precedence level, loosest first.
const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
const PUNCT = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '!', '~', '(', ')', '[', ']', ',', '?', ':'];

interface Token {
  kind: 'num' | 'str' | 'id' | 'op' | 'end';
  text: string;
  pos: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-f_]+|0b[01_]+|0o[0-7_]+|[0-9][0-9_]*)/i.exec(src.slice(i))!;
      i += m[0].length;
      // A number glued to letters (12ab) is a typo, not a number followed by a name.
      if (i < src.length && /[\w.$@]/.test(src[i])) throw new ExpressionError(`bad number '${src.slice(start, i + 1)}' at column ${start + 1}`);
      out.push({ kind: 'num', text: m[0], pos: start });
      continue;
    }
    if (/[A-Za-z_.$@]/.test(c)) {
      const m = /^[A-Za-z_.$@][\w.$@]*/.exec(src.slice(i))!;
      i += m[0].length;
      out.push({ kind: 'id', text: m[0], pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated string at column ${start + 1}`);
      out.push({ kind: 'str', text: src.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    const p = PUNCT.find((op) => src.startsWith(op, i));
    if (!p) throw new ExpressionError(`unexpected '${c}' at column ${start + 1}`);
    out.push({ kind: 'op', text: p, pos: start });
    i += p.length;
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i];
  }

  private next(): Token {
    return this.toks[this.i++];
  }

  private expect(text: string): void {
    const t = this.next();
    if (t.text !== text || t.kind === 'str') throw new ExpressionError(`expected '${text}' at column ${t.pos + 1}, found ${t.kind === 'end' ? 'the end' : `'${t.text}'`}`);
  }

  parseAll(): Node {
    const n = this.conditional();
    const t = this.peek();
    if (t.kind !== 'end') throw new ExpressionError(`unexpected '${t.text}' at column ${t.pos + 1}`);
    return n;
  }

  /** `test ? then : else`, loosest of all and right-associative, as in C. */
  private conditional(): Node {
    const test = this.binary(0);
    const t = this.peek();
    if (t.kind !== 'op' || t.text !== '?') return test;
    this.next();
    const then = this.conditional();
    this.expect(':');
    return { t: 'cond', test, then, else: this.conditional() };
  }

  private binary(level: number): Node {
    if (level === LEVELS.length) return this.unary();
    let a = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !LEVELS[level].includes(t.text)) return a;
      this.next();
      a = { t: 'binary', op: t.text, a, b: this.binary(level + 1) };
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '!' || t.text === '~' || t.text === '+')) {
      this.next();
      return { t: 'unary', op: t.text, a: this.unary() };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === 'num') return { t: 'num', v: U64(BigInt(t.text.replace(/_/g, ''))) };
    if (t.kind === 'str') return { t: 'str', v: t.text };
    if (t.kind === 'op' && t.text === '(') {
      const n = this.conditional();
      this.expect(')');
      return n;
    }
    if (t.kind === 'op' && t.text === '[') return this.memory(8);
    if (t.kind === 'id') {
      const size = SIZES[t.text.toLowerCase()];
      const after = this.peek();
      // `dword [x]` and the assembler's `dword ptr [x]`.
      if (size !== undefined && after.kind === 'op' && after.text === '[') {
        this.next();
        return this.memory(size);
      }
      if (size !== undefined && after.kind === 'id' && after.text.toLowerCase() === 'ptr') {
        this.next();
        this.expect('[');
        return this.memory(size);
      }
      if (this.peek().kind === 'op' && this.peek().text === '(') {
        this.next();
        const args: Node[] = [];
        if (this.peek().text !== ')') {
          args.push(this.conditional());
          while (this.peek().text === ',') {
            this.next();
            args.push(this.conditional());
          }
        }
        this.expect(')');
        return { t: 'call', name: t.text, args };
      }
      return { t: 'name', name: t.text };
    }
    throw new ExpressionError(t.kind === 'end' ? 'unexpected end of expression' : `unexpected '${t.text}' at column ${t.pos + 1}`);
  }

  private memory(size: 1 | 2 | 4 | 8): Node {
    const addr = this.conditional();
    this.expect(']');
    return { t: 'mem', size, addr };
  }
}

function num(v: Value, what: string): bigint {
  if (typeof v === 'string') throw new ExpressionError(`${what}: expected a number, got the string "${v}"`);
  return v;
}

function truth(v: Value): boolean {
  return typeof v === 'string' ? v !== '' : v !== 0n;
}

function evalNode(n: Node, ctx: EvalContext): Value {
  switch (n.t) {
    case 'num':
    case 'str':
      return n.v;
    case 'name': {
      const v = ctx.lookup(n.name);
      if (v === undefined) throw new ExpressionError(`unknown name '${n.name}'`);
      return typeof v === 'bigint' ? U64(v) : v;
    }
    case 'mem': {
      const addr = num(evalNode(n.addr, ctx), 'memory address');
      const v = ctx.read(addr, n.size);
      if (v === undefined) throw new ExpressionError(`cannot read ${n.size} bytes at 0x${addr.toString(16)} (not mapped)`);
      return v;
    }
    case 'call': {
      const args = n.args.map((a) => num(evalNode(a, ctx), `${n.name}() argument`));
      const v = ctx.call?.(n.name, args);
      if (v === undefined) throw new ExpressionError(`unknown function '${n.name}' or bad arguments`);
      return v;
    }
    case 'cond':
      return truth(evalNode(n.test, ctx)) ? evalNode(n.then, ctx) : evalNode(n.else, ctx);
    case 'unary': {
      const a = evalNode(n.a, ctx);
      if (n.op === '!') return truth(a) ? 0n : 1n;
      const x = num(a, `operand of '${n.op}'`);
      return n.op === '-' ? U64(-x) : n.op === '~' ? U64(~x) : x;
    }
    case 'binary': {
      if (n.op === '&&') return truth(evalNode(n.a, ctx)) && truth(evalNode(n.b, ctx)) ? 1n : 0n;
      if (n.op === '||') return truth(evalNode(n.a, ctx)) || truth(evalNode(n.b, ctx)) ? 1n : 0n;
      const a = evalNode(n.a, ctx);
      const b = evalNode(n.b, ctx);
      if (n.op === '==') return a === b ? 1n : 0n;
      if (n.op === '!=') return a !== b ? 1n : 0n;
      const x = num(a, `left of '${n.op}'`);
      const y = num(b, `right of '${n.op}'`);
      switch (n.op) {
        case '+': return U64(x + y);
        case '-': return U64(x - y);
        case '*': return U64(x * y);
        case '/':
        case '%':
          if (y === 0n) throw new ExpressionError('division by zero');
          return n.op === '/' ? x / y : x % y;
        case '&': return x & y;
        case '|': return x | y;
        case '^': return x ^ y;
        case '<<': return y >= 64n ? 0n : U64(x << y);
        case '>>': return y >= 64n ? 0n : x >> y;
        case '<': return x < y ? 1n : 0n;
        case '>': return x > y ? 1n : 0n;
        case '<=': return x <= y ? 1n : 0n;
        case '>=': return x >= y ? 1n : 0n;
      }
      throw new ExpressionError(`unknown operator '${n.op}'`);
    }
  }
}

/** Parses an expression; throws ExpressionError saying what is wrong and where. */
export function parseExpression(text: string): Expression {
  if (text.trim() === '') throw new ExpressionError('empty expression');
  const node = new Parser(tokenize(text)).parseAll();
  return { text, evaluate: (ctx) => evalNode(node, ctx) };
}

/** Parses and evaluates a number (a console command's argument, an address); strings are refused. */
export function evaluateNumber(text: string, ctx: EvalContext): bigint {
  return num(parseExpression(text).evaluate(ctx), `'${text}'`);
}

/** Evaluates to true/false (non-zero / non-empty is true). */
export function isTrue(v: Value): boolean {
  return truth(v);
}

/** A value as the debugger shows it: hex for numbers. */
export function formatValue(v: Value): string {
  return typeof v === 'string' ? JSON.stringify(v) : '0x' + v.toString(16);
}

/**
 * A logpoint message: `{expr}` is replaced by the value (errors show in place, a logpoint never
 * stops the program); `{{` and `}}` are literal braces.
 */
export function interpolate(message: string, ctx: EvalContext): string {
  return message.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, expr: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    try {
      const v = parseExpression(expr ?? '').evaluate(ctx);
      return typeof v === 'string' ? v : '0x' + v.toString(16);
    } catch (e) {
      return `<${e instanceof Error ? e.message : String(e)}>`;
    }
  });
}

/**
 * A hit condition: `N` or `>= N` (from the Nth hit on), `> N`, `== N`, `% N` (every Nth).
 * Returns a predicate over the hit count, or throws ExpressionError.
 */
export function parseHitCondition(text: string): (hits: number) => boolean {
  const m = /^\s*(>=|>|==|=|%|<=|<)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ExpressionError(`hit condition '${text}': expected a count such as 5, >= 5, > 5, == 5 or % 5`);
  const n = Number(m[2]);
  switch (m[1]) {
    case '>': return (h) => h > n;
    case '==':
    case '=': return (h) => h === n;
    case '%': return (h) => n > 0 && h % n === 0;
    case '<': return (h) => h < n;
    case '<=': return (h) => h <= n;
    default: return (h) => h >= n;
  }
}
