// The TextMate grammar, run by the engines VS Code uses: a table of lines → scopes, and a
// check that every mnemonic, register, directive and size keyword of the engine is in it.
import * as assert from 'node:assert/strict';
import { MNEMONICS } from '../../../src/engine/isa/opcodes';
import { CONTROL_REGS, REG16, REG32, REG64, REG8 } from '../../../src/engine/isa/registers';
import { DIRECTIVES } from '../../../src/engine/isa/assembler/statement';
import { SIZE_KEYWORDS } from '../../../src/engine/isa/assembler/operands';
import { assembleText } from '../../../src/engine/isa/assembler';
import { generatedContents } from '../../../src/extension/language/gen/main';
import { ALL_DIRECTIVES } from '../../../src/extension/language/vocabulary';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, ScopedToken, tokenizeLine } from './fixtures';

/** The innermost scope of `text` on `line` (the `nth` occurrence of that token text). */
async function scopeOf(line: string, text: string, nth = 0): Promise<string[]> {
  const toks = (await tokenizeLine(line)).filter((t: ScopedToken) => t.text === text);
  assert.ok(toks[nth], `no token '${text}' in ${JSON.stringify(line)}: ${JSON.stringify(await tokenizeLine(line))}`);
  return toks[nth].scopes;
}

const CASES: [line: string, token: string, scope: string, nth?: number][] = [
  ['main:   xor ecx, ecx   ; zero', 'main', 'entity.name.function.label.vmasm'],
  ['main:   xor ecx, ecx   ; zero', 'xor', 'keyword.mnemonic.vmasm'],
  ['main:   xor ecx, ecx   ; zero', 'ecx', 'variable.language.register.gpr32.vmasm'],
  ['main:   xor ecx, ecx   ; zero', '; zero', 'comment.line.semicolon.vmasm'],
  ['    nop # hash comment', '# hash comment', 'comment.line.number-sign.vmasm'],
  ['.loop:  inc rcx', '.loop', 'entity.name.function.label.local.vmasm'],
  ['        jne .loop', 'jne', 'keyword.control.flow.vmasm'],
  ['        jne .loop', '.loop', 'entity.name.function.label.reference.local.vmasm'],
  ['        call print', 'print', 'entity.name.function.label.reference.vmasm'],
  ['        jmp main.loop', 'main.loop', 'entity.name.function.label.reference.vmasm'],
  ['a: b: nop', 'b', 'entity.name.function.label.vmasm'],
  ['a: b: nop', 'nop', 'keyword.mnemonic.vmasm'],
  ['    mov rax, [table + rcx*8]', '[', 'punctuation.definition.memory.begin.vmasm'],
  ['    mov rax, [table + rcx*8]', 'table', 'variable.other.label.vmasm'],
  ['    mov rax, [table + rcx*8]', 'rcx', 'meta.memory-operand.vmasm'],
  ['    mov rax, [table + rcx*8]', '+', 'keyword.operator.arithmetic.vmasm'],
  ['    mov qword ptr [rbp - 8], 0x1f', 'qword', 'storage.type.size.vmasm'],
  ['    mov qword ptr [rbp - 8], 0x1f', 'ptr', 'storage.modifier.ptr.vmasm'],
  ['    mov qword ptr [rbp - 8], 0x1f', '0x1f', 'constant.numeric.hex.vmasm'],
  ['    mov byte [rdi], 0', 'byte', 'storage.type.size.vmasm'],
  ['    mov r8b, r15w', 'r8b', 'variable.language.register.gpr8.vmasm'],
  ['    mov r8b, r15w', 'r15w', 'variable.language.register.gpr16.vmasm'],
  ['    MOV RAX, CR3', 'MOV', 'keyword.mnemonic.vmasm'],
  ['    MOV RAX, CR3', 'RAX', 'variable.language.register.gpr64.vmasm'],
  ['    MOV RAX, CR3', 'CR3', 'variable.language.register.control.vmasm'],
  ['    mov cr8, rax', 'cr8', 'invalid.illegal.register.vmasm'],
  ['    mov cr0, rax', 'cr0', 'variable.language.register.control.vmasm'],
  ['    invlpg [rdi]', 'invlpg', 'keyword.mnemonic.system.vmasm'],
  ['    vmcall', 'vmcall', 'keyword.mnemonic.system.vmasm'],
  ['    iretq', 'iretq', 'keyword.control.flow.vmasm'],
  ['    int 0x80', 'int', 'keyword.control.flow.vmasm'],
  ['.equ PTE_P, 0x1 ; present', '.equ', 'keyword.other.directive.symbol.vmasm'],
  ['.equ PTE_P, 0x1 ; present', 'PTE_P', 'entity.name.constant.vmasm'],
  ['.set X, 1', 'X', 'entity.name.constant.vmasm'],
  ['X = 0b1010 << 2', 'X', 'entity.name.constant.vmasm'],
  ['X = 0b1010 << 2', '=', 'keyword.operator.assignment.vmasm'],
  ['X = 0b1010 << 2', '0b1010', 'constant.numeric.binary.vmasm'],
  ['X = 0b1010 << 2', '<<', 'keyword.operator.bitwise.shift.vmasm'],
  ['X = 0o17 + 1_000', '0o17', 'constant.numeric.octal.vmasm'],
  ['X = 0o17 + 1_000', '1_000', 'constant.numeric.decimal.vmasm'],
  ['    mov eax, 0xffff_f000', '0xffff_f000', 'constant.numeric.hex.vmasm'],
  ['    mov eax, 12abc', '12abc', 'invalid.illegal.number.vmasm'],
  ["    mov al, '*'", '*', 'constant.character.vmasm'],
  ["    mov al, '\\x41'", '\\x41', 'constant.character.escape.vmasm'],
  ['    .asciz "hi\\n"', '.asciz', 'keyword.other.directive.data.vmasm'],
  ['    .asciz "hi\\n"', 'hi', 'string.quoted.double.vmasm'],
  ['    .asciz "hi\\n"', '\\n', 'constant.character.escape.vmasm'],
  ['    .ascii "a\\q"', '\\q', 'invalid.illegal.escape.vmasm'],
  ['    .ascii "a;b"', 'a;b', 'string.quoted.double.vmasm'],
  ['.if PAGING != 32 && PAGING != 64', '.if', 'keyword.control.directive.conditional.vmasm'],
  ['.if PAGING != 32 && PAGING != 64', 'PAGING', 'variable.other.constant.vmasm'],
  ['.if PAGING != 32 && PAGING != 64', '!=', 'keyword.operator.comparison.vmasm'],
  ['.if PAGING != 32 && PAGING != 64', '&&', 'keyword.operator.logical.vmasm'],
  ['.endif', '.endif', 'keyword.control.directive.conditional.vmasm'],
  ['.org KERNEL_BASE', '.org', 'keyword.other.directive.location.vmasm'],
  ['.include "kernel/kernel.s"', '.include', 'keyword.control.directive.include.vmasm'],
  ['.include "kernel/kernel.s"', 'kernel/kernel.s', 'string.quoted.double.include.vmasm'],
  ['.macro spin reg, count', '.macro', 'keyword.control.directive.macro.vmasm'],
  ['.macro spin reg, count', 'spin', 'entity.name.function.macro.vmasm'],
  ['.macro spin reg, count', 'count', 'variable.parameter.macro.definition.vmasm'],
  ['.endm', '.endm', 'keyword.control.directive.macro.vmasm'],
  ['.l\\@:   dec \\reg', '\\@', 'variable.parameter.macro.vmasm'],
  ['.l\\@:   dec \\reg', '.l', 'entity.name.function.label.local.vmasm'],
  ['.l\\@:   dec \\reg', '\\reg', 'variable.parameter.macro.vmasm'],
  ['trap_\\vec:', '\\vec', 'entity.name.function.label.vmasm'],
  ['    KPRINT msg_exit', 'KPRINT', 'entity.name.function.macro.call.vmasm'],
  ['    KPRINT msg_exit', 'msg_exit', 'variable.other.label.vmasm'],
  ['    jmp $', '$', 'variable.language.location-counter.vmasm'],
  ['.bogus 1', '.bogus', 'invalid.illegal.directive.vmasm'],
  ['.error "PAGING must be 32 or 64"', '.error', 'keyword.control.directive.diagnostic.vmasm'],
  ['    mov eax, (VALUE) & 0xffffffff', '(', 'punctuation.section.parens.begin.vmasm'],
  ['    mov eax, (VALUE) & 0xffffffff', '&', 'keyword.operator.bitwise.vmasm'],
];

