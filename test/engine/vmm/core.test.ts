// The hypervisor core: VM exits every mode shares, and the machine's scheduling.
import { strict as assert } from 'node:assert';
import { assembleOk, runAsm, IDT_PROLOGUE, PAGING32_MACROS } from '../../support/runAsm';
import { Machine } from '../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../src/engine/vmm/virtualVm';
import { ExitReason } from '../../../src/engine/vmm/exitReasons';
import { availableModes } from '../../../src/engine/vmm/modes';
import type { MemoryMode } from '../../../src/engine/vm';

const VMCALL = `${IDT_PROLOGUE}
.org 0x1000
_start:
    mov rsp, 0x9000
    gate 6, ud_handler, 0x8e
    lidt [idtr]
    mov rax, 0x1234
    vmcall
    mov al, 'N'
    out 0xe9, al
    hlt
ud_handler:
    mov al, 'U'
    out 0xe9, al
    hlt
.align 8
idtr:
    .word 256*16 - 1
    .qword IDT
`;

const exactModes = (): MemoryMode[] => availableModes().filter((m) => m !== 'paravirt') as MemoryMode[];

describe('hypervisor core', () => {
  it('VMCALL without a hypercall interface is #UD, as natively, in every mode', () => {
    for (const mode of exactModes()) {
      const s = runAsm(VMCALL, { mode });
      assert.equal(s.console, 'U', `${mode}: ${s.console}`);
      if (mode !== 'native') assert.equal(s.exits.byReason['18 VMCALL'], 1, mode);
    }
  });

  it('a debugger stepping one instruction at a time does not end a VM\'s quantum', () => {
    const loop = assembleOk(`
.org 0x1000
_start:
    mov rcx, 100000
.l: dec rcx
    jnz .l
    hlt
`);
    const machine = new Machine({ memoryBytes: 64 * 2 ** 20, quantum: 1000 });
    const a = createVirtualVm(machine, 'nested', { memoryBytes: 16 * 2 ** 20 });
    const b = createVirtualVm(machine, 'nested', { memoryBytes: 16 * 2 ** 20 });
    for (const v of [a, b]) v.vm.load(loop.segments, loop.entry ?? 0x1000);
    for (let i = 0; i < 20_000; i++) machine.run(1);
    const ext = (v: typeof a): number => v.monitor.exitCounts.get(ExitReason.EXTERNAL_INTERRUPT) ?? 0;
    // 20,000 instructions in quanta of 1,000: 10 turns each, each ended by the host timer.
    assert.equal(ext(a), 10);
    assert.equal(ext(b), 10);
    assert.equal(a.vm.icount, 10_000);
    assert.equal(b.vm.icount, 10_000);
  });

  it('INVPCID exits (shadow: INVLPG exiting) before its descriptor is read, with the displacement as qualification', () => {
    if (!availableModes().includes('shadow')) return;
    const s = runAsm(`${IDT_PROLOGUE}${PAGING32_MACROS}
.org 0x1000
_start:
    mov rsp, 0x9000
    gate 14, pf_handler, 0x8e
    lidt [idtr]
    identity_map32                        ; 32-bit paging, identity 0–4 MiB except 0x200000
    mov dword [0x11000 + 0x200*4], 0
    enable_paging32
    mov rbx, 0x200000
    mov eax, 2
    invpcid rax, [rbx + 0x10]             ; the descriptor is on a not-present page
    hlt
pf_handler:
    mov al, 'P'
    out 0xe9, al
    hlt
.align 8
idtr:
    .word 256*16 - 1
    .qword IDT
`, { mode: 'shadow' });
    assert.equal(s.console, 'P');
    assert.equal(s.exits.byReason['58 INVPCID'], 1);
  });
});
