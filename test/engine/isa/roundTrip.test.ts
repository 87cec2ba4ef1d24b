import { strict as assert } from 'node:assert';
import { decode, encode } from '../../../src/engine/isa/encoding';
import { disassembleBytes, formatInsn } from '../../../src/engine/isa/disassemble';
import { Form, OP_INFO } from '../../../src/engine/isa/opcodes';
import { assembleText } from '../../../src/engine/isa/assembler';
import { Insn } from '../../../src/engine/isa/instruction';
import { generateCases, only64 } from './insnCases';

/** Where REL cases are placed, so that every rel32 (±2 GiB) lands on a non-negative target. */
const REL_BASE = 0x80000000;

const cases = generateCases();

function fields(i: Insn): Record<string, number> {
  // `orig` belongs to the debugger's breakpoint pseudo-instruction, not to an encoding.
  const { orig, ...encoded } = i;
  assert.equal(orig, null);
  return encoded;
}

function assembledBytes(text: string, at: number): number[] {
  const r = assembleText(`.org ${at}\n${text}\n`);
  assert.deepEqual(r.diagnostics, [], `diagnostics for '${text}'`);
  assert.equal(r.segments.length, 1);
  return Array.from(r.segments[0].bytes);
}

describe('isa round trip (generated from OP_INFO)', () => {
  it('covers every opcode and every form/size pair it allows', () => {
    for (const [op, info] of OP_INFO) {
      for (const form of info.forms) {
        for (const size of info.sizes) {
          if (only64(form) && size !== 8) continue;
          assert.ok(cases.some((c) => c.insn.op === op && c.insn.form === form && c.insn.size === size), `${info.name} form ${form} size ${size}`);
        }
      }
    }
    assert.ok(cases.length > 2000, `only ${cases.length} cases`);
  });

  it('encode → decode gives back every field', () => {
    for (const c of cases) {
      const bytes = encode(c.insn);
      assert.equal(bytes.length, c.insn.length, c.name);
      const d = decode(Uint8Array.from(bytes), 0);
      assert.ok(typeof d !== 'string', `${c.name}: ${d}`);
      assert.deepEqual(fields(d as Insn), fields(c.insn), c.name);
    }
  });

  it('rejects 64-bit-only forms (imm64, control registers) at other operand sizes', () => {
    for (const form of [Form.RI64, Form.CR, Form.RC]) {
      for (const sizeCode of [0, 1, 2]) {
        const bytes = new Uint8Array(12);
        bytes[0] = 0x10; // mov
        bytes[1] = (form << 4) | (sizeCode << 2) | sizeCode;
        bytes[2] = 0;
        bytes[3] = 3; // cr3 / rbx
        assert.equal(decode(bytes, 0), 'invalid', `form ${form} size code ${sizeCode}`);
      }
    }
  });

  it('assemble(formatInsn(insn)) gives the same bytes as encode(insn)', () => {
    for (const c of cases) {
      const at = c.insn.form === Form.REL ? REL_BASE : 0x1000;
      const text = formatInsn(c.insn, at);
      assert.deepEqual(assembledBytes(text, at), encode(c.insn), `${c.name}: '${text}'`);
    }
  });

  it('assemble → disassemble → assemble reproduces the program bytes', () => {
    const src = `
      .org 0x4000
      _start: mov rax, 0x1122334455667788
        mov ecx, -1
        lea rsi, [rip_table + rax*8 - 16]
        add qword [rsi], 0x7fffffff
        shl byte [rdi + 3], cl
        movsx r9, word [rbx]
        movzx r10w, r11b
        xchg [rsp], rbp
        test al, 1
        push 0x1234
        pop qword [rsp + 8]
        jmp [rax + 8]
        call rdx
        .loop: dec r15
        jnz .loop
        jge _start
        mov cr4, r12
        mov r13, cr0
        in eax, 0x71
        out dx, ax
        int 0x80
        invpcid r8, [rdi]
        invlpg [0x200000]
        lidt [rip_table]
        iretq
      rip_table: mov byte [-8], 255
    `;
    const first = assembleText(src);
    assert.deepEqual(first.diagnostics, []);
    const seg = first.segments[0];
    const lines = disassembleBytes(seg.bytes, seg.address);
    assert.ok(lines.every((l) => l.valid));
    const again = assembleText(`.org ${seg.address}\n` + lines.map((l) => l.text).join('\n'));
    assert.deepEqual(again.diagnostics, []);
    assert.deepEqual(Array.from(again.segments[0].bytes), Array.from(seg.bytes));
  });
});
