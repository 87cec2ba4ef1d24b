import { strict as assert } from 'node:assert';
import { assemble, assembleText, memoryFiles } from '../../../src/engine/isa/assembler';

// [source, expected message fragment, line, column]
const BAD: readonly [string, string, number, number][] = [
  ['foo rax, 1', "unknown instruction 'foo'", 1, 1],
  ['mov rax, ebx', 'operand size mismatch', 1, 10],
  ['mov al, 300', 'out of range for a 8-bit operand', 1, 9],
  ['nop\n  mov rax, nowhere', "undefined symbol 'nowhere'", 2, 12],
  ['x:\nx:', "'x' is already defined at main.s:1", 2, 1],
  ['f:\n.a: nop\n.a: nop', "'f.a' is already defined", 3, 1],
  ['inc [rax]', 'operand size not specified', 1, 5],
  ['mov [rax], 1', 'operand size not specified', 1, 5],
  ['inc qword [rax], 1', "'inc' does not take operands of the form m,imm", 1, 5],
  ['add rax, 0x100000000', 'does not fit in a sign-extended 32-bit immediate', 1, 10],
  ['push 0x80000000', 'does not fit in a sign-extended 32-bit immediate', 1, 6],
  ['mov eax, [rax', "missing ']'", 1, 10],
  ['.ascii "abc', 'unterminated string', 1, 8],
  ['.ascii "a\\qb"', "bad escape '\\q'", 1, 10],
  ["mov al, 'ab'", 'exactly one byte', 1, 9],
  ['.bogus 1', "unknown directive '.bogus'", 1, 1],
  ['.space', '.space expects 1 to 2 arguments, got 0', 1, 1],
  ['.macro m a\n nop\n.endm\n m 1, 2', "macro 'm' expects 1 argument, got 2", 4, 2],
  ['.macro r\n r\n.endm\n r', 'nested too deeply', 4, 2],
  ['.macro m\n.macro n\n.endm', "unterminated .macro 'm'", 1, 1],
  ['.endm', '.endm without .macro', 1, 1],
  ['.macro mov a\n.endm', 'is an instruction mnemonic', 1, 1],
  ['.macro m a, a\n.endm', "duplicate macro parameter 'a'", 1, 1],
  ['nop\n.include "nope.s"', "cannot read include file 'nope.s'", 2, 10],
  ['.include nope', 'one quoted file name', 1, 1],
  ['.org 0\n.byte 1\n.org 0\n.byte 2', 'overlaps bytes already placed', 4, 1],
  ['.space 0x40000000', '.space size 1073741824 is out of range', 1, 8],
  ['.org 0xfffffffffffff\n.space 2', 'top of guest-physical memory', 2, 1],
  ['.org -1', '.org address -1 is out of range', 1, 6],
  ['shl rax, rbx', 'shift count must be cl or an immediate', 1, 10],
  ['shl rax, 256', 'shift count 256 is out of range', 1, 10],
  ['int 256', 'interrupt vector 256 is out of range 0..255', 1, 5],
  ['jmp eax', "'jmp' does not support 32-bit operands", 1, 5],
  ['push eax', "'push' does not support 32-bit operands", 1, 6],
  ['mov cr3, eax', 'must be a 64-bit register', 1, 10],
  ['mov ebx, cr0', 'must be a 64-bit register', 1, 5],
  ['mov cr5, rax', "'cr5' is not a supported control register", 1, 5],
  ['add cr3, rax', "'add' does not take operands of the form cr,r", 1, 5],
  ['lea al, [rax]', "'lea' does not support 8-bit operands", 1, 5],
  ['imul al, bl', "'imul' does not support 8-bit operands", 1, 6],
  ['movzx eax, ebx', 'must widen', 1, 12],
  ['movzx rax, dword [rsi]', 'movzx from a 32-bit source does not exist', 1, 12],
  ['movzx eax, [rsi]', 'needs the size of its memory operand', 1, 12],
  ['mov rax, [eax]', 'address registers must be 64-bit', 1, 11],
  ['mov rax, [rax+rbx+rcx]', 'too many registers', 1, 19],
  ['mov rax, [rax*2+rbx*4]', 'only one register can be scaled', 1, 17],
  ['mov rax, [rax - rbx]', 'cannot be subtracted', 1, 15],
  ['mov rax, [rax*3]', 'scale must be 1, 2, 4 or 8, not 3', 1, 15],
  ['mov rax, [rax + 0x80000000]', 'does not fit in a signed 32-bit value', 1, 17],
  ['mov rax, [ ]', 'empty memory operand', 1, 10],
  ['mov rax, [rip + 8]', 'rip-relative addressing is not supported', 1, 11],
  ['mov qword [rax], ebx', 'operand size mismatch', 1, 5],
  ['lidt dword [rax]', "'lidt' takes a qword memory operand", 1, 6],
  ['in al, 0x100', 'port 256 is out of range', 1, 8],
  ['in al, cx', "port of 'in' must be dx", 1, 8],
  ['out cx, al', "port of 'out' must be dx", 1, 5],
  ['in rax, dx', "'in' does not support 64-bit operands", 1, 4],
  ['.align 3', 'not a power of two', 1, 8],
  ['.byte 256', 'does not fit in .byte', 1, 7],
  ['.word -32769', 'does not fit in .word', 1, 7],
  ['.dword 0x100000000', 'does not fit in .dword', 1, 8],
  ['.qword "x"', '.qword does not take strings', 1, 8],
  ['.ascii 5', '.ascii expects quoted strings', 1, 8],
  ['mov rax, 1/0', 'division by zero', 1, 10],
  ['mov rax, 1 % 0', 'division by zero', 1, 10],
  ['mov rax, 1 << 64', 'shift count 64 is out of range 0..63', 1, 15],
  ['mov rax, (1', "expected ')'", 1, 12],
  ['mov rax, 5 5', "unexpected '5'", 1, 12],
  ['mov rax, "s"', 'string cannot be used in an expression', 1, 10],
  ['mov rax, rbx + 1', "register 'rbx' cannot be used in an expression", 1, 10],
  ['.if 1\nnop', 'unterminated .if', 1, 1],
  ['.endif', '.endif without .if', 1, 1],
  ['.if 1\n.else\n.else\n.endif', '.else after .else', 3, 1],
  ['.ifdef 1\n.endif', '.ifdef needs a symbol name', 1, 8],
  ['.error "boom"', 'boom', 1, 1],
  ['ret rax', "'ret' does not take operands of the form r", 1, 5],
  ['nop nop', "'nop' does not take operands", 1, 5],
  ['mov', "'mov' needs operands", 1, 1],
  ['mov rax, 1, 2', 'too many operands', 1, 13],
  ['label: mov rax,', 'missing operand', 1, 16],
  ['rax: nop', "'rax' is a register name", 1, 1],
  ['.equ rax, 1', "'rax' is a register name", 1, 6],
  ['A = 1\nA = 2', "'A' is already defined", 2, 1],
  ['.equ X', '.equ expects NAME, expression', 1, 1],
  ['\\x', "unexpected '\\'", 1, 1],
  ['mov rax, 0x_', "bad number '0x_'", 1, 10],
  ['mov rax, 12ab', "bad number '12ab'", 1, 10],
  ['mov rax, 0x1_0000_0000_0000_0000', 'does not fit in 64 bits', 1, 10],
  ['mov rax, `', "unexpected character '`'", 1, 10],
  ['jmp 0x100000000000', 'out of rel32 range', 1, 5],
  ['xchg rax, 5', "'xchg' does not take operands of the form r,imm", 1, 6],
  ['.entry 1\n.entry 2', 'entry point is already set', 2, 1],
  ['.org a + 1\na:', 'did not settle', 1, 1],
  ['5', 'expected an instruction, directive or label', 1, 1],
  ['mov byte rax, 1', 'size keyword must be followed by a memory operand', 1, 10],
  ['mov rax, [rbx', "missing ']'", 1, 10],
  [`mov rax, ${'('.repeat(100)}1${')'.repeat(100)}`, 'nested too deeply', 1, 74],
];

