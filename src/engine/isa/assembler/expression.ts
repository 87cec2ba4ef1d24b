// Assembler expressions: a tiny C-like grammar over 64-bit BigInt values. Parsed once, evaluated
// in every pass, because label values (forward references) only settle after layout.
import { Token } from './lexer';

export type Expr =
  | { k: 'num'; v: bigint; col: number; end: number }
  | { k: 'sym'; name: string; col: number; end: number }
  | { k: 'here'; col: number; end: number }
  | { k: 'un'; op: string; a: Expr; col: number; end: number }
  | { k: 'bin'; op: string; a: Expr; b: Expr; col: number; end: number };

/** Thrown inside the parsers only; statement parsing turns it into a diagnostic. */
export class ParseError extends Error {
  constructor(message: string, readonly col: number, readonly end: number) {
    super(message);
  }
}

/** A cursor over one line's tokens. `lineEnd` is the column used for "expected ... at end of line". */
export class TokenStream {
  i = 0;
  constructor(readonly toks: readonly Token[], readonly lineEnd: number) {}
  peek(off = 0): Token | undefined {
    return this.toks[this.i + off];
  }
  next(): Token | undefined {
    return this.toks[this.i++];
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }
  isOp(text: string, off = 0): boolean {
    const t = this.peek(off);
    return t !== undefined && t.kind === 'op' && t.text === text;
  }
  /** Position for an error about the current token (or the end of the line). */
  here(): { col: number; end: number } {
    const t = this.peek();
    return t ? { col: t.col, end: t.end } : { col: this.lineEnd, end: this.lineEnd + 1 };
  }
  fail(message: string): never {
    const h = this.here();
    throw new ParseError(message, h.col, h.end);
  }
  expectOp(text: string): Token {
    if (!this.isOp(text)) this.fail(`expected '${text}'${this.describeNext()}`);
    return this.next() as Token;
  }
  describeNext(): string {
    const t = this.peek();
    return t ? ` but found '${t.text}'` : ' at end of line';
  }
}

const MAX_PAREN_DEPTH = 64;

// Binary operators by precedence level, loosest first (C's order).
const LEVELS: readonly (readonly string[])[] = [
  ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
];

/**
 * Parses an expression. `isRegister` lets the caller reject register names with a clear message
 * (a register is never a symbol).
 */
export function parseExpr(ts: TokenStream, isRegister: (name: string) => boolean): Expr {
  let depth = 0;
  const level = (n: number): Expr => {
    if (n === LEVELS.length) return unary();
    let a = level(n + 1);
    for (;;) {
      const t = ts.peek();
      if (!t || t.kind !== 'op' || !LEVELS[n].includes(t.text)) return a;
      ts.next();
      const b = level(n + 1);
      a = { k: 'bin', op: t.text, a, b, col: a.col, end: b.end };
    }
  };
  const unary = (): Expr => {
    const t = ts.peek();
    if (t && t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '!')) {
      ts.next();
      const a = unary();
      return { k: 'un', op: t.text, a, col: t.col, end: a.end };
    }
    return primary();
  };
  const primary = (): Expr => {
    const t = ts.peek();
    if (!t) return ts.fail('expected an expression at end of line');
    if (t.kind === 'num') {
      ts.next();
      return { k: 'num', v: t.value, col: t.col, end: t.end };
    }
    if (t.kind === 'ident') {
      if (isRegister(t.text)) throw new ParseError(`register '${t.text}' cannot be used in an expression`, t.col, t.end);
      if (t.text.toLowerCase() === 'rip') throw new ParseError('rip-relative addressing is not supported', t.col, t.end);
      ts.next();
      return { k: 'sym', name: t.text, col: t.col, end: t.end };
    }
    if (t.kind === 'op' && t.text === '$') {
      ts.next();
      return { k: 'here', col: t.col, end: t.end };
    }
    if (t.kind === 'op' && t.text === '(') {
      if (++depth > MAX_PAREN_DEPTH) throw new ParseError('expression nested too deeply', t.col, t.end);
      ts.next();
      const e = level(0);
      depth--;
      const close = ts.expectOp(')');
      return { ...e, col: t.col, end: close.end };
    }
    if (t.kind === 'str') throw new ParseError('a string cannot be used in an expression', t.col, t.end);
    return ts.fail(`expected an expression but found '${t.text}'`);
  };
  return level(0);
}

export interface EvalEnv {
  /** Value of a symbol (local names already qualified by the caller), or undefined. */
  lookup(name: string): bigint | undefined;
  /** Value of `$`. */
  here: bigint;
}

export type EvalOutcome = { ok: true; value: bigint } | { ok: false; message: string; col: number; end: number };

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

class EvalError {
  constructor(readonly message: string, readonly col: number, readonly end: number) {}
}

function binary(e: Extract<Expr, { k: 'bin' }>, a: bigint, b: bigint): bigint {
  switch (e.op) {
    case '+': return wrap(a + b);
    case '-': return wrap(a - b);
    case '*': return wrap(a * b);
    case '/':
    case '%':
      if (b === 0n) throw new EvalError('division by zero', e.col, e.end);
      return wrap(e.op === '/' ? a / b : a % b);
    case '<<':
    case '>>':
      if (b < 0n || b > 63n) throw new EvalError(`shift count ${b} is out of range 0..63`, e.b.col, e.b.end);
      // >> is a logical shift of the 64-bit pattern: address arithmetic wants that.
      return e.op === '<<' ? wrap(a << b) : wrap(BigInt.asUintN(64, a) >> b);
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
    case '<': return a < b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    case '||': return a !== 0n || b !== 0n ? 1n : 0n;
  }
  throw new EvalError(`unknown operator '${e.op}'`, e.col, e.end);
}

function evalNode(e: Expr, env: EvalEnv): bigint {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'here':
      return env.here;
    case 'sym': {
      const v = env.lookup(e.name);
      if (v === undefined) throw new EvalError(`undefined symbol '${e.name}'`, e.col, e.end);
      return v;
    }
    case 'un': {
      const a = evalNode(e.a, env);
      if (e.op === '-') return wrap(-a);
      if (e.op === '~') return ~a;
      if (e.op === '!') return a === 0n ? 1n : 0n;
      return a;
    }
    case 'bin':
      return binary(e, evalNode(e.a, env), evalNode(e.b, env));
  }
}

export function evaluate(e: Expr, env: EvalEnv): EvalOutcome {
  try {
    return { ok: true, value: evalNode(e, env) };
  } catch (err) {
    if (err instanceof EvalError) return { ok: false, message: err.message, col: err.col, end: err.end };
    throw err;
  }
}
