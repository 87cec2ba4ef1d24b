import * as assert from 'node:assert/strict';
import { lineOperands } from '../../../src/extension/ux/inline/lineOperands';
import { routineStart } from '../../../src/extension/ux/inline/frameLines';
import { memoryOperandText, translationChain, translationRemarks } from '../../../src/extension/ux/inline/translationText';
import type { TranslationWire } from '../../../src/debugAdapter/viewsProtocol';

describe('ux: operands of a line', () => {
  const cases: [string, string[], [string, string, string][]][] = [
    // line, registers, [operand text, address expression, access]
    ['    mov rax, [rbx+8]', ['rax', 'rbx'], [['[rbx+8]', 'rbx+8', 'read']]],
    ['    mov qword [rsi + rcx*8 + 16], rdx ; store', ['rsi', 'rcx', 'rdx'], [['qword [rsi + rcx*8 + 16]', 'rsi + rcx*8 + 16', 'write']]],
    ['loop: add rax, [rsi]', ['rax', 'rsi'], [['[rsi]', 'rsi', 'read']]],
    ['    cmp byte ptr [rdi], 0', ['rdi'], [['byte ptr [rdi]', 'rdi', 'read']]],
    ['    mov [counter], eax', ['eax'], [['[counter]', 'counter', 'write']]],
    ['    invlpg [rdi]', ['rdi'], [['[rdi]', 'rdi', 'none']]],
    ['    lea rax, [rbx + msg]', ['rax', 'rbx'], [['[rbx + msg]', 'rbx + msg', 'none']]],
    ['    mov cr3, rax', ['rax'], []],
    ['    inc qword [rbx]', ['rbx'], [['qword [rbx]', 'rbx', 'write']]],
    ['    pop qword [rbx]', ['rbx'], [['qword [rbx]', 'rbx', 'write']]],
    ['    push qword [rbx]', ['rbx'], [['qword [rbx]', 'rbx', 'read']]],
    ['    ret', [], []],
  ];
  for (const [line, regs, mems] of cases) {
    it(line.trim(), () => {
      const ops = lineOperands(line);
      assert.ok(ops);
      assert.deepEqual(ops.registers.map((r) => r.name), regs);
      assert.deepEqual(ops.memory.map((m) => [m.text, m.address, m.access]), mems);
      for (const m of ops.memory) assert.equal(line.slice(m.start, m.end), m.text);
      for (const r of ops.registers) assert.equal(line.slice(r.start, r.end).toLowerCase(), r.name);
    });
  }
  for (const line of ['; just a comment', '.equ X, 4', 'label:', '    .qword 0x1000', '   mov rax, [rbx', '']) {
    it(`no instruction: ${JSON.stringify(line)}`, () => {
      const ops = lineOperands(line);
      assert.ok(ops === undefined || (ops.memory.length === 0 && ops.registers.length === 0));
    });
  }
});

describe('ux: the routine around the stopped line', () => {
  const lines = ['start:', '    mov rax, 1', '.loop:', '    add rax, 1', '    jmp .loop', 'other:', '    mov rbx, [rax]', '    hlt'];
  const at = (l: number): string => lines[l];
  const cases: [number, number][] = [[4, 0], [3, 0], [6, 5], [7, 5], [0, 0]];
  for (const [stopped, want] of cases) it(`stopped at ${stopped} → ${want}`, () => assert.equal(routineStart(at, stopped), want));
  it('never more than 40 lines up', () => assert.equal(routineStart(() => '    nop', 100), 60));
});

describe('ux: translation text', () => {
  // The fields the text reads, as the adapter sent them for gva 0x400000 (shadow: stopped at a
  // hidden fault; nested: before the VMM backed the page).
  const guest = { linear: '0x400000', mode: '4level', access: 'read', user: false, levels: [], memoryReferences: 4, entryReads: 4, adWrites: 0, ok: true } as unknown as TranslationWire['guest'];
  const shadow: TranslationWire = {
    vmId: 1, vcpu: 0, mode: 'shadow', pagingMode: '4level', gva: '0x400000', linear: 0x400000, access: 'read', guest, ok: true, gpa: 0x800000, mpa: 0x5000,
    noMemory: false, reason: null, twoD: null, ept: null, tlb: null,
    shadow: { walk: null, expectedMpa: 0x5000, agrees: true, note: 'no shadow entry yet: the next access takes a hidden fault and fills it' },
  };
  const nested: TranslationWire = { ...shadow, mode: 'nested', gpa: 0x400000, mpa: null, shadow: null };
  const native: TranslationWire = { ...shadow, mode: 'native', gpa: 0x2008, mpa: 0x2008, shadow: null, gva: '0x401008', linear: 0x401008 };
  const tlbEntry = (frame: number, linearBase: number): NonNullable<TranslationWire['tlb']> => ({
    slot: 0, set: 0, way: 0, large: false, vpn: linearBase / 4096, linearBase, pcid: 0, vpid: 0, frame, pageSize: 4096,
    rights: { write: true, user: true, execute: true }, global: false, dirty: false, lastUse: 1,
  });

  const cases: [string, TranslationWire, string][] = [
    ['shadow: gva → gpa → mpa', shadow, '[rbx] = gva 0x400000 → gpa 0x800000 → mpa 0x5000'],
    ['nested, EPT entry not filled yet', nested, '[rbx] = gva 0x400000 → gpa 0x400000 → mpa: not backed yet'],
    ['native: no mpa column', native, '[rbx] = gva 0x401008 → gpa 0x2008'],
    ['native, TLB agrees', { ...native, tlb: tlbEntry(0x2000, 0x401000) }, '[rbx] = gva 0x401008 → gpa 0x2008 · TLB hit'],
    ['native, stale TLB (the sloppy guest)', { ...native, tlb: tlbEntry(0x7000, 0x401000) }, '[rbx] = gva 0x401008 → gpa 0x2008 · ⚠ stale TLB entry → 0x7008'],
    ['not mapped, stale TLB still serves it', { ...native, ok: false, gpa: null, mpa: null, reason: 'not present (PTE)', tlb: tlbEntry(0x7000, 0x401000) }, '[rbx] = gva 0x401008 → ✗ not present (PTE) · ⚠ stale TLB entry → 0x7008'],
    ['shadow disagrees (unsync)', { ...shadow, shadow: { ...shadow.shadow!, agrees: false, note: 'stale: shadow maps mpa 0x9000' } }, '[rbx] = gva 0x400000 → gpa 0x800000 → mpa 0x5000 · ⚠ shadow: stale: shadow maps mpa 0x9000'],
  ];
  for (const [what, t, want] of cases) it(what, () => assert.equal(memoryOperandText('[rbx]', t), want));
  it('chain and remarks are separable', () => {
    assert.equal(translationChain(native), 'gva 0x401008 → gpa 0x2008');
    assert.deepEqual(translationRemarks(native), []);
  });
});
