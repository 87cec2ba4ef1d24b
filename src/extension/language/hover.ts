// Decides what the word under the pointer is — instruction, directive, register, number,
// symbol, macro, or a bit name in a comment — and builds its hover text.
import { lookupRegister } from '../../engine/isa/registers';
import { tokenize } from '../../engine/isa/assembler/lexer';
import { DIRECTIVE_DOCS } from './generated/instructionDocs';
import { flagHover, instructionHover, numberHover, registerHover, symbolHover } from './hoverText';
import { LanguageIndex } from './languageIndex';
import { findDefinitions, targetAt } from './navigation';
import { commentStart, wordAt } from './scan';
import { isMnemonic, registerInfo } from './vocabulary';

export interface SymbolValues {
  /** The value of a symbol (qualified name) in the last assembly of `file`'s unit. */
  value(file: string, name: string): { value: bigint; loadAddress?: number } | undefined;
  /** A path as shown to the user. */
  displayPath(file: string): string;
}

export interface HoverResult {
  markdown: string;
  /** 0-based columns of the hovered word on its line. */
  col: number;
  end: number;
}

function directiveHover(word: string): string | undefined {
  const d = word.toLowerCase() === '.set' ? '.equ' : word.toLowerCase();
  const row = DIRECTIVE_DOCS.find((r) => r.directives.includes(d));
  if (!row) return undefined;
  const synonym = word.toLowerCase() === '.set' ? ' (`.set` is a synonym of `.equ`)' : '';
  return `**${word.toLowerCase()}** — directive${synonym}\n\n${row.syntax} — ${row.meaning}`;
}

function numberValue(literal: string): bigint | undefined {
  const t = tokenize(literal);
  return !t.error && t.tokens.length === 1 && t.tokens[0].kind === 'num' ? t.tokens[0].value : undefined;
}

/** In prose a one-letter word is a flag only when written like one: `CR0.P`, `P=1`, `R/W`. */
function flagInProse(lineText: string, w: { text: string; col: number; end: number }): string | undefined {
  if (w.text.length === 1) {
    const before = lineText[w.col - 1] ?? '';
    const after = lineText[w.end] ?? '';
    if (!/[./=]/.test(before) && !/[=/]/.test(after)) return undefined;
  }
  if (w.text !== w.text.toUpperCase()) return undefined;
  return flagHover(w.text.replace(/^\./, ''));
}

function symbolAt(index: LanguageIndex, values: SymbolValues, file: string, line: number, col: number): string | undefined {
  const scan = index.scan(file);
  const target = scan && targetAt(scan, line, col);
  if (!target) return undefined;
  const hits = findDefinitions(index, file, target);
  if (hits.length === 0) return undefined;
  return hits
    .map((h) => {
      const d = h.definition;
      let body: string[] | undefined;
      if (d.kind === 'macro') {
        const m = index.scan(h.file)?.macros.find((x) => x.startLine === d.line);
        const text = index.text(h.file)?.split(/\r?\n/) ?? [];
        body = m ? text.slice(m.startLine + 1, m.endLine) : [];
      }
      const v = d.kind === 'macro' ? undefined : values.value(file, d.name);
      return symbolHover({ definition: d, where: values.displayPath(h.file), value: v?.value, loadAddress: v?.loadAddress, body });
    })
    .join('\n\n---\n\n');
}

export function hoverAt(index: LanguageIndex, values: SymbolValues, file: string, line: number, col: number): HoverResult | undefined {
  const lineText = index.text(file)?.split(/\r?\n/)[line];
  if (lineText === undefined) return undefined;
  const w = wordAt(lineText, col);
  if (!w) return undefined;
  const result = (markdown: string | undefined): HoverResult | undefined => (markdown ? { markdown, col: w.col, end: w.end } : undefined);
  const comment = commentStart(lineText);
  if (comment >= 0 && w.col > comment) {
    // Prose: bit names, registers, numbers and symbols named in comments.
    const num = /^[0-9']/.test(w.text) ? numberValue(w.text) : undefined;
    if (num !== undefined) return result(numberHover(w.text, num));
    const parts = w.text.split('.');
    if (parts.length === 2 && /^(cr[0-9]|efer|rflags)$/i.test(parts[0])) return result(flagHover(`${parts[0]}_${parts[1]}`));
    if (registerInfo(w.text) || /^(efer|rflags)$/i.test(w.text)) return result(registerHover(w.text));
    return result(flagInProse(lineText, w) ?? symbolAt(index, values, file, line, col));
  }
  if (/^[0-9']/.test(w.text)) {
    const num = numberValue(w.text);
    return num === undefined ? undefined : result(numberHover(w.text, num));
  }
  if (w.text.startsWith('\\')) return result(`**${w.text}** — macro parameter: replaced by the argument's text${w.text === '\\@' ? ' (\\@: a number unique to each expansion)' : ''}`);
  if (w.text.startsWith('.')) {
    const dir = directiveHover(w.text);
    if (dir) return result(dir);
  }
  if (lookupRegister(w.text) || registerInfo(w.text)) return result(registerHover(w.text));
  const sym = symbolAt(index, values, file, line, col);
  if (sym) return result(sym);
  if (isMnemonic(w.text)) return result(instructionHover(w.text));
  return result(flagHover(w.text));
}
