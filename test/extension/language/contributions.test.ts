// The static contributions: manifest entries point at real files, the language
// configuration's patterns do what they claim, and every snippet assembles as inserted.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { assemble } from '../../../src/engine/isa/assembler';
import { REPO } from './fixtures';

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const config = JSON.parse(readFileSync(join(REPO, 'language-configuration.json'), 'utf8'));
const snippets: Record<string, { prefix: string[]; body: string[]; description: string }> = JSON.parse(readFileSync(join(REPO, 'snippets/vmasm.json'), 'utf8'));

/** A snippet as VS Code inserts it when the user accepts every default (first choice of a choice). */
export function expandSnippet(body: string[]): string {
  let text = body.join('\n');
  const values = new Map<string, string>();
  // Innermost first, so ${3:frame ${1}} sees ${1}'s value.
  for (let guard = 0; guard < 20; guard++) {
    const next = text
      .replace(/\$\{(\d+)\|([^|]*)\|\}/g, (_w, n: string, choices: string) => {
        const v = choices.split(',')[0];
        values.set(n, v);
        return v;
      })
      .replace(/\$\{(\d+):([^${}]*)\}/g, (_w, n: string, def: string) => {
        values.set(n, def);
        return def;
      })
      .replace(/\$\{(\d+)\}|\$(\d+)/g, (_w, a?: string, b?: string) => values.get(a ?? b ?? '') ?? '');
    if (next === text) break;
    text = next;
  }
  return text.replace(/\\\\/g, '\\');
}

describe('language: contributions', () => {
  it('declares the vmasm language, grammar, snippets and breakpoints with existing files', () => {
    const c = manifest.contributes;
    const lang = c.languages.find((l: { id: string }) => l.id === 'vmasm');
    assert.deepEqual(lang.extensions, ['.s', '.vmasm']);
    assert.ok(existsSync(join(REPO, lang.configuration)));
    const grammar = c.grammars.find((g: { language: string }) => g.language === 'vmasm');
    assert.equal(grammar.scopeName, JSON.parse(readFileSync(join(REPO, grammar.path), 'utf8')).scopeName);
    assert.ok(existsSync(join(REPO, c.snippets.find((s: { language: string }) => s.language === 'vmasm').path)));
    assert.ok(c.breakpoints.some((b: { language: string }) => b.language === 'vmasm'));
    assert.ok(manifest.activationEvents.includes('onLanguage:vmasm'));
  });

  const word = new RegExp(`^${config.wordPattern}$`);
  const WORDS: [string, boolean][] = [['.loop', true], ['main.loop', true], ['\\@', true], ['\\reg', true], ['0xffff_f000', true], ['0b1010', true], ['r15d', true], ['a+b', false], ['[rax]', false]];
  for (const [w, ok] of WORDS) it(`wordPattern ${ok ? 'takes' : 'splits'} ${w}`, () => assert.equal(word.test(w), ok));

  const start = new RegExp(config.folding.markers.start);
  const end = new RegExp(config.folding.markers.end);
  const FOLDS: [line: string, s: boolean, e: boolean][] = [
    ['.macro SAVE_REGS', true, false], ['  .if PAGING == 32', true, false], ['.ifndef PV', true, false], ['.endm', false, true],
    ['.endif', false, true], ['; region boot', true, false], ['; endregion', false, true], ['.include "x"', false, false], ['.else', false, false],
  ];
  for (const [line, s, e] of FOLDS) it(`folding markers: ${line}`, () => assert.deepEqual([start.test(line), end.test(line)], [s, e]));

  it('comments with ; (the assembler also takes #), brackets [] and ()', () => {
    assert.equal(config.comments.lineComment, ';');
    assert.deepEqual(config.brackets, [['[', ']'], ['(', ')']]);
  });

  for (const [name, s] of Object.entries(snippets)) {
    it(`snippet "${name}" assembles as inserted`, () => {
      const text = expandSnippet(s.body);
      // The kernel program lives beside examples/kernel; the others stand alone (a macro needs an invocation).
      const file = join(REPO, 'examples', '__snippet__.s');
      const program = name === 'Macro' ? `${text}\n    name rcx` : name === 'System call' ? `.include "kernel/layout.s"\n${text}` : name === 'IDT gate' ? `handler: iretq\n${text}` : name === 'Page-table entry' ? `.align 8\n${text}` : name === 'Conditional assembly' ? `.equ PAGING, 64\n${text}` : text;
      const result = assemble(file, {
        read: (p) => (p === file ? program : existsSync(p) ? readFileSync(p, 'utf8') : undefined),
        resolve: (from, inc) => resolve(dirname(from), inc),
      });
      assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}: ${d.message}`), [], program);
    });
  }
});
