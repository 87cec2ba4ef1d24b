// Definitions, references, local-label scoping, includes and the outline, over an in-memory
// workspace — and over the real examples: every name the kernel uses resolves.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { LanguageIndex } from '../../../src/extension/language/languageIndex';
import { definitionAt, outline, referencesAt, workspaceSymbols, OutlineNode } from '../../../src/extension/language/navigation';
import { scanFile, wordAt } from '../../../src/extension/language/scan';
import { REPO, indexOf, positionOf } from './fixtures';

const MAIN = [
  '; main.s',
  '.include "lib/defs.s"',
  '.org 0x8000',
  '_start: mov rsp, STACK',
  '        call first',
  '        jmp second.loop',
  'first:  mov ecx, COUNT',
  '.loop:  dec ecx',
  '        jnz .loop',
  '        ret',
  'second: mov ecx, 2',
  '.loop:  SPIN rcx',
  '        jnz .loop',
  '        ret',
  '.org 0x9000',
  'table: .qword first, second',
].join('\n');

const DEFS = [
  '.equ COUNT, 10',
  'STACK = 0x7000',
  '.macro spin reg',
  '.l\\@:   dec \\reg',
  '        jnz .l\\@',
  '.endm',
].join('\n');

const files = { '/w/main.s': MAIN, '/w/lib/defs.s': DEFS };

function at(file: string, needle: string, nth = 0, offset = 1): { line: number; col: number } {
  const p = positionOf(files[file as keyof typeof files], needle, nth);
  return { line: p.line, col: p.col + offset };
}

const lineOf = (file: string, needle: string, nth = 0): number => positionOf(files[file as keyof typeof files], needle, nth).line;

