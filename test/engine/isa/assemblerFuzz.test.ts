import { strict as assert } from 'node:assert';
import { AssembleResult, assemble, bytesAt, memoryFiles } from '../../../src/engine/isa/assembler';
import { decode } from '../../../src/engine/isa/encoding';
import { MNEMONICS } from '../../../src/engine/isa/opcodes';
import { REG16, REG32, REG64, REG8 } from '../../../src/engine/isa/registers';
import { rngFloat as rng } from '../../support/rng';


const VALID = `; a small kernel-like program
.equ PAGE, 0x1000
.macro save a, b
  push \\a
  push \\b
.endm
.org 0x8000
_start:
  mov rsp, stack_top
  save rax, rbx
  lea rsi, [table + rcx*8 - 8]
  mov qword [rsi], PAGE | 3
  movzx eax, byte [rsi + 1]
  shl rax, cl
  mov cr3, rax
  invlpg [rsi]
.loop: dec rcx
  jnz .loop
  .if PAGE > 0x800
  out 0xe9, al
  .else
  hlt
  .endif
  call helper
  hlt
helper: ret
.align 8
table: .qword 0, 1, _start
msg: .asciz "hello\\n"
.space 64
stack_top:
.include "extra.s"
`;
const EXTRA = 'extra: mov al, \'x\'\n  .byte 1, 2, 3\n';

const WORDS = [
  ...MNEMONICS.keys(), ...REG64, ...REG32, ...REG16, ...REG8, 'cr0', 'cr3', 'cr4', 'cr7', 'byte', 'word', 'dword', 'qword', 'ptr',
  '.org', '.byte', '.word', '.dword', '.qword', '.ascii', '.asciz', '.space', '.align', '.equ', '.include', '.macro', '.endm',
  '.if', '.else', '.elseif', '.endif', '.ifdef', '.entry', '.error', 'label', '.local', '_start', 'X', '$', '\\@', '\\a', 'movabs',
];
const PUNCT = ['[', ']', '+', '-', '*', ',', ':', '(', ')', '<<', '>>', '/', '%', '=', '"', "'", ';', '#', '~', '!', '\\', ' ', ' ', ' '];
const NUMBERS = ['0', '1', '-1', '8', '0x7fffffff', '0x80000000', '0xffffffffffffffff', '0x1_0000', '0b11', '0o7', '300', '1e3', '0x', "'a'", '"s"', '"\\x4"'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function randomSource(r: () => number): string {
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    const m = Math.floor(r() * 8);
    for (let j = 0; j < m; j++) {
      const x = r();
      parts.push(x < 0.45 ? pick(r, WORDS) : x < 0.75 ? pick(r, PUNCT) : pick(r, NUMBERS));
    }
    lines.push(parts.join(r() < 0.5 ? ' ' : ''));
  }
  return lines.join('\n');
}

function mutate(r: () => number, src: string): string {
  let s = src;
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const len = 1 + Math.floor(r() * 6);
    const kind = r();
    if (kind < 0.35) s = s.slice(0, at) + s.slice(at + len);
    else if (kind < 0.7) s = s.slice(0, at) + pick(r, [...PUNCT, ...NUMBERS, ...WORDS, '\n']) + s.slice(at);
    else s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
  }
  return s;
}

/** Invariants every result must keep, good input or bad. */
function check(r: AssembleResult, what: string): void {
  for (const d of r.diagnostics) {
    assert.ok(d.file.length > 0 && d.line >= 1 && d.column >= 1, `${what}: bad location ${JSON.stringify(d)}`);
    assert.ok(Number.isInteger(d.line) && Number.isInteger(d.column));
    if (d.endColumn !== undefined) assert.ok(d.endColumn > d.column, `${what}: ${JSON.stringify(d)}`);
    assert.ok(!d.message.includes('internal assembler error'), `${what}: ${d.message}`);
  }
  assert.equal(r.ok, !r.diagnostics.some((d) => d.severity === 'error'));
  for (let i = 1; i < r.segments.length; i++) {
    const p = r.segments[i - 1];
    assert.ok(p.address + p.bytes.length < r.segments[i].address, `${what}: segments overlap or touch`);
  }
  for (let i = 1; i < r.sourceMap.length; i++) assert.ok(r.sourceMap[i - 1].address <= r.sourceMap[i].address);
  if (r.ok) {
    for (const e of r.sourceMap.filter((x) => x.kind === 'insn')) {
      const d = decode(bytesAt(r, e.address, e.length), 0);
      assert.ok(typeof d !== 'string' && d.length === e.length, `${what}: undecodable output for '${e.text}'`);
    }
  }
}

function run(main: string): AssembleResult {
  return assemble('main.s', memoryFiles({ 'main.s': main, 'extra.s': EXTRA }));
}

describe('assembler fuzz (seeded)', () => {
  it('the valid base program assembles', () => {
    const r = run(VALID);
    assert.deepEqual(r.diagnostics, []);
    check(r, 'base');
  });

  it('2000 random token soups never throw and keep every invariant', () => {
    const r = rng(0xa55e);
    for (let i = 0; i < 2000; i++) {
      const src = randomSource(r);
      check(run(src), `soup #${i} ${JSON.stringify(src)}`);
    }
  });

  it('2000 random mutations of a valid program never throw and keep every invariant', () => {
    const r = rng(0xbeef);
    let okCount = 0;
    for (let i = 0; i < 2000; i++) {
      const src = mutate(r, VALID);
      const res = run(src);
      check(res, `mutation #${i} ${JSON.stringify(src)}`);
      if (res.ok) okCount++;
    }
    // Some mutations are harmless (inside comments, strings, .space counts): both paths are exercised.
    assert.ok(okCount > 20 && okCount < 1900, `${okCount} of 2000 mutations assembled`);
  });
});
