// Expands .include and .macro/.endm into a flat list of lines. Conditionals stay in the output
// (the passes evaluate them), so problems found here are attached to the line and reported
// only if that line is really assembled — `.ifdef X` / `.include "a"` / `.else` works.
import { MNEMONICS } from '../opcodes';
import { Token, tokenize } from './lexer';
import { SourceLine } from './sourceLine';
import { FileProvider } from './types';

export const MAX_INCLUDE_DEPTH = 32;
export const MAX_MACRO_DEPTH = 64;
export const MAX_LINES = 200_000;

interface Origin {
  file: string;
  line: number;
}

/** Where an expanded line reports to: the outermost macro invocation. */
interface Invocation extends Origin {
  column: number;
  macros: string[];
}

interface RawLine {
  text: string;
  origin: Origin;
  at?: Invocation;
}

interface Macro {
  name: string;
  params: string[];
  body: RawLine[];
  origin: Origin;
}

const PARAM_RE = /\\(@|[A-Za-z_][A-Za-z0-9_]*)/g;

/** Splits tokens at top-level commas (outside (), [] and strings). */
export function splitArgs(toks: readonly Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'op' && (t.text === '(' || t.text === '[')) depth++;
    if (t.kind === 'op' && (t.text === ')' || t.text === ']')) depth--;
    if (t.kind === 'op' && t.text === ',' && depth <= 0) {
      out.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
  }
  if (cur.length > 0 || out.length > 0) out.push(cur);
  return out;
}

/** Number of leading tokens that are `name:` label definitions. */
export function labelPrefixLength(toks: readonly Token[]): number {
  let k = 0;
  while (toks[k]?.kind === 'ident' && toks[k + 1]?.kind === 'op' && toks[k + 1].text === ':') k += 2;
  return k;
}

class Preprocessor {
  readonly out: SourceLine[] = [];
  private readonly macros = new Map<string, Macro>();
  private expansions = 0;
  private stopped = false;

  constructor(private readonly files: FileProvider) {}

  run(mainFile: string): SourceLine[] {
    const text = this.files.read(mainFile);
    if (text === undefined) {
      this.out.push({ file: mainFile, line: 1, text: '', preError: { message: `cannot read file '${mainFile}'`, col: 1 } });
      return this.out;
    }
    this.processLines(this.linesOf(text, mainFile), 0, [mainFile]);
    return this.out;
  }

  private linesOf(text: string, file: string): RawLine[] {
    return text.split(/\r?\n/).map((t, i) => ({ text: t, origin: { file, line: i + 1 } }));
  }

  private emit(raw: RawLine, preError?: SourceLine['preError'], text = raw.text): void {
    if (this.stopped) return;
    if (this.out.length >= MAX_LINES) {
      this.stopped = true;
      const where = raw.at ?? raw.origin;
      this.out.push({ file: where.file, line: where.line, text: '', preError: { message: `program too large: more than ${MAX_LINES} lines after expanding includes and macros`, col: 1 } });
      return;
    }
    const line: SourceLine = raw.at
      ? { file: raw.at.file, line: raw.at.line, text, fixedColumn: raw.at.column, context: macroContext(raw.at.macros), definition: { file: raw.origin.file, line: raw.origin.line, column: 1 } }
      : { file: raw.origin.file, line: raw.origin.line, text };
    if (preError) line.preError = preError;
    this.out.push(line);
  }

  private processLines(lines: RawLine[], depth: number, includeStack: string[]): void {
    let collecting: { macro: Macro | undefined; nest: number; start: RawLine; col: number } | undefined;
    for (const raw of lines) {
      if (this.stopped) return;
      const lex = tokenize(raw.text);
      const toks = lex.tokens;
      const k = labelPrefixLength(toks);
      const head = toks[k];
      const headName = head?.kind === 'ident' ? head.text.toLowerCase() : '';
      if (collecting) {
        if (headName === '.macro') collecting.nest++;
        if (headName === '.endm') {
          if (collecting.nest === 0) {
            if (collecting.macro) this.macros.set(collecting.macro.name.toLowerCase(), collecting.macro);
            collecting = undefined;
            continue;
          }
          collecting.nest--;
        }
        collecting.macro?.body.push(raw);
        continue;
      }
      if (lex.error || !head) {
        this.emit(raw);
        continue;
      }
      if (headName === '.macro') {
        const def = this.defineMacro(raw, toks, k);
        if (typeof def === 'string') this.emit(raw, { message: def, col: head.col, end: head.end });
        collecting = { macro: typeof def === 'string' ? undefined : def, nest: 0, start: raw, col: head.col };
        continue;
      }
      if (headName === '.endm') {
        this.emit(raw, { message: '.endm without .macro', col: head.col, end: head.end });
        continue;
      }
      if (headName === '.include') {
        if (k > 0) this.emit(raw, undefined, raw.text.slice(0, head.col - 1));
        this.include(raw, toks, k, depth, includeStack);
        continue;
      }
      const macro = head.kind === 'ident' ? this.macros.get(headName) : undefined;
      if (macro) {
        if (k > 0) this.emit(raw, undefined, raw.text.slice(0, head.col - 1));
        this.expand(macro, raw, toks, k, depth, includeStack);
        continue;
      }
      this.emit(raw);
    }
    if (collecting) {
      const name = collecting.macro ? ` '${collecting.macro.name}'` : '';
      this.emit(collecting.start, { message: `unterminated .macro${name} (missing .endm)`, col: collecting.col });
    }
  }

