import { strict as assert } from 'node:assert';
import {
  AssembleResult, addressesForLine, assemble, assembleText, bytesAt, listing, lookupAddress, memoryFiles,
} from '../../../src/engine/isa/assembler';
import { decode, encode } from '../../../src/engine/isa/encoding';
import { Insn } from '../../../src/engine/isa/instruction';
import { Form, Op } from '../../../src/engine/isa/opcodes';

function ok(src: string, defines?: Record<string, bigint>): AssembleResult {
  const r = assembleText(src, 'main.s', { defines });
  assert.deepEqual(r.diagnostics, [], src);
  return r;
}

/** All output bytes of a one-segment program. */
function bytes(src: string): number[] {
  const r = ok(src);
  assert.equal(r.segments.length, 1);
  return Array.from(r.segments[0].bytes);
}

function value(expr: string): bigint {
  const r = ok(`X = ${expr}`);
  return r.symbols.get('X') as bigint;
}

function insnAt(r: AssembleResult, address: number): Insn {
  const d = decode(bytesAt(r, address, 12), 0);
  assert.ok(typeof d !== 'string');
  return d;
}

describe('assembler expressions', () => {
  const table: [string, bigint][] = [
    ['42', 42n], ['0x2A', 42n], ['0b101010', 42n], ['0o52', 42n], ["'*'", 42n], ['1_000_000', 1000000n], ['0xffff_ffff', 0xffffffffn],
    ['2 + 3 * 4', 14n], ['(2 + 3) * 4', 20n], ['-5', -5n], ['~0', -1n], ['!0', 1n], ['!7', 0n], ['17 / 5', 3n], ['-17 / 5', -3n], ['17 % 5', 2n],
    ['1 << 12', 4096n], ['0x12345 >> 12', 0x12n], ['-1 >> 60', 15n], ['0xf0 & 0x3c', 0x30n], ['0xf0 | 0x0f', 0xffn], ['0xff ^ 0x0f', 0xf0n],
    ['1 + 2 << 3', 24n], ['3 == 3', 1n], ['3 != 3', 0n], ['2 < 3 && 3 <= 3', 1n], ['2 > 3 || 3 >= 4', 0n],
    ['0xffffffffffffffff', -1n], ['0x7fffffffffffffff + 1', -(1n << 63n)], ["'\\n'", 10n], ["'\\x41'", 65n],
  ];
  for (const [expr, v] of table) it(`${expr} = ${v}`, () => assert.equal(value(expr), v));

  it('$ is the address of the current instruction or directive', () => {
    const r = ok('.org 0x100\nnop\nhere: jmp $\n.qword $');
    assert.equal(insnAt(r, 0x102).rel, -6);
    assert.deepEqual(Array.from(bytesAt(r, 0x108, 8)), [0x08, 0x01, 0, 0, 0, 0, 0, 0]);
  });

  it('labels and .equ symbols in operands, including forward references', () => {
    const r = ok('.org 0x2000\nmov rax, buffer + 8\nmov rbx, [buffer + SIZE*2]\nSIZE = 4\nbuffer: .space SIZE');
    assert.equal(insnAt(r, 0x2000).immLo, 0x2000 + 7 + 9 + 8);
    assert.equal(insnAt(r, 0x2007).disp, 0x2010 + 8);
    assert.equal(r.symbols.get('SIZE'), 4n);
    assert.equal(r.labels.get('buffer'), 0x2010);
    assert.equal(r.labels.has('SIZE'), false);
  });

  it('mov r64 switches to the 64-bit immediate form when a (forward) value needs it', () => {
    const r = ok('mov rax, far\nmov rbx, near\nnear = 5\nfar = 0x123456789\nend:');
    assert.equal(insnAt(r, 0).form, Form.RI64);
    assert.equal(insnAt(r, 11).form, Form.RI);
    assert.equal(r.labels.get('end'), 11 + 7);
    assert.equal(insnAt(ok('movabs rax, 1'), 0).form, Form.RI64);
  });

  it('defines from the caller are symbols', () => {
    const r = ok('.ifdef VARIANT\nmov rax, VARIANT\n.else\nhlt\n.endif', { VARIANT: 3n });
    assert.equal(insnAt(r, 0).immLo, 3);
  });
});

