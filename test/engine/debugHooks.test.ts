// The engine's debugger hooks: breakpoints on machine-physical instruction addresses (any
// mapping of the instruction stops before it runs) and data breakpoints on physical bytes
// (any store — by the guest, a page walk's A/D update, the VMM — stops after it).
import { strict as assert } from 'node:assert';
import { PAGING32_MACROS, assembleOk } from '../support/runAsm';
import { startProgram } from '../../src/engine/runner';
import type { Vm } from '../../src/engine/vm';
import type { PhysicalMemory } from '../../src/engine/memory/physicalMemory';

const LOOP = `
.org 0x1000
_start:
    mov rsp, 0x8000
    mov rcx, 5
    xor rax, rax
again:
    add rax, 3
    mov [0x6000], rax           ; a 64-bit store (the fast store path)
    dec rcx
    jnz again
    hlt
`;

function start(src: string): { vm: Vm; labels: Map<string, number>; mem: PhysicalMemory } {
  const program = assembleOk(src);
  const { vm } = startProgram(program);
  return { vm, labels: program.labels, mem: vm.mem as PhysicalMemory };
}

/** Runs until the VM stops; returns the rip of every breakpoint stop. */
function runCollectingStops(vm: Vm): number[] {
  const stops: number[] = [];
  for (let guard = 0; guard < 100 && !vm.stopped; guard++) {
    const r = vm.run(1_000_000);
    if (r.outcome !== 'pause-requested') continue;
    const cpu = vm.vcpus[0];
    stops.push(Number(cpu.ripValue));
    if (cpu.breakpointHit !== null) {
      cpu.breakpointHit = null;
      cpu.resumeFromBreakpoint();
    }
  }
  return stops;
}

describe('debugger hooks in the engine', () => {
  for (const fast of [true, false]) {
    it(`a breakpoint stops before its instruction, every time it is reached (fast paths ${fast ? 'on' : 'off'})`, () => {
      const { vm, labels, mem } = start(LOOP);
      vm.vcpus[0].fastPaths = fast;
      const at = labels.get('again')!;
      mem.addBreakpoint(at);
      const stops = runCollectingStops(vm);
      assert.deepEqual(stops, [at, at, at, at, at]);
      assert.equal(vm.vcpus[0].getReg(0), 15n, 'every iteration still ran');
      assert.equal(vm.icount, 3 + 5 * 4 + 1);
    });
  }

  it('no instruction retires at a breakpoint stop', () => {
    const { vm, labels, mem } = start(LOOP);
    mem.addBreakpoint(labels.get('again')!);
    vm.run(1_000_000);
    assert.equal(vm.icount, 3);
    assert.equal(vm.vcpus[0].getReg(0), 0n);
  });

  it('a breakpoint set after the code ran (and was cached) still stops; removed, it does not', () => {
    const { vm, labels, mem } = start(LOOP);
    vm.run(6); // the loop body has been decoded and cached
    mem.addBreakpoint(labels.get('again')!);
    const r = vm.run(1_000_000);
    assert.equal(r.outcome, 'pause-requested');
    mem.removeBreakpoint(labels.get('again')!);
    vm.vcpus[0].resumeFromBreakpoint();
    vm.run(1_000_000);
    assert.ok(vm.stopped);
    assert.equal(vm.vcpus[0].getReg(0), 15n);
  });

  it('a breakpoint on bytes that do not decode: resuming raises #UD', () => {
    const { vm, mem } = start(`
.org 0x1000
_start:
    mov rsp, 0x8000
    jmp 0x3000
`);
    mem.addBreakpoint(0x3000);
    assert.equal(vm.run(100).outcome, 'pause-requested');
    assert.equal(vm.vcpus[0].ripValue, 0x3000n);
    vm.vcpus[0].resumeFromBreakpoint();
    vm.run(100);
    assert.equal(vm.vcpus[0].stopKind, 'triple-fault');
    assert.match(vm.vcpus[0].stopReason, /#UD/);
  });

  for (const fast of [true, false]) {
    it(`a data breakpoint stops after the store that touches it (fast paths ${fast ? 'on' : 'off'})`, () => {
      const { vm, mem } = start(LOOP);
      vm.vcpus[0].fastPaths = fast;
      const seen: number[] = [];
      mem.addWatch(0x6004, 2, () => {
        seen.push(Number(mem.readU(0x6000, 4)));
        vm.requestPause(0);
      });
      const values: bigint[] = [];
      for (let guard = 0; guard < 20 && !vm.stopped; guard++) {
        if (vm.run(1_000_000).outcome === 'pause-requested') values.push(vm.vcpus[0].getReg(0));
      }
      assert.deepEqual(seen, [3, 6, 9, 12, 15], 'the store is done when the watcher is told');
      assert.deepEqual(values, [3n, 6n, 9n, 12n, 15n], 'stopped right after each store');
    });
  }

  it('a data breakpoint on a PTE sees the page walk set its accessed bit', () => {
    const { vm, mem } = start(`${PAGING32_MACROS}
.org 0x1000
_start:
    mov rsp, 0x8000
    identity_map32                       ; 32-bit paging: PDE 0 → page table at 0x11000
    enable_paging32
    mov rbx, [0x5000]                    ; first touch of page 5: the walk sets PTE 5's A bit
    hlt
`);
    let hits = 0;
    let valueAtHit = 0;
    // Watch PTE 5 only once the loop has written it.
    vm.run(3 + 1024 * 7);
    mem.addWatch(0x11000 + 5 * 4, 4, () => {
      hits++;
      valueAtHit = mem.read32(0x11000 + 5 * 4);
      vm.requestPause(0);
    });
    const r = vm.run(1_000_000);
    assert.equal(r.outcome, 'pause-requested');
    assert.equal(hits, 1);
    assert.equal(valueAtHit, 0x5023, 'P|RW|A');
  });
});