  private defineMacro(raw: RawLine, toks: Token[], k: number): Macro | string {
    if (k > 0) return 'a label cannot precede .macro';
    const nameTok = toks[k + 1];
    if (!nameTok || nameTok.kind !== 'ident' || nameTok.text.startsWith('.')) return '.macro needs a name';
    const lower = nameTok.text.toLowerCase();
    if (MNEMONICS.has(lower) || lower === 'movabs') return `macro name '${nameTok.text}' is an instruction mnemonic`;
    const prev = this.macros.get(lower);
    if (prev) return `macro '${nameTok.text}' is already defined at ${prev.origin.file}:${prev.origin.line}`;
    const params: string[] = [];
    for (const arg of splitArgs(toks.slice(k + 2))) {
      if (arg.length !== 1 || arg[0].kind !== 'ident' || arg[0].text.startsWith('.')) return 'macro parameters must be plain names separated by commas';
      if (params.includes(arg[0].text)) return `duplicate macro parameter '${arg[0].text}'`;
      params.push(arg[0].text);
    }
    return { name: nameTok.text, params, body: [], origin: raw.origin };
  }

  private include(raw: RawLine, toks: Token[], k: number, depth: number, includeStack: string[]): void {
    const head = toks[k];
    const arg = toks[k + 1];
    const err = (message: string, t: Token = head): void => this.emit(raw, { message, col: t.col, end: t.end }, '');
    if (!arg || arg.kind !== 'str' || toks.length !== k + 2) return err('.include expects one quoted file name');
    const name = decodeUtf8(arg.bytes);
    const path = this.files.resolve(raw.origin.file, name);
    if (includeStack.includes(path)) return err(`include cycle: ${[...includeStack, path].join(' -> ')}`, arg);
    if (includeStack.length > MAX_INCLUDE_DEPTH) return err(`includes nested too deeply (more than ${MAX_INCLUDE_DEPTH})`, arg);
    const text = this.files.read(path);
    if (text === undefined) return err(`cannot read include file '${name}' (${path})`, arg);
    const lines = this.linesOf(text, path);
    // An include inside a macro body reports to the macro's invocation, like the body itself.
    if (raw.at) for (const l of lines) l.at = raw.at;
    this.processLines(lines, depth, [...includeStack, path]);
  }

  private expand(macro: Macro, raw: RawLine, toks: Token[], k: number, depth: number, includeStack: string[]): void {
    const head = toks[k];
    const argToks = splitArgs(toks.slice(k + 1));
    const args = argToks.map((a) => (a.length === 0 ? '' : raw.text.slice(a[0].col - 1, a[a.length - 1].end - 1)));
    const err = (message: string): void => this.emit(raw, { message, col: head.col, end: head.end }, '');
    if (args.length !== macro.params.length) {
      return err(`macro '${macro.name}' expects ${macro.params.length} argument${macro.params.length === 1 ? '' : 's'}, got ${args.length}`);
    }
    if (depth >= MAX_MACRO_DEPTH) {
      // Stop here: a macro that recurses twice per level would otherwise report 2^64 times.
      err(`macro expansion nested too deeply (more than ${MAX_MACRO_DEPTH} levels; recursive macro '${macro.name}'?)`);
      this.stopped = true;
      return;
    }
    const unique = String(++this.expansions);
    const at: Invocation = raw.at
      ? { ...raw.at, macros: [...raw.at.macros, macro.name] }
      : { file: raw.origin.file, line: raw.origin.line, column: head.col, macros: [macro.name] };
    const body = macro.body.map((b): RawLine => ({
      text: b.text.replace(PARAM_RE, (whole, name: string) => {
        if (name === '@') return unique;
        const i = macro.params.indexOf(name);
        return i >= 0 ? args[i] : whole;
      }),
      origin: b.origin,
      at,
    }));
    this.processLines(body, depth + 1, includeStack);
  }
}

/** " (in macro 'a' > 'b')", shortened for deep nesting. */
function macroContext(macros: string[]): string {
  const names = macros.map((m) => `'${m}'`);
  const shown = names.length > 4 ? [...names.slice(0, 2), '...', names[names.length - 1]] : names;
  return ` (in macro ${shown.join(' > ')})`;
}

/** UTF-8 decode without node's Buffer (the engine runs in browsers too). */
function decodeUtf8(bytes: number[]): string {
  return new TextDecoder().decode(new Uint8Array(bytes));
}

export function preprocess(mainFile: string, files: FileProvider): SourceLine[] {
  return new Preprocessor(files).run(mainFile);
}