describe('assembler directives', () => {
  it('.byte/.word/.dword/.qword are little-endian; .byte takes strings', () => {
    assert.deepEqual(bytes('.byte 1, -1, 255, "ab"\n.word 0x1234, -2\n.dword 0xdeadbeef\n.qword -2'), [
      1, 0xff, 0xff, 0x61, 0x62, 0x34, 0x12, 0xfe, 0xff, 0xef, 0xbe, 0xad, 0xde, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
  });

  it('.ascii and .asciz decode C escapes and UTF-8', () => {
    assert.deepEqual(bytes('.ascii "a\\n\\t\\\\\\"\\0\\x7f"\n.asciz "é", ""'), [0x61, 10, 9, 0x5c, 0x22, 0, 0x7f, 0xc3, 0xa9, 0, 0]);
  });

  it('.space and .align fill; .align pads to the boundary from the absolute address', () => {
    assert.deepEqual(bytes('.org 0x1001\n.byte 1\n.align 4, 0xcc\n.space 3, 7\n.align 8\n.align 8\n.byte 2'), [1, 0xcc, 0xcc, 7, 7, 7, 0, 2]);
  });

  it('.org places code at guest-physical addresses and makes separate segments', () => {
    const r = ok('.org 0x7000\n_start: jmp next\n.org 0x1000\n.qword _start\n.org 0x7006\nnext: hlt');
    assert.deepEqual(r.segments.map((s) => [s.address, s.bytes.length]), [[0x1000, 8], [0x7000, 8]]);
    assert.equal(r.entry, 0x7000);
    assert.equal(insnAt(r, 0x7000).rel, 0);
  });

  it('.entry sets the entry point; otherwise _start, else the first instruction', () => {
    assert.equal(ok('.org 0x10\nnop\nmain: hlt\n.entry main').entry, 0x12);
    assert.equal(ok('.org 0x10\nnop\n_start: hlt').entry, 0x12);
    assert.equal(ok('.org 0x10\n.byte 1\nnop').entry, 0x11);
    assert.equal(ok('.byte 1').entry, undefined);
  });

  it('.equ, NAME = expr, .global, .text and .data', () => {
    const r = ok('.text\n.global _start\n.equ A, 3\nB = A * 2\n.data\n.byte B');
    assert.equal(r.symbols.get('B'), 6n);
    assert.deepEqual(Array.from(r.segments[0].bytes), [6]);
  });

  it('.if/.elseif/.else/.endif select code; nested and false blocks skip errors', () => {
    const src = (v: number): string => `V = ${v}\n.if V == 1\n.byte 1\n.elseif V == 2\n.byte 2\n.if 0\n bogus!\n.endif\n.else\n.byte 3\n.endif`;
    assert.deepEqual(bytes(src(1)), [1]);
    assert.deepEqual(bytes(src(2)), [2]);
    assert.deepEqual(bytes(src(7)), [3]);
    assert.deepEqual(bytes('.ifndef NOPE\n.byte 9\n.endif\n.ifdef NOPE\n.byte 8\n.endif'), [9]);
  });
});

describe('assembler labels', () => {
  it('local labels are scoped to the previous global label', () => {
    const r = ok('f:\n.loop: dec rcx\njnz .loop\ng:\n.loop: dec rdx\njnz .loop\njmp f.loop');
    assert.equal(r.labels.get('f.loop'), 0);
    assert.equal(r.labels.get('g.loop'), 9);
    assert.equal(insnAt(r, 3).rel, -9); // jnz .loop under f → 0
    assert.equal(insnAt(r, 12).rel, -9); // jnz .loop under g → 9
    assert.equal(insnAt(r, 18).rel, -24); // jmp f.loop → 0
  });

  it('several labels on one line and labels on directive lines', () => {
    const r = ok('a: b: c: nop\nd: .byte 1');
    assert.deepEqual([...r.labels], [['a', 0], ['b', 0], ['c', 0], ['d', 2]]);
  });
});

describe('assembler macros and includes', () => {
  it('substitutes parameters and \\@ gives each expansion unique labels', () => {
    const src = '.macro spin reg, n\n  mov \\reg, \\n\n.l\\@: dec \\reg\n  jnz .l\\@\n.endm\nf:\n  spin rcx, 3\n  spin rdx, [rsi + 8]\n';
    const r = ok(src);
    assert.deepEqual([...r.labels.keys()], ['f', 'f.l1', 'f.l2']);
    assert.equal(insnAt(r, 0).immLo, 3);
    assert.equal(insnAt(r, 16).disp, 8);
    // source map: expanded lines point at the invocation, with the body line kept
    const e = lookupAddress(r, 16);
    assert.deepEqual([e?.line, e?.column, e?.text, e?.macroDefinition?.line], [8, 3, 'mov rdx, [rsi + 8]', 2]);
    assert.deepEqual(addressesForLine(r, 'main.s', 7), [0, 7, 10]);
  });

  it('macros can use other macros and a label before an invocation marks its first byte', () => {
    const r = ok('.macro one\n nop\n.endm\n.macro two\n one\n one\n.endm\nstart: two\nend:');
    assert.equal(r.labels.get('start'), 0);
    assert.equal(r.labels.get('end'), 4);
  });

  it('.include reads through the FileProvider, relative to the including file', () => {
    const files = memoryFiles({
      'os/kernel.s': '.include "lib/defs.inc"\n_start: mov rax, PAGE\n.include "lib/util.s"',
      'os/lib/defs.inc': 'PAGE = 4096',
      'os/lib/util.s': 'util: ret\n.include "../tail.s"',
      'os/tail.s': 'tail: hlt',
    });
    const r = assemble('os/kernel.s', files);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.labels.get('util'), 7);
    assert.equal(r.labels.get('tail'), 9);
    assert.deepEqual([lookupAddress(r, 9)?.file, lookupAddress(r, 9)?.line], ['os/tail.s', 1]);
  });

  it('an include inside a false .if is never read', () => {
    const r = ok('.ifdef X\n.include "missing.s"\n.endif\nnop');
    assert.equal(r.ok, true);
  });

  it('a huge non-recursive expansion hits the line limit instead of running away', () => {
    let src = '.macro m0\n nop\n.endm\n';
    for (let i = 1; i <= 6; i++) src += `.macro m${i}\n${` m${i - 1}\n`.repeat(10)}.endm\n`;
    const r = assembleText(src + 'm6');
    assert.equal(r.ok, false);
    assert.match(r.diagnostics[0].message, /program too large/);
  });
});

describe('assembler source map', () => {
  const src = '.org 0x1000\n_start:\n  mov rax, 1   ; one\n  .byte 1, 2\n  jmp _start\n';
  const r = ok(src);

  it('maps addresses to file, line and column, both directions', () => {
    assert.deepEqual(r.sourceMap.map((e) => [e.address, e.length, e.line, e.column, e.kind]), [
      [0x1000, 7, 3, 3, 'insn'], [0x1007, 2, 4, 3, 'data'], [0x1009, 6, 5, 3, 'insn'],
    ]);
    for (let a = 0x1000; a < 0x100f; a++) {
      const e = lookupAddress(r, a);
      assert.ok(e && a >= e.address && a < e.address + e.length);
    }
    assert.equal(lookupAddress(r, 0xfff), undefined);
    assert.equal(lookupAddress(r, 0x100f), undefined);
    assert.deepEqual(addressesForLine(r, 'main.s', 5), [0x1009]);
    assert.deepEqual(addressesForLine(r, 'main.s', 4), []);
    assert.deepEqual(addressesForLine(r, 'main.s', 4, 'any'), [0x1007]);
    assert.deepEqual(addressesForLine(r, 'other.s', 5), []);
  });

  it('is sorted by address even when .org goes backwards', () => {
    const s = ok('.org 0x20\nnop\n.org 0x10\nnop\n.org 0x30\nnop').sourceMap.map((e) => e.address);
    assert.deepEqual(s, [0x10, 0x20, 0x30]);
  });

  it('listing shows address, bytes, location and text, then symbols', () => {
    const text = listing(r);
    assert.match(text, /^00001000 {2}10 3f 00 01 00 00 00 +main\.s:3 +mov rax, 1 {3}; one$/m);
    assert.match(text, /^00001009 {2}40 af f1 ff ff ff/m);
    assert.match(text, /0x1000 {2}label {2}_start/);
    assert.match(text, /Entry: 0x1000/);
  });

  it('segment bytes are exactly what encode() gives', () => {
    const i = new Insn();
    Object.assign(i, { op: Op.MOV, form: Form.RI, size: 8, srcSize: 8, r0: 0, immLo: 1 });
    assert.deepEqual(Array.from(bytesAt(r, 0x1000, 7)), encode(i));
  });
});