describe('language: TextMate grammar (vscode-textmate + oniguruma)', () => {
  it('is the generator output (npm: node scripts/genGrammar.mjs) and so are the instruction docs', () => {
    for (const [path, text] of Object.entries(generatedContents(REPO))) {
      assert.equal(readFileSync(join(REPO, path), 'utf8'), text, `${path} is stale: run node scripts/genGrammar.mjs`);
    }
  });

  for (const [line, token, scope, nth] of CASES) {
    it(`${JSON.stringify(line)}: ${token} → ${scope}`, async () => {
      const scopes = await scopeOf(line, token, nth);
      assert.ok(scopes.includes(scope), `got ${scopes.join(' ')}`);
    });
  }

  it('scopes every mnemonic of the engine (aliases and movabs included) as an instruction', async () => {
    const missing: string[] = [];
    for (const m of [...MNEMONICS.keys(), 'movabs']) {
      const scopes = await scopeOf(`    ${m} rax`, m);
      if (!scopes.some((s) => /^keyword\.(mnemonic|control\.flow)/.test(s))) missing.push(m);
      const upper = await scopeOf(`    ${m.toUpperCase()}`, m.toUpperCase());
      if (!upper.some((s) => /^keyword\./.test(s))) missing.push(m.toUpperCase());
    }
    assert.deepEqual(missing, []);
  });

  it('scopes every register and sub-register of the engine', async () => {
    const wrong: string[] = [];
    const tables: [readonly string[], string][] = [[REG64, 'gpr64'], [REG32, 'gpr32'], [REG16, 'gpr16'], [REG8, 'gpr8']];
    for (const [names, kind] of tables) {
      for (const r of names) if (!(await scopeOf(`    mov ${r}, 0`, r)).includes(`variable.language.register.${kind}.vmasm`)) wrong.push(r);
    }
    for (const n of CONTROL_REGS) if (!(await scopeOf(`    mov cr${n}, rax`, `cr${n}`)).includes('variable.language.register.control.vmasm')) wrong.push(`cr${n}`);
    assert.deepEqual(wrong, []);
  });

  it('scopes every directive the assembler accepts, and the assembler accepts every directive it scopes', async () => {
    const all = new Set([...Object.keys(DIRECTIVES), '.equ', '.set', '.include', '.macro', '.endm']);
    assert.deepEqual([...ALL_DIRECTIVES].sort(), [...all].sort());
    const wrong: string[] = [];
    for (const d of all) if (!(await scopeOf(`    ${d} `, d)).some((s) => /^keyword\.(other|control)\.directive\./.test(s))) wrong.push(d);
    assert.deepEqual(wrong, []);
    // A directive that is not in the table is an error for the assembler and in the grammar.
    assert.match(assembleText('.bogus 1').diagnostics[0].message, /unknown directive/);
  });

  it('scopes every size keyword', async () => {
    for (const k of Object.keys(SIZE_KEYWORDS)) assert.ok((await scopeOf(`    inc ${k} [rax]`, k)).includes('storage.type.size.vmasm'), k);
  });

  it('tokenizes every example without an invalid scope', async () => {
    const { readdirSync } = await import('node:fs');
    const files = [...readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.s')).map((f) => `examples/${f}`), ...readdirSync(join(REPO, 'examples/kernel')).map((f) => `examples/kernel/${f}`)];
    const bad: string[] = [];
    for (const f of files) {
      const lines = readFileSync(join(REPO, f), 'utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        for (const t of await tokenizeLine(line)) if (t.scopes.some((s) => s.startsWith('invalid.'))) bad.push(`${f}:${i + 1}: ${t.text}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
