// Instruction operands: registers, control registers, memory references and immediates.
// Memory references are decomposed syntactically into base/index registers and a displacement
// expression; the displacement is evaluated later, in each pass.
import { lookupControlRegister, lookupRegister } from '../registers';
import { Expr, ParseError, TokenStream, parseExpr } from './expression';
import { Token } from './lexer';

export type OperandSize = 1 | 2 | 4 | 8;

export type Operand =
  | { kind: 'reg'; reg: number; size: OperandSize; name: string; col: number; end: number }
  | { kind: 'cr'; cr: number; col: number; end: number }
  | { kind: 'mem'; size: OperandSize | undefined; base: number; index: number; scale: Expr | undefined; disp: Expr | undefined; col: number; end: number }
  | { kind: 'imm'; expr: Expr; col: number; end: number };

export const SIZE_KEYWORDS: Readonly<Record<string, OperandSize>> = { byte: 1, word: 2, dword: 4, qword: 8 };

export const isRegisterName = (name: string): boolean => lookupRegister(name) !== undefined || /^cr[0-9]+$/i.test(name);

const isOp = (t: Token | undefined, text: string): boolean => t !== undefined && t.kind === 'op' && t.text === text;

/** A +/- is binary when it follows something that ends an operand. */
function endsOperand(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === 'num' || t.kind === 'ident' || isOp(t, ')') || isOp(t, '$'));
}

function exprOf(toks: Token[], lineEnd: number): Expr {
  const ts = new TokenStream(toks, lineEnd);
  const e = parseExpr(ts, isRegisterName);
  if (!ts.atEnd()) ts.fail(`unexpected '${ts.peek()?.text}' in expression`);
  return e;
}

function parseMemory(inner: Token[], open: Token, close: Token, size: OperandSize | undefined, col: number): Operand {
  // Split into signed terms at top-level binary + and -.
  const terms: { sign: Token | undefined; toks: Token[] }[] = [];
  let cur: { sign: Token | undefined; toks: Token[] } = { sign: undefined, toks: [] };
  let depth = 0;
  inner.forEach((t, i) => {
    if (isOp(t, '(')) depth++;
    if (isOp(t, ')')) depth--;
    if (depth === 0 && (isOp(t, '+') || isOp(t, '-')) && endsOperand(inner[i - 1])) {
      terms.push(cur);
      cur = { sign: t, toks: [] };
      return;
    }
    cur.toks.push(t);
  });
  terms.push(cur);
  let base = -1;
  let index = -1;
  let scale: Expr | undefined;
  let disp: Expr | undefined;
  const reg64 = (t: Token): number => {
    const r = lookupRegister(t.text);
    if (!r) throw new ParseError(`'${t.text}' is not a register`, t.col, t.end);
    if (r.size !== 8) throw new ParseError(`address registers must be 64-bit ('${t.text}' is ${r.size * 8}-bit)`, t.col, t.end);
    return r.reg;
  };
  const isReg = (t: Token | undefined): boolean => t !== undefined && t.kind === 'ident' && lookupRegister(t.text) !== undefined;
  for (const term of terms) {
    const tk = term.toks;
    if (tk.length === 0) {
      const at = term.sign ?? open;
      throw new ParseError('empty term in memory operand', at.col, at.end);
    }
    const regTok = isReg(tk[0]) ? tk[0] : isReg(tk[tk.length - 1]) ? tk[tk.length - 1] : undefined;
    if (regTok) {
      if (term.sign?.text === '-') throw new ParseError('a register cannot be subtracted in a memory operand', term.sign.col, regTok.end);
      if (tk.length === 1) {
        if (base < 0) base = reg64(regTok);
        else if (index < 0) index = reg64(regTok);
        else throw new ParseError('too many registers in memory operand', regTok.col, regTok.end);
        continue;
      }
      // reg*scale or scale*reg
      const regFirst = regTok === tk[0];
      const star = regFirst ? tk[1] : tk[tk.length - 2];
      if (!isOp(star, '*')) throw new ParseError(`expected '*' after register '${regTok.text}'`, (star ?? regTok).col, (star ?? regTok).end);
      if (index >= 0 && scale !== undefined) throw new ParseError('only one register can be scaled', regTok.col, regTok.end);
      if (index >= 0) {
        // An earlier plain register took the index slot; it becomes the base.
        if (base >= 0) throw new ParseError('too many registers in memory operand', regTok.col, regTok.end);
        base = index;
      }
      index = reg64(regTok);
      const scaleToks = regFirst ? tk.slice(2) : tk.slice(0, tk.length - 2);
      if (scaleToks.length === 0) throw new ParseError('missing scale', star.col, star.end);
      scale = exprOf(scaleToks, close.col);
      continue;
    }
    const e = exprOf(tk, close.col);
    const first = term.sign ?? tk[0];
    const signed: Expr = term.sign?.text === '-' ? { k: 'un', op: '-', a: e, col: first.col, end: e.end } : e;
    disp = disp === undefined ? signed : { k: 'bin', op: '+', a: disp, b: signed, col: disp.col, end: signed.end };
  }
  // `[rcx + rax*2]` fills base first; `[rax*2 + rcx]` too (a plain register after a scaled one is the base).
  return { kind: 'mem', size, base, index, scale, disp, col, end: close.end };
}

/** Parses one operand from its tokens (already split at top-level commas). */
export function parseOperand(toks: Token[], lineEnd: number): Operand {
  if (toks.length === 0) throw new ParseError('missing operand', lineEnd, lineEnd + 1);
  const first = toks[0];
  let i = 0;
  let size: OperandSize | undefined;
  if (first.kind === 'ident' && first.text.toLowerCase() in SIZE_KEYWORDS && toks.length > 1) {
    size = SIZE_KEYWORDS[first.text.toLowerCase()];
    i = 1;
    if (toks[1].kind === 'ident' && toks[1].text.toLowerCase() === 'ptr') i = 2;
    if (!isOp(toks[i], '[')) {
      const t = toks[i] ?? first;
      throw new ParseError(`a size keyword must be followed by a memory operand '[...]'`, t.col, t.end);
    }
  }
  if (isOp(toks[i], '[')) {
    const open = toks[i];
    const close = toks[toks.length - 1];
    if (!isOp(close, ']') || close === open) throw new ParseError("missing ']' at the end of the memory operand", open.col, (close ?? open).end);
    const inner = toks.slice(i + 1, toks.length - 1);
    if (inner.length === 0) throw new ParseError('empty memory operand', open.col, close.end);
    if (inner.some((t) => isOp(t, '[') || isOp(t, ']'))) throw new ParseError('nested brackets in memory operand', open.col, close.end);
    return parseMemory(inner, open, close, size, first.col);
  }
  if (toks.length === 1 && first.kind === 'ident') {
    const r = lookupRegister(first.text);
    if (r) return { kind: 'reg', reg: r.reg, size: r.size, name: first.text.toLowerCase(), col: first.col, end: first.end };
    if (/^cr[0-9]+$/i.test(first.text)) {
      const cr = lookupControlRegister(first.text);
      if (cr === undefined) throw new ParseError(`'${first.text}' is not a supported control register (cr0, cr2, cr3, cr4)`, first.col, first.end);
      return { kind: 'cr', cr, col: first.col, end: first.end };
    }
  }
  const expr = exprOf(toks, lineEnd);
  return { kind: 'imm', expr, col: first.col, end: toks[toks.length - 1].end };
}
