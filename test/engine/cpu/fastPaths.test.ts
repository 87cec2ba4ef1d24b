// The vCPU's fast paths (specialised handlers, code- and data-page memos) against the generic
// executor: generated programs run twice, once with fastPaths off, and must end in the same
// architectural state, the same memory, the same TLB counters and the same LRU stamps.
import { strict as assert } from 'node:assert';
import { ArithFlags, AluResult, add64, addSub, logic, logic64, sub64 } from '../../../src/engine/cpu/alu';
import { Kind, kindOf as kindOfInsn } from '../../../src/engine/cpu/insnKind';
import { decode } from '../../../src/engine/isa/encoding';
import { startAsm } from '../../support/runAsm';
import type { Mmu } from '../../../src/engine/mmu';
import type { Vm } from '../../../src/engine/vm';
import { enterLongMode } from '../../../bench/longMode';
// A seeded generator so failures reproduce.
import { rngFloat as rng } from '../../support/rng';

const EDGE = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10];

function flagsOf(f: ArithFlags): number[] {
  return [f.cf, f.zf, f.sf, f.of, f.af, f.pf];
}

type FastOp = (f: ArithFlags, lo: Int32Array, hi: Int32Array, bLo: number, bHi: number) => void;
type RefOp = (f: ArithFlags, r: AluResult, aLo: number, aHi: number, bLo: number, bHi: number) => void;

describe('64-bit ALU fast paths agree with addSub / logic (size 8)', () => {
  const r = rng(1);
  const half = (): number => (r() < 0.4 ? EDGE[Math.floor(r() * EDGE.length)] : Math.floor(r() * 4294967296));
  const cases: [number, number, number, number][] = [];
  for (const a of EDGE) for (const b of EDGE) cases.push([a, EDGE[(a + b) % EDGE.length], b, a], [b, a, a, b]);
  for (let i = 0; i < 3000; i++) cases.push([half(), half(), half(), half()]);

  const table: [string, FastOp, RefOp, boolean][] = [
    ['add', (f, lo, hi, bLo, bHi) => add64(f, lo, hi, 0, bLo, bHi), (f, x, aLo, aHi, bLo, bHi) => addSub(f, x, aLo, aHi, bLo, bHi, 8, false, 0), true],
    ['sub', (f, lo, hi, bLo, bHi) => sub64(f, lo, hi, 0, bLo, bHi, true), (f, x, aLo, aHi, bLo, bHi) => addSub(f, x, aLo, aHi, bLo, bHi, 8, true, 0), true],
    ['cmp', (f, lo, hi, bLo, bHi) => sub64(f, lo, hi, 0, bLo, bHi, false), (f, x, aLo, aHi, bLo, bHi) => addSub(f, x, aLo, aHi, bLo, bHi, 8, true, 0), false],
    ['and', (f, lo, hi, bLo, bHi) => logic64(f, lo, hi, 0, 0, bLo, bHi, true), (f, x, aLo, aHi, bLo, bHi) => logic(f, x, 0, aLo, aHi, bLo, bHi, 8), true],
    ['or', (f, lo, hi, bLo, bHi) => logic64(f, lo, hi, 0, 1, bLo, bHi, true), (f, x, aLo, aHi, bLo, bHi) => logic(f, x, 1, aLo, aHi, bLo, bHi, 8), true],
    ['xor', (f, lo, hi, bLo, bHi) => logic64(f, lo, hi, 0, 2, bLo, bHi, true), (f, x, aLo, aHi, bLo, bHi) => logic(f, x, 2, aLo, aHi, bLo, bHi, 8), true],
    ['test', (f, lo, hi, bLo, bHi) => logic64(f, lo, hi, 0, 0, bLo, bHi, false), (f, x, aLo, aHi, bLo, bHi) => logic(f, x, 0, aLo, aHi, bLo, bHi, 8), false],
  ];
  for (const [name, fast, ref, writes] of table) {
    it(`${name}: result and every flag, ${cases.length} generated operand pairs`, () => {
      for (const [aLo, aHi, bLo, bHi] of cases) {
        const f1 = new ArithFlags();
        const f2 = new ArithFlags();
        const lo = Int32Array.of(aLo | 0);
        const hi = Int32Array.of(aHi | 0);
        const res = new AluResult();
        // Immediates arrive unsigned from the decoder and loads signed: feed both shapes.
        fast(f1, lo, hi, (aLo & 1) === 0 ? bLo >>> 0 : bLo | 0, (aLo & 2) === 0 ? bHi >>> 0 : bHi | 0);
        ref(f2, res, aLo, aHi, bLo, bHi);
        const ctx = `${name} a=${aHi.toString(16)}:${aLo.toString(16)} b=${bHi.toString(16)}:${bLo.toString(16)}`;
        assert.deepEqual(flagsOf(f1), flagsOf(f2), ctx);
        if (writes) assert.deepEqual([lo[0] >>> 0, hi[0] >>> 0], [res.lo >>> 0, res.hi >>> 0], ctx);
        else assert.deepEqual([lo[0], hi[0]], [aLo | 0, aHi | 0], `${ctx} (no write)`);
      }
    });
  }
});