describe('assembler diagnostics', () => {
  for (const [src, fragment, line, column] of BAD) {
    it(`${JSON.stringify(src.length > 40 ? src.slice(0, 40) + '…' : src)} → ${fragment}`, () => {
      const r = assembleText(src);
      assert.equal(r.ok, false);
      const d = r.diagnostics.find((x) => x.message.includes(fragment));
      assert.ok(d, `no diagnostic containing '${fragment}' in ${JSON.stringify(r.diagnostics)}`);
      assert.equal(d.severity, 'error');
      assert.equal(d.file, 'main.s');
      assert.deepEqual([d.line, d.column], [line, column], d.message);
      if (d.endColumn !== undefined) assert.ok(d.endColumn > d.column);
    });
  }

  it('a warning does not make the result fail', () => {
    const r = assembleText('.warning "careful"\nnop');
    assert.equal(r.ok, true);
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.message, d.line]), [['warning', 'careful', 1]]);
  });

  it('reports one error per bad line and keeps assembling the others', () => {
    const r = assembleText('mov rax, ebx\nnop\nfoo\nhlt\nmov al, 999');
    assert.deepEqual(r.diagnostics.map((d) => d.line), [1, 3, 5]);
    assert.equal(r.sourceMap.filter((e) => e.kind === 'insn').length, 2);
  });

  it('labels before a bad token still exist (no cascade of undefined symbols)', () => {
    const r = assembleText('start: mov rax, `\njmp start');
    assert.deepEqual(r.diagnostics.map((d) => d.line), [1]);
  });

  it('problems inside a macro body point at the invocation and name the macro', () => {
    const r = assembleText('.macro bad\n  mov al, 1000\n.endm\n\n    bad');
    assert.equal(r.diagnostics.length, 1);
    const d = r.diagnostics[0];
    assert.deepEqual([d.file, d.line, d.column], ['main.s', 5, 5]);
    assert.match(d.message, /out of range .* \(in macro 'bad'\)$/);
  });

  it('problems in an included file point into that file', () => {
    const files = memoryFiles({ 'dir/main.s': 'nop\n.include "lib.s"\n', 'dir/lib.s': 'nop\n  foo\n' });
    const r = assemble('dir/main.s', files);
    assert.deepEqual(r.diagnostics.map((d) => [d.file, d.line, d.column]), [['dir/lib.s', 2, 3]]);
  });

  it('an include cycle is reported at the .include that closes it', () => {
    const files = memoryFiles({ 'a.s': '.include "b.s"\n', 'b.s': 'nop\n.include "a.s"\n' });
    const r = assemble('a.s', files);
    assert.equal(r.diagnostics.length, 1);
    assert.deepEqual([r.diagnostics[0].file, r.diagnostics[0].line, r.diagnostics[0].column], ['b.s', 2, 10]);
    assert.match(r.diagnostics[0].message, /include cycle: a\.s -> b\.s -> a\.s/);
  });

  it('a missing main file is a diagnostic, not an exception', () => {
    const r = assemble('missing.s', memoryFiles({}));
    assert.equal(r.ok, false);
    assert.match(r.diagnostics[0].message, /cannot read file 'missing.s'/);
  });

  it('a FileProvider that throws becomes an internal error diagnostic', () => {
    const r = assemble('x.s', { read: () => { throw new Error('disk on fire'); }, resolve: (_f, i) => i });
    assert.equal(r.ok, false);
    assert.match(r.diagnostics[0].message, /internal assembler error: disk on fire/);
  });

  it('a macro that doubles itself stops at the depth limit with one error', () => {
    const r = assembleText('.macro twice\n twice\n twice\n.endm\n twice');
    assert.equal(r.ok, false);
    assert.ok(r.diagnostics.length < 100);
  });
});
