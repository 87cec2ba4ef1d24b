// The hypercall ABI as a guest sees it (rax = number, rdi rsi rdx r10 = arguments, rax = 0 or
// −errno), the exits the mode takes (VMCALL, CR access), and that the audit notices corruption.
import { strict as assert } from 'node:assert';
import { runAsm, startAsm } from '../../../support/runAsm';
import type { EngineEvent } from '../../../../src/engine/events';
import { Errno } from '../../../../src/engine/vmm/paravirt/abi';
import { ent, pvVm } from './pvSupport';
import { PteBit } from '../../../../src/engine/vmm/paravirt/abi';

/** A guest with paging off: each `HC` stores its rax at RESULTS + 8*n. */
const PROLOGUE = `
.equ P2M, 0xc0000
.equ OPS, 0x5000
.equ DONE, 0x5f00
.equ RESULTS, 0x6000
.macro HC nr, args, count, n
    mov eax, \\nr
    mov edi, \\args
    mov esi, \\count
    mov edx, DONE
    mov r10d, 0x7ff0
    vmcall
    mov [RESULTS + 8 * \\n], rax
.endm
.org 0x1000
_start:
    mov rsp, 0x8000
`;

function results(src: string, n: number): { res: bigint[]; events: EngineEvent[]; exits: Record<string, number>; done: number } {
  const s = runAsm(PROLOGUE + src + '\n    mov al, 0\n    out 0xf4, al\n', { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
  assert.equal(s.exit.status, 0, s.exit.message);
  const { vm } = startAsm(PROLOGUE + src + '\n    mov al, 0\n    out 0xf4, al\n', { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
  vm.run(100_000);
  const res: bigint[] = [];
  for (let i = 0; i < n; i++) res.push(BigInt.asIntN(64, (BigInt(vm.mem.read32(0x6000 + 8 * i + 4) >>> 0) << 32n) | BigInt(vm.mem.read32(0x6000 + 8 * i) >>> 0)));
  return { res, events: s.events, exits: s.exits.byReason, done: vm.mem.read32(0x5f00) };
}

describe('paravirt hypercalls', () => {
  it('mmuext_op pin / pin again / unpin / unpin again; each call is one VMCALL exit', () => {
    const r = results(`
    mov rax, [P2M + 0x10 * 8]
    mov qword [OPS], 0          ; PIN_L1_TABLE
    mov [OPS + 8], rax
    HC 26, OPS, 1, 0
    HC 26, OPS, 1, 1
    mov qword [OPS], 4          ; UNPIN_TABLE
    HC 26, OPS, 1, 2
    HC 26, OPS, 1, 3
`, 4);
    assert.deepEqual(r.res, [0n, -BigInt(Errno.EINVAL), 0n, -BigInt(Errno.EINVAL)]);
    assert.equal(r.exits['18 VMCALL'], 4);
    const hc = r.events.filter((e) => e.kind === 'hypercall');
    assert.equal(hc.length, 4);
    assert.deepEqual(hc.map((e) => e.kind === 'hypercall' && e.name), ['mmuext_op', 'mmuext_op', 'mmuext_op', 'mmuext_op']);
    assert.ok(hc[1].kind === 'hypercall' && /already pinned/.test(hc[1].rejected ?? ''));
    assert.ok(hc[0].kind === 'hypercall' && hc[0].rejected === undefined && hc[0].result === 0n);
  });

  it('mmu_update: a batch stops at the first refused request and reports how many were done', () => {
    const r = results(`
    mov rax, [P2M + 0x10 * 8]
    mov rbx, rax
    mov qword [OPS], 0
    mov [OPS + 8], rax
    HC 26, OPS, 1, 0            ; pin guest page 0x10 as an L1
    shl rbx, 12                 ; its machine address
    mov rax, [P2M + 0x20 * 8]
    shl rax, 12
    or rax, 3                   ; P | RW: a data page
    mov [OPS + 0x100], rbx
    mov [OPS + 0x108], rax
    lea rcx, [rbx + 8]
    mov [OPS + 0x110], rcx
    mov rax, rbx
    or rax, 3                   ; the table itself, writable: refused
    mov [OPS + 0x118], rax
    lea rcx, [rbx + 16]
    mov [OPS + 0x120], rcx
    mov qword [OPS + 0x128], 0
    HC 1, OPS + 0x100, 3, 1
`, 2);
    assert.deepEqual(r.res, [0n, -BigInt(Errno.EBUSY)]);
    assert.equal(r.done, 1);
    const rej = r.events.find((e) => e.kind === 'hypercall' && e.rejected);
    assert.ok(rej && rej.kind === 'hypercall' && /^EBUSY: request 1 of 3/.test(rej.rejected ?? ''));
  });

  it('unknown numbers, foreign domains, user mode and unreadable arrays are refused', () => {
    const r = results(`
    HC 99, OPS, 1, 0
    mov eax, 26
    mov edi, OPS
    mov esi, 1
    xor edx, edx
    mov r10d, 1                 ; another domain
    vmcall
    mov [RESULTS + 8], rax
    mov qword [OPS], 0
    mov qword [OPS + 8], 0
    HC 26, OPS + 4, 1, 2        ; misaligned array
    HC 1, OPS, 5000, 3          ; too many requests
`, 4);
    assert.deepEqual(r.res, [-BigInt(Errno.ENOSYS), -BigInt(Errno.EPERM), -BigInt(Errno.EFAULT), -BigInt(Errno.EINVAL)]);
  });

  it('console_io writes to the console', () => {
    const s = runAsm(PROLOGUE + `
    mov eax, 18
    xor edi, edi
    mov esi, 3
    mov edx, msg
    vmcall
    mov al, 10
    out 0xe9, al
    mov al, 0
    out 0xf4, al
msg: .ascii "pv!"
`, { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
    assert.equal(s.console, 'pv!\n');
  });

  const GP_GUEST = (body: string): string => `
.org 0x1000
_start:
    mov rsp, 0x8000
    mov rax, gp
    mov [0x3000 + 13 * 16], ax
    mov word [0x3000 + 13 * 16 + 2], 8
    mov byte [0x3000 + 13 * 16 + 5], 0x8e
    shr rax, 16
    mov [0x3000 + 13 * 16 + 6], ax
    lidt [idtr]
${body}
    mov al, 'k'
    out 0xe9, al
    mov al, 0
    out 0xf4, al
gp:
    mov al, 'G'
    out 0xe9, al
    mov al, 13
    out 0xf4, al
.align 8
idtr: .word 4095
      .qword 0x3000
`;
  /**
   * Tables in guest pages 0x20–0x23 mapping guest pages 0–15 (code, IDT, stack, OPS) 1:1 with
   * machine frames from the p2m, written directly while they are not tables yet; then
   * NEW_BASEPTR of the L4 — never pinned: the hypervisor validates it on demand. A refusal
   * prints 'E'. Under native paging the same code just loads CR3 with a non-table frame.
   */
  const BASE = `
    mov rax, [0xc0000 + 0x21 * 8]
    shl rax, 12
    or rax, 3
    mov [0x20000], rax
    mov rax, [0xc0000 + 0x22 * 8]
    shl rax, 12
    or rax, 3
    mov [0x21000], rax
    mov rax, [0xc0000 + 0x23 * 8]
    shl rax, 12
    or rax, 3
    mov [0x22000], rax
    xor ecx, ecx
base_fill:
    mov rax, [0xc0000 + rcx * 8]
    shl rax, 12
    or rax, 3
    mov [0x23000 + rcx * 8], rax
    inc ecx
    cmp ecx, 16
    jne base_fill
    mov qword [0x5000], 5       ; NEW_BASEPTR
    mov rax, [0xc0000 + 0x20 * 8]
    mov [0x5008], rax
    mov eax, 26
    mov edi, 0x5000
    mov esi, 1
    xor edx, edx
    mov r10d, 0x7ff0
    vmcall
    test rax, rax
    jz base_ok
    mov al, 'E'
    out 0xe9, al
base_ok:`;
  const LONG_MODE = 'mov eax, 0x20\n    mov cr4, rax\n    mov ecx, 0xc0000080\n    rdmsr\n    or eax, 0x100\n    wrmsr';
  const cases: [string, string, string, string][] = [
    ['MOV CR3', 'mov eax, 0x20000\n    mov cr3, rax', 'G', 'k'],
    ['paging on without CR0.WP', `${BASE}\n    ${LONG_MODE}\n    mov eax, 0x80000011\n    mov cr0, rax`, 'G', '-'],
    ['paging on without long mode', `${BASE}\n    mov eax, 0x80010011\n    mov cr0, rax`, 'G', 'G'],
    ['CR0.WP alone (paging off)', 'mov eax, 0x10011\n    mov cr0, rax', 'k', 'k'],
    // Regression (review): CR3 must be a validated L4 before paging goes on.
    ['paging on (WP, PAE, LME) before any NEW_BASEPTR', `${LONG_MODE}\n    mov eax, 0x80010011\n    mov cr0, rax`, 'G', '-'],
    ['paging on after NEW_BASEPTR of an unpinned, valid L4', `${BASE}\n    ${LONG_MODE}\n    mov eax, 0x80010011\n    mov cr0, rax\n    mov rax, [0x1000]`, 'k', '-'],
  ];
  for (const [name, body, pv, native] of cases) {
    it(`CR access: ${name} → ${pv === 'G' ? '#GP in paravirt mode' : 'allowed'}${native === '-' ? '' : ` (native: ${native === 'G' ? '#GP' : 'allowed'})`}`, () => {
      const s = runAsm(GP_GUEST(body), { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
      assert.equal(s.console, pv, s.exit.message);
      if (name === 'MOV CR3') assert.equal(s.exits.byReason['28 control-register access'], 1);
      const n = runAsm(GP_GUEST(body), { memoryBytes: 4 * 1024 * 1024 });
      if (native === 'k') assert.equal(n.console, 'k');
    });
  }

  it('NEW_BASEPTR validates an unpinned L4 on demand and takes one reference; the current base again is a success with no reference change', () => {
    const { vm, machine } = startAsm(PROLOGUE + `
    mov qword [OPS], 5
    mov rax, [P2M + 0x30 * 8]   ; a zeroed frame: a valid empty L4
    mov [OPS + 8], rax
    HC 26, OPS, 1, 0
    HC 26, OPS, 1, 1            ; the current base
    mov rax, [P2M + 0x31 * 8]
    mov [OPS + 8], rax
    HC 26, OPS, 1, 2            ; another one: the first is released (and devalidated)
    mov qword [OPS], 4          ; unpin it: it was never pinned
    HC 26, OPS, 1, 3
    hlt
`, { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
    vm.run(10_000);
    const mfn = (ppn: number): number => vm.mem.read32(0xc0000 + ppn * 8);
    const res = [0, 1, 2, 3].map((i) => vm.mem.read32(0x6000 + 8 * i) | 0);
    assert.deepEqual(res, [0, 0, 0, -Errno.EINVAL]);
    const frames = machine!.memory.frames;
    assert.equal(frames.useOf(mfn(0x30)), 'guest-data', 'the old base lost its only reference: devalidated');
    assert.equal(frames.useOf(mfn(0x31)), 'guest-pt', 'the new base is a validated table');
    assert.equal(vm.vcpus[0].cr3, mfn(0x31) * 4096);
  });

  it('INVLPG_LOCAL / INVLPG_ALL of a non-canonical address are ignored and succeed (Xen: paging_invlpg / __addr_ok)', () => {
    const r = results(`
    mov qword [OPS], 7
    mov rax, 0x0000800000000000
    mov [OPS + 8], rax
    HC 26, OPS, 1, 0
    mov qword [OPS], 11
    HC 26, OPS, 1, 1
`, 2);
    assert.deepEqual(r.res, [0n, 0n]);
    assert.ok(r.events.every((e) => e.kind !== 'hypercall' || e.rejected === undefined));
  });

  it('mmu_update: ptr bits 2:0 are the command — 4–7 are -ENOSYS; a ptr beyond machine memory is -EINVAL', () => {
    const r = results(`
    mov rax, [P2M + 0x20 * 8]
    shl rax, 12
    or rax, 4                   ; command 4: none
    mov [OPS], rax
    mov qword [OPS + 8], 0
    HC 1, OPS, 1, 0
    mov rax, 0x000f000000000000
    mov [OPS], rax
    HC 1, OPS, 1, 1
`, 2);
    assert.deepEqual(r.res, [-BigInt(Errno.ENOSYS), -BigInt(Errno.EINVAL)]);
  });

  it('paging off: writes to a pinned table are discarded, reads see it', () => {
    const s = runAsm(PROLOGUE + `
    mov rax, [P2M + 0x10 * 8]
    mov qword [OPS], 0
    mov [OPS + 8], rax
    HC 26, OPS, 1, 0
    mov qword [0x10000], 0x1234 ; a direct write to the pinned L1: dropped
    mov rax, [0x10000]
    mov [RESULTS + 8], rax
    mov qword [P2M], 7          ; the p2m copy is read-only too
    mov rax, [P2M]
    cmp rax, 7
    je bad
    mov al, 0
    out 0xf4, al
bad:
    mov al, 1
    out 0xf4, al
`, { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
    assert.equal(s.exit.status, 0);
    const { vm } = startAsm(PROLOGUE + `
    mov rax, [P2M + 0x10 * 8]
    mov qword [OPS], 0
    mov [OPS + 8], rax
    HC 26, OPS, 1, 0
    mov qword [0x10000], 0x1234
    mov rax, [0x10000]
    mov [RESULTS + 8], rax
    hlt
`, { mode: 'paravirt', memoryBytes: 4 * 1024 * 1024 });
    vm.run(10_000);
    assert.equal(vm.mem.read32(0x6008), 0);
  });
});

describe('paravirt audit', () => {
  it('is clean on a fresh VM and finds a writable mapping of a table written behind its back', () => {
    const f = pvVm();
    const t = f.inst.types;
    assert.deepEqual(f.inst.audit!(), []);
    assert.equal(t.pin(f.mfn(0x10), 1), null);
    assert.equal(t.pin(f.mfn(0x11), 2), null);
    t.writeEntry(f.mfn(0x10), 3, ent(f.mfn(0x11), PteBit.P | PteBit.RW));
    const problems = f.inst.audit!();
    assert.ok(problems.some((p) => /maps frame .* writable, but it is an L2 page table/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /type count of frame/.test(p)));
  });

  it('finds a mapping of a frame the VM does not own and a changed p2m copy', () => {
    const f = pvVm();
    const t = f.inst.types;
    assert.equal(t.pin(f.mfn(0x10), 1), null);
    t.writeEntry(f.mfn(0x10), 0, ent(0, PteBit.P));
    f.machine.memory.bytes.write32(f.mfn(0xc0) * 4096, 5);
    const problems = f.inst.audit!();
    assert.ok(problems.some((p) => /not the VM's/.test(p)));
    assert.ok(problems.some((p) => /p2m copy says/.test(p)));
  });

  it('backs every guest page up front, not as the identity, and publishes the p2m', () => {
    const f = pvVm(4);
    assert.equal(f.vv.p2m.backedPages, 1024);
    assert.notEqual(f.mfn(0), 0);
    assert.ok(f.mfn(0) > f.mfn(1));
    for (const ppn of [0, 1, 0x10, 1023]) assert.equal(f.vv.vm.mem.read32(0xc0000 + ppn * 8), f.mfn(ppn));
    assert.equal(f.machine.memory.frames.useOf(f.mfn(0xc0)), 'vmm');
  });
});