// ---------------------------------------------------------------- whole programs

/** Bare metal → 4-level paging identity-mapping 0–6 MiB with 4 KiB pages (as the benchmark). */
const PAGING = `
.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD,   0x12000
.equ PT0,  0x13000
.org 0x1000
_start:
    mov rsp, 0x8000
    mov qword [PML4], PDPT | 3
    mov qword [PDPT], PD | 3
    mov qword [PD], PT0 | 3
    mov qword [PD + 8], 0x14000 | 3
    mov qword [PD + 16], 0x15000 | 3
    xor rcx, rcx
.fill:
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov [PT0 + rcx*8], rax
    add rcx, 1
    cmp rcx, 1536
    jne .fill
${enterLongMode('PML4')}
`;

const DST = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12'];
const DST32 = ['eax', 'ecx', 'edx', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d'];
const ALU = ['add', 'sub', 'cmp', 'and', 'or', 'xor', 'test', 'adc', 'sbb'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** A loop body of `n` random instructions, mostly ones with a specialised handler. */
function randomBody(r: () => number, n: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  // The assembler takes imm32 operands as sign-extended values.
  const imm32 = (): string => String((r() < 0.3 ? pick(EDGE) : Math.floor(r() * 4294967296)) | 0);
  const imm64 = (): string => '0x' + BigInt.asUintN(64, (BigInt(Math.floor(r() * 4294967296)) << 32n) | BigInt(Math.floor(r() * 4294967296))).toString(16);
  // Aligned, 4-aligned, odd, and page-crossing offsets over three data pages at rbx.
  const disp = (): number => {
    const k = r();
    if (k < 0.5) return Math.floor(r() * 1536) * 8;
    if (k < 0.7) return Math.floor(r() * 3072) * 4;
    if (k < 0.85) return Math.floor(r() * 12280);
    return pick([4092, 4095, 8190, 4089]);
  };
  const lines: string[] = [];
  let label = 0;
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 13);
    const d = pick(DST);
    switch (k) {
      case 0: lines.push(`mov ${d}, ${r() < 0.5 ? imm32() : imm64()}`); break;
      case 1: lines.push(`mov ${pick(DST32)}, ${r() < 0.5 ? pick(DST32) : imm32()}`); break;
      case 2: lines.push(`mov ${d}, ${pick(DST)}`); break;
      case 3: lines.push(`${pick(ALU)} ${d}, ${pick(DST)}`); break;
      case 4: lines.push(`${pick(ALU)} ${d}, ${imm32()}`); break;
      case 5: lines.push(`${pick(ALU)} ${d}, qword [rbx + ${disp()}]`); break;
      case 6: lines.push(`mov qword [rbx + ${disp()}], ${d}`); break;
      case 7: lines.push(`mov qword [rbx + ${disp()}], ${imm32()}`); break;
      case 8: lines.push(`mov ${d}, qword [rbx + ${disp()}]`); break;
      case 9: lines.push(`${pick(['inc', 'dec'])} ${d}`); break;
      case 10: lines.push(`${pick(ALU)} ${pick(DST32)}, ${pick(DST32)}`); break; // 32-bit: generic
      case 11: {
        const l = `.L${label++}`;
        lines.push(`j${pick(CC)} ${l}`, `add ${d}, 1`, `${l}:`);
        break;
      }
      default: lines.push(`add qword [rbx + ${disp()}], ${d}`); break; // read-modify-write: generic
    }
  }
  return lines.join('\n    ');
}

