// Behaviours a review against the SDM found wrong once; each case pins the architectural rule.
import { strict as assert } from 'node:assert';
import { assembleOk, startAsm } from '../../support/runAsm';
import { startProgram } from '../../../src/engine/runner';
import type { Vm } from '../../../src/engine/vm';

/**
 * 4-level long mode with 0–2 MiB identity-mapped by one 2 MiB page at PML4[0] and PML4[256]
 * (so 0xffff8000_00000000 aliases 0), and an IDT whose handler for vector v sets r15 = v,
 * r14 = error code (or -1), r13 = saved rip, r12 = cr2, then halts.
 */
function longMode(body: string, cr4 = 0x20, la57 = false): string {
  const withErr = [8, 10, 11, 12, 13, 14, 17];
  let gates = '';
  let handlers = '';
  for (let v = 0; v < 33; v++) {
    gates += `  mov rax, h${v}\n  mov word [0x3000 + ${v}*16], ax\n  mov word [0x3000 + ${v}*16 + 2], 8\n  mov byte [0x3000 + ${v}*16 + 5], 0x8e\n  shr rax, 16\n  mov word [0x3000 + ${v}*16 + 6], ax\n`;
    handlers += withErr.includes(v)
      ? `h${v}:\n  mov r10, [rsp + 32]\n  mov r15, ${v}\n  pop r14\n  pop r13\n  mov r12, cr2\n  cli\n  hlt\n`
      : `h${v}:\n  mov r10, [rsp + 24]\n  mov r15, ${v}\n  mov r14, -1\n  pop r13\n  mov r12, cr2\n  cli\n  hlt\n`;
  }
  return `
.org 0x8000
_start:
  mov rsp, 0x7000
${gates}
  mov word [0x2000], 0x0fff
  mov qword [0x2002], 0x3000
  lidt [0x2000]
  mov qword [0x11000], 0x12007
  mov qword [0x11000 + 256*8], 0x12007
  mov qword [0x12000], 0x13007
  mov qword [0x13000], 0x87
  mov qword [0x10000], 0x11007        ; PML5 (used with LA57): [0] and [256] → the PML4
  mov qword [0x10000 + 256*8], 0x11007
  mov eax, ${la57 ? cr4 | 0x1000 : cr4}
  mov cr4, rax
  mov eax, ${la57 ? '0x10000' : '0x11000'}
  mov cr3, rax
  mov ecx, 0xc0000080
  rdmsr
  or eax, 0x900
  wrmsr
  mov eax, 0x80000011
  mov cr0, rax
  mov r15, -1
${body}
  cli
  hlt
${handlers}
`;
}

function run(src: string, options = {}): Vm & { labels: Map<string, number> } {
  const program = assembleOk(src);
  const { vm } = startProgram(program, options);
  vm.run(2_000_000);
  return Object.assign(vm, { labels: program.labels });
}

const reg = (vm: Vm, i: number): bigint => vm.vcpus[0].getReg(i);
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);

