// Hover texts: instructions (from docs/isa.md via the generated table), registers, bit names,
// numbers with page-table indices, symbols with their assembled values.
import * as assert from 'node:assert/strict';
import { assemble } from '../../../src/engine/isa/assembler';
import { MNEMONICS } from '../../../src/engine/isa/opcodes';
import { INSTRUCTION_DOCS } from '../../../src/extension/language/generated/instructionDocs';
import { parseSemantics } from '../../../src/extension/language/gen/isaDoc';
import { decodeFlags, flagsNamed } from '../../../src/extension/language/flags';
import { SymbolValues, hoverAt } from '../../../src/extension/language/hover';
import { instructionHover, pageIndices } from '../../../src/extension/language/hoverText';
import { indexOf, positionOf } from './fixtures';

const SRC = [
  '.include "defs.s"',
  '.org 0x401000',
  '.phys 0x80000',
  'start:  mov rax, cr0            ; turn on CR0.WP and P=1 here, even rsp.',
  '        or rax, CR0_WP',
  '        mov qword [table], PTE_USER_RW | 0x200000',
  '        SPIN rcx',
  '.loop:  jnz .loop',
  '        mov al, \'*\'',
  '        mov ebx, 0b1010',
  'table:  .qword 0',
].join('\n');
const DEFS = ['.equ CR0_WP, 1 << 16', '.equ PTE_USER_RW, 0x7', '.macro SPIN r', '    dec \\r', '.endm'].join('\n');

describe('language: hovers', () => {
  const { ws, index } = indexOf({ '/p/main.s': SRC, '/p/defs.s': DEFS });
  const result = assemble('/p/main.s', ws);
  assert.ok(result.ok, JSON.stringify(result.diagnostics));
  const values: SymbolValues = {
    value: (_f, name) => {
      const v = result.symbols.get(name);
      return v === undefined ? undefined : { value: v, loadAddress: name === 'start' ? 0x80000 : undefined };
    },
    displayPath: (f) => f.slice(3),
  };
  const hover = (needle: string, nth = 0, offset = 1): string => {
    const p = positionOf(SRC, needle, nth);
    return hoverAt(index, values, '/p/main.s', p.line, p.col + offset)?.markdown ?? '(none)';
  };

  const CASES: [what: string, needle: string, nth: number, offset: number, expected: (string | RegExp)[]][] = [
    ['an instruction: opcode, forms, doc effect, flags', 'or rax', 0, 0, ['**or**', 'opcode `0x21`', '`r,imm`', 'bitwise; test discards', 'CF: 0']],
    ['an instruction with two rows in the ISA doc (mov)', 'mov rax, cr0', 0, 0, ['**mov**', 'd ← s', '`mov crN, r`']],
    ['a conditional jump: its condition', 'jnz', 0, 0, ['alias of `jne`', 'ZF=0', '`jne`']],
    ['a control register with its bits', 'cr0 ', 0, 1, ['control register 0', '| 16 | WP |', '| 31 | PG |']],
    ['a sub-register', 'al,', 0, 0, ['8-bit general register', 'bits 7:0 of `rax`']],
    ['a bit name in a comment (CR0.WP)', 'CR0.WP', 0, 5, ['**WP** — CR0 bit 16', 'write protect']],
    ['a one-letter bit written as one (P=1)', 'P=1', 0, 0, ['**P** — paging-structure entry', 'present', '#PF error code']],
    ['a register in prose, with the sentence dot', 'rsp.', 0, 1, ['**rsp**', 'stack pointer']],
    ['a .equ flag constant: value and bit', 'CR0_WP', 0, 2, ['constant CR0_WP', 'defs.s:1', '`0x10000`', '**WP** — CR0 bit 16']],
    ['a composite PTE constant: decoded bits', 'PTE_USER_RW', 0, 2, ['`0x7`', '`P` `RW` `US`']],
    ['a hex number: conversions and page-table indices', '0x200000', 0, 2, ['2097152', '2 MiB', 'PML4 0 · PDPT 0 · PD 1 · PT 0', 'PD 0 · PT 512']],
    ['a binary number', '0b1010', 0, 2, ['`0xa` · 10']],
    ['a character', "'*'", 0, 1, ['character, byte `0x2a` · 42']],
    ['a label: address, load address and indices', 'start:', 0, 1, ['label start', '`0x401000`', 'guest-physical `0x80000`', 'PD 2 · PT 1']],
    ['a local label', 'jnz .loop', 0, 6, ['local label start.loop', 'main.s:8']],
    ['a macro invocation: its body', 'SPIN', 0, 1, ['macro SPIN', 'defs.s:3', 'dec \\r']],
    ['a directive', '.phys', 0, 2, ['**.phys** — directive', 'VMA/LMA']],
  ];
  for (const [what, needle, nth, offset, expected] of CASES) {
    it(what, () => {
      const text = hover(needle, nth, offset);
      for (const e of expected) {
        if (typeof e === 'string') assert.ok(text.includes(e), `missing ${JSON.stringify(e)} in:\n${text}`);
        else assert.match(text, e);
      }
    });
  }

  it('says nothing for spaces and punctuation, and for a plain word in prose', () => {
    assert.equal(hover('[table]', 0, 0), '(none)');
    assert.equal(hover('turn on', 0, 1), '(none)');
  });

  it('has a docs/isa.md row for every mnemonic of the engine', () => {
    const missing = [...MNEMONICS.keys(), 'movabs'].filter((m) => {
      const text = instructionHover(m) ?? '';
      return !INSTRUCTION_DOCS.some((r) => text.includes(`${r.syntax} — ${r.effect}`));
    });
    assert.deepEqual(missing, []);
  });

  it('parses a semantics table: several mnemonics per row, flag columns, notes', () => {
    const md = ['## Semantics', '### Arith', '| instruction | effect | CF | ZF |', '|---|---|---|---|', '| `add sub d, s` | d ± s | carry | result |', '', '`sub` by zero is fine.', '## Next', '| `nop` | x |'].join('\n');
    assert.deepEqual(parseSemantics(md), [{ group: 'Arith', mnemonics: ['add', 'sub'], syntax: '`add sub d, s`', effect: 'd ± s', flags: [['CF', 'carry'], ['ZF', 'result']], notes: ['`sub` by zero is fine.'] }]);
  });
});