interface Outcome {
  state: unknown;
  data: number[];
  counters: unknown;
  entries: unknown;
  icount: number;
}

function runBoth(src: string, maxSteps = 2_000_000): [Outcome, Outcome] {
  const outcome = (fast: boolean): Outcome => {
    const { vm } = startAsm(src);
    vm.vcpus.forEach((c) => (c.fastPaths = fast));
    runToEnd(vm, maxSteps);
    const mmu = vm.mmus[0] as Mmu;
    return {
      state: vm.vcpus[0].snapshot(),
      data: [...vm.mem.readBytes(0x200000, 4 * 4096)],
      counters: mmu.tlb.counters(),
      entries: mmu.tlb.entries(),
      icount: vm.vcpus[0].icount,
    };
  };
  return [outcome(true), outcome(false)];
}

function runToEnd(vm: Vm, maxSteps: number): void {
  while (vm.icount < maxSteps && !vm.stopped) vm.run(Math.min(1000, maxSteps - vm.icount));
}

function assertSame(fast: Outcome, generic: Outcome, ctx: string): void {
  assert.deepEqual(fast.state, generic.state, `${ctx}: registers`);
  assert.deepEqual(fast.counters, generic.counters, `${ctx}: TLB counters`);
  assert.deepEqual(fast.entries, generic.entries, `${ctx}: TLB entries and LRU stamps`);
  assert.deepEqual(fast.data, generic.data, `${ctx}: memory`);
}