describe('SDM regressions', () => {
  it('a call to a non-canonical target faults on the call: #GP(0), rip of the call, nothing pushed', () => {
    const vm = run(longMode(`
  mov rbx, 0x800000000000
the_call:
  call rbx`));
    assert.equal(signed(reg(vm, 15)), 13n);
    assert.equal(reg(vm, 14), 0n);
    assert.equal(reg(vm, 13), BigInt(vm.labels.get('the_call')!), 'saved rip is the call');
    assert.equal(reg(vm, 10), 0x7000n, 'rsp as before the call');
  });

  it('ret to a non-canonical address faults on the ret with rsp as it was', () => {
    const vm = run(longMode(`
  mov rbx, 0x800000000000
  push rbx
the_ret:
  ret`));
    assert.equal(signed(reg(vm, 15)), 13n);
    assert.equal(reg(vm, 13), BigInt(vm.labels.get('the_ret')!));
    assert.equal(reg(vm, 10), 0x7000n - 8n);
  });

  it('a data access crossing out of the lower canonical half is #GP(0), not a wrap into the upper half', () => {
    // A 1 GiB page at the top of the lower half (PML4[255] → PDPT[511]) makes the first bytes valid.
    const vm = run(longMode(`
  mov qword [0x11000 + 255*8], 0x14007
  mov qword [0x14000 + 511*8], 0x87
  mov rbx, 0x7ffffffffffc
  mov eax, [rbx]             ; within the page: fine
  mov r9, 1
  mov rax, [rbx]             ; 4 bytes past 0x7fffffffffff`));
    assert.equal(reg(vm, 9), 1n);
    assert.equal(signed(reg(vm, 15)), 13n);
    assert.equal(reg(vm, 14), 0n);
  });

  it('INVPCID with its descriptor in the higher half does not #GP', () => {
    const vm = run(longMode(`
  mov rbx, 0xffff800000005000
  mov qword [0x5000], 0
  mov qword [0x5008], 0
  mov eax, 2
  invpcid rax, [rbx]
  mov r11, 77`));
    assert.equal(signed(reg(vm, 15)), -1n, `vector ${signed(reg(vm, 15))}`);
    assert.equal(reg(vm, 11), 77n);
  });

  it('MOV CR3 with bit 63 set and CR4.PCIDE=0 is #GP(0)', () => {
    const vm = run(longMode(`
  mov rax, 0x8000000000011000
  mov cr3, rax`));
    assert.equal(signed(reg(vm, 15)), 13n);
    assert.equal(reg(vm, 14), 0n);
  });

  it('clearing CR0.PG in 64-bit mode is #GP(0)', () => {
    const vm = run(longMode(`
  mov eax, 0x11
  mov cr0, rax`));
    assert.equal(signed(reg(vm, 15)), 13n);
  });

  it('popfq stores only the RFLAGS bits that exist (and IOPL stays 0)', () => {
    const vm = run(longMode(`
  mov rax, -1
  and rax, ~0x100            ; leave TF alone (single-step traps are not modelled)
  push rax
  popfq
  pushfq
  pop rbx
  cli`));
    const expected = (0xffffffffn & ~0x100n & 0x3f7fd7n & ~0x3000n & ~0x30000n) | 2n;
    assert.equal(reg(vm, 3), expected);
  });

  it('the STI shadow holds even when the timer is already due', () => {
    const vm = run(longMode(`
  mov ecx, 0x40000101
  mov eax, 1
  xor edx, edx
  wrmsr                       ; a tick every instruction
  xor rbx, rbx
  sti
  mov rbx, 1                  ; runs before the interrupt
  nop`));
    assert.equal(signed(reg(vm, 15)), 32n);
    assert.equal(reg(vm, 3), 1n);
  });

  it('hlt waits for a timer period longer than a scheduling slice', () => {
    const vm = run(longMode(`
  mov ecx, 0x40000101
  mov eax, 5000
  xor edx, edx
  wrmsr
  sti
  hlt`));
    assert.equal(signed(reg(vm, 15)), 32n);
  });

  it('5-level paging: low addresses translate; ones the simulator cannot represent exactly stop the VM with the reason', () => {
    const ok = run(longMode(`
  mov qword [0x5000], 0x1234
  mov rax, [0x5000]
  mov r9, rax`, 0x20, true));
    assert.equal(reg(ok, 9), 0x1234n);
    assert.equal(signed(reg(ok, 15)), -1n);
    const high = run(longMode(`
  mov rbx, 0xff00000000005000
  mov rax, [rbx]`, 0x20, true));
    const cpu = high.vcpus[0];
    assert.equal(cpu.state, 'stopped');
    assert.match(cpu.stopReason, /beyond what this simulator represents exactly/);
  });

  it('EIP wraps at 4 GiB outside long mode', () => {
    const { vm } = startAsm(`
.org 0xfffffffe
  nop
.org 0x0
  mov rbx, 0x77
  cli
  hlt
.org 0x1000
_start:
  mov eax, 0xfffffffe
  jmp rax
`, { memoryBytes: 2 ** 32 });
    vm.run(100);
    assert.equal(vm.vcpus[0].getReg(3), 0x77n);
    assert.match(vm.vcpus[0].stopReason, /hlt/);
  });
});