describe('language: bit names', () => {
  const NAMED: [word: string, expected: string[]][] = [
    ['PTE_RW', ['entry RW 1']],
    ['PTE_P', ['entry P 0']],
    ['PF_WRITE', ['pf W 1']],
    ['CR4_PSE', ['cr4 PSE 4']],
    ['EFER_NXE', ['efer NXE 11']],
    ['XD', ['entry XD 63']],
    ['NX', ['entry XD 63']],
    ['SMEP', ['cr4 SMEP 20']],
    ['P', ['entry P 0', 'pf P 0']],
    ['PTE_USER_RW', []],
    ['MSR_EFER', []],
    ['p', []],
  ];
  for (const [word, expected] of NAMED) {
    it(`${word} → ${expected.join(', ') || 'nothing'}`, () => {
      assert.deepEqual(flagsNamed(word).map((f) => `${f.context} ${f.name} ${f.bit}`), expected);
    });
  }
  it('decodes values as bits of a structure', () => {
    assert.deepEqual(decodeFlags(0x8000000000000083n, 'entry'), ['P', 'RW', 'PS', 'XD']);
    assert.deepEqual(decodeFlags(0x80000011n, 'cr0'), ['PE', 'ET', 'PG']);
    assert.deepEqual(decodeFlags(0x1d3n, 'ept'), ['R', 'W', 'MT=2', 'IPAT', 'PS', 'A']);
  });
  it('computes page-table indices as the MMU does', () => {
    assert.match(pageIndices(0x00007fffffffe000n), /PML4 255 · PDPT 511 · PD 511 · PT 510/);
    assert.doesNotMatch(pageIndices(0x00007fffffffe000n), /32-bit/);
    assert.match(pageIndices(0xffc00000n), /PD 1023 · PT 0/);
  });
});