describe('vCPU fast paths agree with the generic executor', () => {
  it('the handler table covers the benchmark loop (and leaves ADC / RMW / 32-bit ALU generic)', () => {
    const kinds = (text: string): number[] => {
      const { vm } = startAsm(`.org 0x1000\n_start:\n    ${text}\n    hlt`);
      const out: number[] = [];
      let off = 0x1000;
      for (;;) {
        const d = decode(vm.mem.readBytes(off, 16), 0);
        if (typeof d === 'string' || d.op === 0x02) break;
        vm.vcpus[0].fastPaths = true;
        out.push(kindOfBytes(vm.mem.readBytes(off, 16)));
        off += d.length;
      }
      return out;
    };
    assert.deepEqual(kinds('add rax, [rsi]\n    mov [rsi+4], rax\n    add rsi, 8\n    and rsi, 0x3fffff\n    or rsi, 0x200000\n    dec rcx\n    jnz _start'),
      [Kind.ALU_RM8, Kind.MOV_MR8, Kind.ALU_RI8, Kind.ALU_RI8, Kind.ALU_RI8, Kind.DEC_R8, Kind.JCC]);
    assert.deepEqual(kinds('adc rax, rcx\n    add [rsi], rax\n    add eax, ecx\n    mov ax, 1'), [Kind.GENERIC, Kind.GENERIC, Kind.GENERIC, Kind.GENERIC]);
  });

  for (let seed = 1; seed <= 12; seed++) {
    it(`generated program #${seed}: same registers, flags, memory, TLB counters and stamps`, () => {
      const r = rng(seed * 7919);
      const init = DST.map((d) => `mov ${d}, 0x${Math.floor(r() * 4294967296).toString(16)}`).join('\n    ');
      const src = `${PAGING}
    mov rbx, 0x200000 + ${Math.floor(r() * 4) * 8}
    mov r15, 40
    ${init}
top:
    ${randomBody(r, 60)}
    dec r15
    jnz top
    pushfq
    pop r13
    hlt
`;
      const [fast, generic] = runBoth(src);
      assertSame(fast, generic, `seed ${seed}`);
      assert.ok(fast.icount > 2000);
    });
  }

  it('a store over a cached instruction in the running page takes effect (code-page memo)', () => {
    // Each pass rewrites the imm32 of `patched` (add rax, imm: opcode, form, register, imm32)
    // with the pass counter.
    const src = `${PAGING}
    mov rcx, 50
    xor rax, rax
again:
    mov dword [patched + 3], ecx
patched:
    add rax, 0x1000
    dec rcx
    jnz again
    hlt
`;
    const [fast, generic] = runBoth(src);
    assertSame(fast, generic, 'self-modifying');
    // 50 + 49 + … + 1 (the first pass already runs the patched immediate).
    assert.equal((fast.state as { gpr: { rax: bigint } }).gpr.rax, 1275n);
  });

  it('a debugger write to the running code page between runs is seen (decoded array replaced)', () => {
    const src = `${PAGING}
    mov rcx, 400
    xor rax, rax
    mov r14, 1              ; in the loop from here
again:
    add rax, 1
    dec rcx
    jnz again
    hlt
`;
    const outcome = (fast: boolean): Outcome => {
      const { vm } = startAsm(src);
      const mmus = vm.mmus as Mmu[];
      vm.vcpus.forEach((c) => (c.fastPaths = fast));
      // Half way through the loop.
      while (vm.vcpus[0].getReg(1) !== 200n || vm.vcpus[0].getReg(14) !== 1n) vm.run(1);
      // Find `add rax, 1` (RI form: opcode, form, register, imm32) and make it add 7.
      let at = 0x1000;
      const add = [0x20, 0x3f, 0, 1, 0, 0, 0]; // add (RI, 64-bit) rax, 1
      while (!add.every((b, i) => vm.mem.read8(at + i) === b)) at++;
      vm.mem.write8(at + 3, 7);
      runToEnd(vm, 100_000);
      const mmu: Mmu = mmus[0];
      return { state: vm.vcpus[0].snapshot(), data: [], counters: mmu.tlb.counters(), entries: mmu.tlb.entries(), icount: vm.vcpus[0].icount };
    };
    const fast = outcome(true);
    assertSame(fast, outcome(false), 'patched between runs');
    const rax = (fast.state as { gpr: { rax: bigint } }).gpr.rax;
    assert.equal(rax, 200n + 7n * 200n, 'the second half ran the patched add');
  });

  it('INVLPG of the running code page and MOV CR3 are seen by the fetch and data memos', () => {
    const src = `${PAGING}
    mov rcx, 30
    mov rbx, 0x200000
again:
    mov rax, [rbx]
    add rax, rcx
    mov [rbx], rax
    invlpg [again]
    mov rdx, [rbx + 8]
    test rcx, 1
    jz .skip
    mov rdx, cr3
    mov cr3, rdx
    invlpg [rbx]
.skip:
    dec rcx
    jnz again
    hlt
`;
    const [fast, generic] = runBoth(src);
    assertSame(fast, generic, 'flushes');
    assert.ok((fast.counters as { misses: number }).misses > 60, 'the flushes really cost misses');
  });

  it('a #PF on a page the data memo covered stays precise (rip, CR2, no partial write)', () => {
    // After some stores to 0x201000 (memoised), its PTE is cleared and the page flushed: the
    // next store must fault; the handler maps it back and the store retries.
    const src = `
.equ IDT, 0x3000
${PAGING}
    mov rax, pf
    mov word [IDT + 14*16], ax
    mov word [IDT + 14*16 + 2], 8
    mov byte [IDT + 14*16 + 5], 0x8e
    shr rax, 16
    mov word [IDT + 14*16 + 6], ax
    lidt [idtr]
    mov rbx, 0x201000
    mov rcx, 5
warm:
    mov qword [rbx + 8], rcx
    dec rcx
    jnz warm
    mov dword [0x13000 + 0x201*8], 0   ; a 4-byte store: the 8-byte write memo stays on rbx's page
    invlpg [rbx]
    mov r9, 0x1122334455667788
    mov qword [rbx + 16], r9
    mov r10, [rbx + 16]
    hlt
pf:
    mov r11, cr2
    mov qword [0x13000 + 0x201*8], 0x201003
    pop r12
    iretq
.align 8
idtr:
    .word 256*16 - 1
    .qword IDT
`;
    const [fast, generic] = runBoth(src);
    assertSame(fast, generic, 'page fault');
    const g = (fast.state as { gpr: Record<string, bigint> }).gpr;
    assert.equal(g.r11, 0x201010n);
    assert.equal(g.r10, 0x1122334455667788n);
  });
});

/** The handler kind the vCPU would choose for the instruction at the start of `bytes`. */
function kindOfBytes(bytes: Uint8Array): number {
  const d = decode(bytes, 0);
  if (typeof d === 'string') throw new Error(d);
  return kindOfInsn(d);
}