describe('language: definitions and references', () => {
  const { index } = indexOf(files);

  const DEFINITIONS: [what: string, file: string, needle: string, nth: number, expectFile: string, expectLine: number][] = [
    ['a global label', '/w/main.s', 'call first', 0, '/w/main.s', lineOf('/w/main.s', 'first:')],
    ['a .equ in an included file', '/w/main.s', 'COUNT', 0, '/w/lib/defs.s', 0],
    ['a NAME = expr constant in an included file', '/w/main.s', 'STACK', 0, '/w/lib/defs.s', 1],
    ['a local label in the first function', '/w/main.s', 'jnz .loop', 0, '/w/main.s', lineOf('/w/main.s', '.loop:', 0)],
    ['the same local name in the second function', '/w/main.s', 'jnz .loop', 1, '/w/main.s', lineOf('/w/main.s', '.loop:', 1)],
    ['a qualified local label (second.loop)', '/w/main.s', 'second.loop', 0, '/w/main.s', lineOf('/w/main.s', '.loop:', 1)],
    ['a macro, case-insensitively', '/w/main.s', 'SPIN', 0, '/w/lib/defs.s', 2],
    ['a label used in data', '/w/main.s', '.qword first', 0, '/w/main.s', lineOf('/w/main.s', 'first:')],
    ['a definition itself', '/w/main.s', 'second:', 0, '/w/main.s', lineOf('/w/main.s', 'second:')],
  ];
  for (const [what, file, needle, nth, expectFile, expectLine] of DEFINITIONS) {
    it(`goes to ${what}`, () => {
      const offset = needle.startsWith('call ') || needle.startsWith('jnz ') || needle.startsWith('.qword ') ? needle.indexOf(' ') + 2 : 1;
      const p = at(file, needle, nth, offset);
      const hits = definitionAt(index, file, p.line, p.col);
      assert.equal(hits.length, 1, JSON.stringify(hits));
      assert.equal(hits[0].file, expectFile);
      assert.equal(hits[0].line, expectLine);
    });
  }

  it('finds nothing for registers, mnemonics, numbers and macro parameters', () => {
    for (const [needle, offset] of [['mov rsp', 5], ['mov rsp', 1], ['0x8000', 2]] as const) {
      const p = at('/w/main.s', needle, 0, offset);
      assert.deepEqual(definitionAt(index, '/w/main.s', p.line, p.col), [], needle);
    }
    const p = positionOf(DEFS, '\\reg');
    assert.deepEqual(definitionAt(index, '/w/lib/defs.s', p.line, p.col + 2), []);
  });

  const REFERENCES: [what: string, needle: string, nth: number, withDecl: boolean, count: number][] = [
    ['first: call, data and its definition', 'first:', 0, true, 3],
    ['first without the declaration', 'first:', 0, false, 2],
    ['first.loop: only its own jnz', 'jnz .loop', 0, true, 2],
    ['second.loop: its jnz and the qualified jmp', 'jnz .loop', 1, true, 3],
    ['COUNT across files', 'COUNT', 0, true, 2],
  ];
  for (const [what, needle, nth, withDecl, count] of REFERENCES) {
    it(`references: ${what}`, () => {
      const p = at('/w/main.s', needle, nth, needle.startsWith('jnz') ? 5 : 1);
      assert.equal(referencesAt(index, '/w/main.s', p.line, p.col, withDecl).length, count);
    });
  }

  it('resolves from an included file through its includer (the unit)', () => {
    const p = positionOf(DEFS, 'spin');
    const refs = referencesAt(index, '/w/lib/defs.s', p.line, p.col + 1, false);
    assert.deepEqual(refs.map((r) => [r.file, r.line]), [['/w/main.s', lineOf('/w/main.s', 'SPIN')]]);
  });

  it('goes to the invocation of a macro that defines the label (TRAP 14 defines trap_14)', () => {
    const { index: idx } = indexOf({ '/m.s': '.macro TRAP vec\ntrap_\\vec:\n    push \\vec\n.endm\n    TRAP 14\n    jmp trap_14' });
    const hits = definitionAt(idx, '/m.s', 5, 9);
    assert.deepEqual(hits.map((h) => [h.line, h.definition.name, h.definition.inMacro]), [[4, 'trap_14', 'trap']]);
    assert.equal(referencesAt(idx, '/m.s', 5, 9, true).length, 2);
  });

  it('falls back to the other includers of a shared file (a hook only some examples define)', () => {
    const { index: idx } = indexOf({
      '/k/lib.s': '.ifdef HOOK\n    call hook\n.endif',
      '/a.s': '.include "k/lib.s"',
      '/b.s': '.equ HOOK, 1\n.include "k/lib.s"\nhook: ret',
    });
    assert.equal(idx.rootOf('/k/lib.s'), '/a.s');
    assert.deepEqual(definitionAt(idx, '/k/lib.s', 1, 11).map((h) => [h.file, h.line]), [['/b.s', 2]]);
  });

  it('finds workspace symbols by subsequence', () => {
    assert.deepEqual(workspaceSymbols(index, 'scnd').map((h) => h.definition.name), ['second', 'second.loop']);
  });
});

