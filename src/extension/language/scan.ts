// A static outline of one guest assembly file: what it defines (labels, local labels, .equ
// constants, macros), what it refers to, what it includes and where its .org sections start.
// It tokenizes with the assembler's own lexer so names, numbers, strings and comments are
// read exactly as the assembler reads them; positions are 0-based (VS Code's convention).
import { tokenize, Token } from '../../engine/isa/assembler/lexer';
import { labelPrefixLength, splitArgs } from '../../engine/isa/assembler/preprocessor';
import { SIZE_KEYWORDS, isRegisterName } from '../../engine/isa/assembler/operands';
import { isMnemonic } from './vocabulary';

export interface Span {
  line: number;
  /** 0-based start column. */
  col: number;
  /** 0-based column just past the text. */
  end: number;
}

export type DefinitionKind = 'label' | 'local' | 'equ' | 'macro';

export interface Definition extends Span {
  kind: DefinitionKind;
  /** The name the assembler stores: local labels are qualified (`main.loop`); macros are lower case. */
  name: string;
  /** The name as written (`.loop`, `KPRINT`). */
  written: string;
  /** Set when the definition is written inside a macro body (it exists once per expansion). */
  inMacro?: string;
  /** For .equ: the expression text. */
  valueText?: string;
  /** The source line, trimmed (for hovers). */
  lineText: string;
}

export interface Reference extends Span {
  kind: 'symbol' | 'macro';
  /** Resolved as the assembler would: local names qualified with the enclosing global label. */
  name: string;
  written: string;
}

export interface IncludeDirective extends Span {
  /** The path as written in the quotes. */
  path: string;
}

export interface SectionStart extends Span {
  /** The `.org` expression as written. */
  origin: string;
}

export interface MacroBody {
  name: string;
  params: string[];
  /** Lines of `.macro` and of its `.endm` (or the last line when unterminated). */
  startLine: number;
  endLine: number;
}

/** A label or constant a macro body defines with a name built from its parameters (`trap_\\vec:`). */
export interface DefinitionTemplate {
  /** Lower-case macro name. */
  macro: string;
  kind: 'label' | 'equ';
  /** The name as written in the body, parameters included. */
  pattern: string;
}

/** A macro invocation with its arguments' text. */
export interface Invocation extends Span {
  /** Lower-case macro name. */
  macro: string;
  args: string[];
  lineText: string;
}

export interface FileScan {
  definitions: Definition[];
  templates: DefinitionTemplate[];
  invocations: Invocation[];
  references: Reference[];
  includes: IncludeDirective[];
  sections: SectionStart[];
  macros: MacroBody[];
  lineCount: number;
}

