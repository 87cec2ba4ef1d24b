// Splits one source line into tokens. Columns are 1-based; `end` is the column just past the
// token, so diagnostics can underline exactly the offending text.

export type TokenKind = 'ident' | 'num' | 'str' | 'op';

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for `op`, the operator itself). */
  text: string;
  col: number;
  end: number;
  /** Value of a number or character literal (64-bit, signed). */
  value: bigint;
  /** Bytes of a string literal (UTF-8, escapes decoded). */
  bytes: number[];
}

export interface LexError {
  message: string;
  col: number;
  end: number;
}

export interface LexResult {
  tokens: Token[];
  error?: LexError;
}

const TWO_CHAR_OPS = ['<<', '>>', '==', '!=', '<=', '>=', '&&', '||'];
const ONE_CHAR_OPS = '+-*/%&|^~!()[],:=<>$';
const NUMBER_RE = /^(?:0[xX][0-9a-fA-F_]*|0[bB][01_]*|0[oO][0-7_]*|[0-9][0-9_]*)/;
const IDENT_START = /[A-Za-z_.]/;
const IDENT_CHAR = /[A-Za-z0-9_.]/;
const MAX_U64 = (1n << 64n) - 1n;

function token(kind: TokenKind, text: string, col: number, value = 0n, bytes: number[] = []): Token {
  return { kind, text, col, end: col + text.length, value, bytes };
}

function utf8(ch: string): number[] {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, '"': 34, "'": 39 };

/**
 * Reads a quoted literal starting at text[start] (the quote). Returns the decoded bytes and the
 * index just past the closing quote, or an error.
 */
function readQuoted(text: string, start: number): { bytes: number[]; next: number } | LexError {
  const quote = text[start];
  const bytes: number[] = [];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === quote) return { bytes, next: i + 1 };
    if (c === '\\') {
      const e = text[i + 1];
      if (e === undefined) break;
      if (e in SIMPLE_ESCAPES) {
        bytes.push(SIMPLE_ESCAPES[e]);
        i += 2;
        continue;
      }
      if (e === 'x') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2));
        if (!m) return { message: "bad escape '\\x': expected hex digits", col: i + 1, end: i + 3 };
        bytes.push(parseInt(m[0], 16));
        i += 2 + m[0].length;
        continue;
      }
      return { message: `bad escape '\\${e}'`, col: i + 1, end: i + 3 };
    }
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    bytes.push(...utf8(ch));
    i += ch.length;
  }
  return { message: quote === '"' ? 'unterminated string' : 'unterminated character literal', col: start + 1, end: text.length + 1 };
}

export function tokenize(text: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, col: number, end: number): LexResult => ({ tokens, error: { message, col, end } });
  while (i < text.length) {
    const c = text[i];
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === ';' || c === '#') break;
    if (c >= '0' && c <= '9') {
      const m = NUMBER_RE.exec(text.slice(i));
      const lit = m ? m[0] : c;
      let j = i + lit.length;
      if (j < text.length && IDENT_CHAR.test(text[j])) {
        while (j < text.length && IDENT_CHAR.test(text[j])) j++;
        return fail(`bad number '${text.slice(i, j)}'`, col, j + 1);
      }
      const digits = lit.replace(/_/g, '');
      if (/^0[xXbBoO]$/.test(digits)) return fail(`bad number '${lit}'`, col, j + 1);
      const v = BigInt(digits);
      if (v > MAX_U64) return fail(`number '${lit}' does not fit in 64 bits`, col, j + 1);
      tokens.push(token('num', lit, col, BigInt.asIntN(64, v)));
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      const q = readQuoted(text, i);
      if ('message' in q) return fail(q.message, q.col, q.end);
      const lit = text.slice(i, q.next);
      if (c === '"') {
        tokens.push(token('str', lit, col, 0n, q.bytes));
      } else {
        if (q.bytes.length !== 1) return fail('a character literal must hold exactly one byte', col, q.next + 1);
        tokens.push(token('num', lit, col, BigInt(q.bytes[0])));
      }
      i = q.next;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_CHAR.test(text[j])) j++;
      tokens.push(token('ident', text.slice(i, j), col));
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR_OPS.includes(two)) {
      tokens.push(token('op', two, col));
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.includes(c)) {
      tokens.push(token('op', c, col));
      i++;
      continue;
    }
    if (c === '\\') return fail("unexpected '\\' (macro parameters are only substituted inside a .macro body)", col, col + 2);
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    return fail(`unexpected character '${ch}'`, col, col + ch.length);
  }
  return { tokens };
}