describe('language: scanning', () => {
  const CASES: [src: string, defs: string[], refs: string[]][] = [
    ['a: b: nop', ['label a', 'label b'], []],
    ['f:\n.x: jmp .x\n    jmp f.x', ['label f', 'local f.x'], ['symbol f.x', 'symbol f.x']],
    ['.equ A, B + 1\nB = 2', ['equ A', 'equ B'], ['symbol B']],
    ['.set C, 1', ['equ C'], []],
    ['.macro M a, b\n\\a\\@: mov \\b, X\n.endm\n  M 1, 2', ['macro m'], ['symbol X', 'macro m']],
    ['  mov qword ptr [rax + LBL*8], byte_count', [], ['symbol LBL', 'symbol byte_count']],
    ['  mov rax, cr3 ; COMMENT_NAME', [], []],
    ['  .ascii "NOT_A_NAME"', [], []],
    ['.ifdef FEATURE\n.endif', [], ['symbol FEATURE']],
    ['  mov rax, FOO, 12abc, BAR', [], ['symbol FOO']],
    ['  .set LATER, X ; a comment with NAME', ['equ LATER'], ['symbol X']],
  ];
  for (const [src, defs, refs] of CASES) {
    it(JSON.stringify(src), () => {
      const s = scanFile(src);
      assert.deepEqual(s.definitions.map((d) => `${d.kind} ${d.name}`), defs);
      assert.deepEqual(s.references.map((r) => `${r.kind} ${r.name}`), refs);
    });
  }

  it('records includes and sections with their positions', () => {
    const s = scanFile('.include "a/b.s"\n  .org 0x1000 + 4 ; x');
    assert.deepEqual(s.includes.map((i) => [i.path, i.line, i.col]), [['a/b.s', 0, 9]]);
    assert.deepEqual(s.sections.map((x) => [x.origin, x.line]), [['0x1000 + 4', 1]]);
  });

  const WORDS: [line: string, col: number, word: string | undefined][] = [
    ['  jnz .loop', 7, '.loop'],
    ['  jmp main.loop', 12, 'main.loop'],
    ['  mov rax, 0x1000', 13, '0x1000'],
    ["  mov al, '*'", 11, "'*'"],
    ['; even rsp.', 8, 'rsp'],
    ['.l\\@:', 2, '.l'],
    ['  dec \\reg', 7, '\\reg'],
    ['  mov rax,  rbx', 11, undefined],
  ];
  for (const [line, col, word] of WORDS) {
    it(`word at ${JSON.stringify(line)}:${col} is ${word}`, () => assert.equal(wordAt(line, col)?.text, word));
  }
});

describe('language: document outline', () => {
  const render = (nodes: OutlineNode[], depth = 0): string[] =>
    nodes.flatMap((n) => [`${'  '.repeat(depth)}${n.kind} ${n.name} ${n.range.startLine}-${n.range.endLine}`, ...render(n.children, depth + 1)]);

  it('nests labels in .org sections and local labels in their label; macros and constants listed', () => {
    assert.deepEqual(render(outline(scanFile(MAIN))), [
      'section .org 0x8000 2-13',
      '  label _start 3-5',
      '  label first 6-9',
      '    local .loop 7-7',
      '  label second 10-13',
      '    local .loop 11-11',
      'section .org 0x9000 14-15',
      '  label table 15-15',
    ]);
    assert.deepEqual(render(outline(scanFile(DEFS))), ['equ COUNT 0-0', 'equ STACK 1-1', 'macro spin 2-5']);
  });
});

describe('language: the examples resolve', () => {
  it('every name used in the examples and the kernel has a definition in its unit', () => {
    const reader = {
      read: (p: string): string | undefined => {
        try {
          return readFileSync(p, 'utf8');
        } catch {
          return undefined;
        }
      },
      resolve: (from: string, inc: string): string => resolve(dirname(from), inc),
    };
    const index = new LanguageIndex(reader);
    const dir = join(REPO, 'examples');
    const roots = readdirSync(dir).filter((f) => f.endsWith('.s')).map((f) => join(dir, f));
    for (const f of [...roots, ...readdirSync(join(dir, 'kernel')).map((f) => join(dir, 'kernel', f))]) index.update(f);
    const unresolved: string[] = [];
    let checked = 0;
    for (const root of roots) {
      for (const file of index.unitOf(root)) {
        for (const r of index.scan(file)!.references) {
          checked++;
          if (definitionAt(index, file, r.line, r.col).length === 0) unresolved.push(`${file}:${r.line + 1} ${r.written}`);
        }
      }
    }
    // ITERATIONS is bench-loop.s's optional define (set from the command line).
    assert.deepEqual(unresolved.filter((u) => !/\bITERATIONS$/.test(u)), []);
    assert.ok(checked > 500, `only ${checked} references checked`);
  });
});
