// Parses a preprocessed line into a Statement: its labels and one instruction, directive or
// `NAME = expr`. Parsing is purely syntactic and done once; the passes evaluate.
import { Expr, ParseError, TokenStream, parseExpr } from './expression';
import { Token, tokenize } from './lexer';
import { Operand, isRegisterName, parseOperand } from './operands';
import { labelPrefixLength, splitArgs } from './preprocessor';
import { SourceLine } from './sourceLine';

export const MAX_LINE_LENGTH = 10_000;

export interface Located {
  col: number;
  end: number;
}

export interface LabelDef extends Located {
  name: string;
}

export type DirectiveArg = ({ kind: 'expr'; expr: Expr } | { kind: 'str'; bytes: number[] }) & Located;

export type Body =
  | { kind: 'empty' }
  | { kind: 'error'; message: string; col: number; end?: number }
  | ({ kind: 'equ'; name: string; expr: Expr } & Located)
  | ({ kind: 'directive'; name: string; args: DirectiveArg[] } & Located)
  | ({ kind: 'insn'; mnemonic: string; operands: Operand[] } & Located);

export interface Statement {
  src: SourceLine;
  labels: LabelDef[];
  body: Body;
  /** Lower-case first word after the labels, kept even when the line does not parse, so a
   * malformed `.if` inside a false block still nests correctly. */
  head: string;
}

/** Directives the passes know, with their argument counts [min, max]. */
export const DIRECTIVES: Readonly<Record<string, readonly [number, number]>> = {
  '.org': [1, 1], '.phys': [1, 1], '.byte': [1, Infinity], '.word': [1, Infinity], '.dword': [1, Infinity], '.qword': [1, Infinity],
  '.ascii': [1, Infinity], '.asciz': [1, Infinity], '.space': [1, 2], '.align': [1, 2], '.entry': [1, 1],
  '.global': [1, Infinity], '.globl': [1, Infinity], '.text': [0, 0], '.data': [0, 0],
  '.if': [1, 1], '.elseif': [1, 1], '.ifdef': [1, 1], '.ifndef': [1, 1], '.else': [0, 0], '.endif': [0, 0],
  '.error': [0, 1], '.warning': [1, 1],
};

export const CONDITIONAL_DIRECTIVES = new Set(['.if', '.elseif', '.ifdef', '.ifndef', '.else', '.endif']);

function lineEndCol(toks: readonly Token[]): number {
  return toks.length ? toks[toks.length - 1].end : 1;
}

function parseArgs(toks: Token[], lineEnd: number): DirectiveArg[] {
  return splitArgs(toks).map((arg): DirectiveArg => {
    if (arg.length === 0) throw new ParseError('missing argument', lineEnd, lineEnd + 1);
    if (arg.length === 1 && arg[0].kind === 'str') return { kind: 'str', bytes: arg[0].bytes, col: arg[0].col, end: arg[0].end };
    const ts = new TokenStream(arg, lineEnd);
    const expr = parseExpr(ts, isRegisterName);
    if (!ts.atEnd()) ts.fail(`unexpected '${ts.peek()?.text}' after expression`);
    return { kind: 'expr', expr, col: arg[0].col, end: arg[arg.length - 1].end };
  });
}

function parseBody(toks: Token[], k: number): Body {
  const head = toks[k];
  const lineEnd = lineEndCol(toks);
  if (!head) return { kind: 'empty' };
  if (head.kind !== 'ident') throw new ParseError(`expected an instruction, directive or label but found '${head.text}'`, head.col, head.end);
  const rest = toks.slice(k + 1);
  if (rest[0]?.kind === 'op' && rest[0].text === '=') {
    const ts = new TokenStream(rest.slice(1), lineEnd);
    const expr = parseExpr(ts, isRegisterName);
    if (!ts.atEnd()) ts.fail(`unexpected '${ts.peek()?.text}' after expression`);
    return { kind: 'equ', name: head.text, expr, col: head.col, end: head.end };
  }
  if (head.text.startsWith('.')) {
    const name = head.text.toLowerCase();
    if (name === '.equ' || name === '.set') {
      const args = splitArgs(rest);
      const nameTok = args[0]?.[0];
      if (args.length !== 2 || args[0].length !== 1 || nameTok?.kind !== 'ident' || args[1].length === 0) throw new ParseError(`${name} expects NAME, expression`, head.col, head.end);
      const [arg] = parseArgs(args[1], lineEnd);
      if (arg.kind !== 'expr') throw new ParseError(`${name} needs an expression, not a string`, arg.col, arg.end);
      return { kind: 'equ', name: nameTok.text, expr: arg.expr, col: nameTok.col, end: nameTok.end };
    }
    const arity = DIRECTIVES[name];
    if (!arity) throw new ParseError(`unknown directive '${head.text}'`, head.col, head.end);
    const args = parseArgs(rest, lineEnd);
    if (args.length < arity[0] || args.length > arity[1]) {
      const want = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} to ${arity[1]}`;
      throw new ParseError(`${name} expects ${want} argument${arity[1] === 1 ? '' : 's'}, got ${args.length}`, head.col, head.end);
    }
    return { kind: 'directive', name, args, col: head.col, end: head.end };
  }
  const operands = splitArgs(rest).map((o) => parseOperand(o, lineEnd));
  return { kind: 'insn', mnemonic: head.text.toLowerCase(), operands, col: head.col, end: head.end };
}

export function parseStatement(src: SourceLine): Statement {
  if (src.preError) return { src, labels: [], body: { kind: 'error', ...src.preError }, head: '' };
  if (src.text.length > MAX_LINE_LENGTH) return { src, labels: [], body: { kind: 'error', message: `line too long (more than ${MAX_LINE_LENGTH} characters)`, col: 1 }, head: '' };
  const lex = tokenize(src.text);
  const toks = lex.tokens;
  const k = labelPrefixLength(toks);
  const head = toks[k]?.kind === 'ident' ? toks[k].text.toLowerCase() : '';
  const labels: LabelDef[] = [];
  for (let i = 0; i < k; i += 2) labels.push({ name: toks[i].text, col: toks[i].col, end: toks[i].end });
  if (lex.error) {
    // Labels before the bad text still count, so one typo does not cascade into undefined symbols.
    const goodLabels = labels.filter((l) => l.end <= lex.error!.col);
    return { src, labels: goodLabels, body: { kind: 'error', ...lex.error }, head };
  }
  try {
    return { src, labels, body: parseBody(toks, k), head };
  } catch (e) {
    if (e instanceof ParseError) return { src, labels, body: { kind: 'error', message: e.message, col: e.col, end: e.end }, head };
    throw e;
  }
}