const PARAM_RE = /\\(@|[A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Macro bodies use `\name` and `\@`, which the lexer rejects: replace them by identifier
 * characters of the same length (columns stay right) and remember where they were, so names
 * built from parameters are never taken for real symbols.
 */
function maskParameters(text: string): { text: string; masked: boolean[] } {
  const masked = new Array<boolean>(text.length).fill(false);
  const out = text.replace(PARAM_RE, (whole: string, name: string, offset: number) => {
    for (let i = 0; i < whole.length; i++) masked[offset + i] = true;
    return '_' + (name === '@' ? '0' : name);
  });
  return { text: out, masked };
}

function isParametric(t: Token, masked: readonly boolean[]): boolean {
  for (let i = t.col - 1; i < t.end - 1; i++) if (masked[i]) return true;
  return false;
}

const KEYWORDS = new Set([...Object.keys(SIZE_KEYWORDS), 'ptr']);

function isPlainName(t: Token): boolean {
  return t.kind === 'ident' && !isRegisterName(t.text) && !KEYWORDS.has(t.text.toLowerCase());
}

export function scanFile(text: string): FileScan {
  const scan: FileScan = { definitions: [], templates: [], invocations: [], references: [], includes: [], sections: [], macros: [], lineCount: 0 };
  const lines = text.split(/\r?\n/);
  scan.lineCount = lines.length;
  let scope = '';
  let macro: { name: string; params: string[]; startLine: number; nest: number } | undefined;
  const qualify = (name: string): string => (name.startsWith('.') ? scope + name : name);

  lines.forEach((raw, line) => {
    const { text: lineText, masked } = macro ? maskParameters(raw) : { text: raw, masked: [] as boolean[] };
    const toks = tokenize(lineText).tokens;
    const span = (t: Token): Span => ({ line, col: t.col - 1, end: t.end - 1 });
    const inMacro = macro?.name;
    const ref = (t: Token, kind: Reference['kind'] = 'symbol'): void => {
      if (!isPlainName(t) || isParametric(t, masked)) return;
      const name = kind === 'macro' ? t.text.toLowerCase() : qualify(t.text);
      scan.references.push({ ...span(t), kind, name, written: t.text });
    };
    const def = (t: Token, kind: DefinitionKind, name: string, valueText?: string): void => {
      if (isParametric(t, masked)) {
        const pattern = raw.slice(t.col - 1, t.end - 1);
        if (macro && macro.nest === 0 && (kind === 'label' || kind === 'equ')) scan.templates.push({ macro: macro.name.toLowerCase(), kind, pattern });
        return;
      }
      const d: Definition = { ...span(t), kind, name, written: t.text, lineText: raw.trim() };
      if (inMacro) d.inMacro = inMacro;
      if (valueText !== undefined) d.valueText = valueText;
      scan.definitions.push(d);
    };
    const textOf = (ts: Token[]): string => (ts.length ? lineText.slice(ts[0].col - 1, ts[ts.length - 1].end - 1) : '');

    const k = labelPrefixLength(toks);
    for (let i = 0; i < k; i += 2) {
      const t = toks[i];
      if (!t.text.startsWith('.') && !isParametric(t, masked) && !macro) scope = t.text;
      def(t, t.text.startsWith('.') ? 'local' : 'label', qualify(t.text));
    }
    const head = toks[k];
    if (!head || head.kind !== 'ident') return;
    const rest = toks.slice(k + 1);
    const headName = head.text.toLowerCase();

    if (macro) {
      if (headName === '.macro') macro.nest++;
      if (headName === '.endm') {
        if (macro.nest === 0) {
          scan.macros.push({ name: macro.name, params: macro.params, startLine: macro.startLine, endLine: line });
          macro = undefined;
          return;
        }
        macro.nest--;
      }
    }
    if (rest[0]?.kind === 'op' && rest[0].text === '=') {
      def(head, 'equ', qualify(head.text), textOf(rest.slice(1)));
      rest.slice(1).forEach((t) => ref(t));
      return;
    }
    if (headName === '.macro' && !macro) {
      const nameTok = rest[0];
      const params = splitArgs(rest.slice(1)).map((a) => a.map((t) => t.text).join(''));
      if (nameTok?.kind === 'ident') {
        def(nameTok, 'macro', nameTok.text.toLowerCase());
        macro = { name: nameTok.text, params, startLine: line, nest: 0 };
      } else {
        macro = { name: '', params: [], startLine: line, nest: 0 };
      }
      return;
    }
    if (headName === '.equ' || headName === '.set') {
      const args = splitArgs(rest);
      const nameTok = args[0]?.[0];
      if (nameTok?.kind === 'ident') def(nameTok, 'equ', qualify(nameTok.text), textOf(args[1] ?? []));
      for (const t of args.slice(1).flat()) ref(t);
      return;
    }
    if (headName === '.include') {
      const arg = rest[0];
      if (arg?.kind === 'str') scan.includes.push({ ...span(arg), path: new TextDecoder().decode(new Uint8Array(arg.bytes)) });
      return;
    }
    if (headName === '.org') scan.sections.push({ ...span(head), origin: textOf(rest) });
    if (!head.text.startsWith('.') && !isMnemonic(head.text)) {
      ref(head, 'macro');
      if (!macro && !isParametric(head, masked)) {
        const args = splitArgs(rest).map((a) => (a.length ? raw.slice(a[0].col - 1, a[a.length - 1].end - 1) : ''));
        scan.invocations.push({ ...span(head), macro: headName, args, lineText: raw.trim() });
      }
    }
    for (const t of rest) ref(t);
  });
  if (macro) scan.macros.push({ name: macro.name, params: macro.params, startLine: macro.startLine, endLine: lines.length - 1 });
  return scan;
}

/** The word under a 0-based column: a name (dots and a leading `\\` included), a number or a character literal. */
export function wordAt(lineText: string, col: number): { text: string; col: number; end: number } | undefined {
  const re = /\\?[A-Za-z_.][A-Za-z0-9_.]*|[0-9][A-Za-z0-9_]*|'(?:\\x[0-9A-Fa-f]{1,2}|\\.|[^'\\])'/g;
  let touching: { text: string; col: number; end: number } | undefined;
  for (const m of lineText.matchAll(re)) {
    const start = m.index ?? 0;
    // A name never ends with a dot; in prose the dot ends the sentence ("… even rsp.").
    const text = m[0].length > 1 && !m[0].startsWith("'") ? m[0].replace(/\.+$/, '') : m[0];
    const end = start + text.length;
    if (col >= start && col < end) return { text, col: start, end };
    if (col === end) touching = { text, col: start, end };
  }
  return touching;
}

/** 0-based column where a comment starts on the line (outside strings), or -1. */
export function commentStart(lineText: string): number {
  let quote: string | undefined;
  for (let i = 0; i < lineText.length; i++) {
    const c = lineText[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ';' || c === '#') return i;
  }
  return -1;
}
