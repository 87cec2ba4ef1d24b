// The hypervisor swapper, its victims, the swap device, the clock and stall accounting, and the
// paravirtual refusals.
import { strict as assert } from 'node:assert';
import { Machine } from '../../../../src/engine/machine/machine';
import { MachineMemory } from '../../../../src/engine/machine/machineMemory';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { VirtualVm } from '../../../../src/engine/vmm/virtualVm';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { P2m, P2mGuestMemory } from '../../../../src/engine/vmm/p2m';
import { SwapDevice, DEFAULT_DISK_LATENCY_CYCLES } from '../../../../src/engine/memory/overcommit/swapDevice';
import { SimClock } from '../../../../src/engine/memory/overcommit/clock';
import { VictimSelector } from '../../../../src/engine/memory/overcommit/victims';
import { HypervisorSwap } from '../../../../src/engine/memory/overcommit/hypervisorSwap';
import type { ParavirtInstance } from '../../../../src/engine/vmm/paravirt/paravirtMode';
import { runNative } from './reclaimFuzz';
import { assembleExample } from '../../../support/runAsm';

const PAGE = 4096;

describe('overcommit core: swap device and clock', () => {
  it('defaults to a 10 ms disk at 1 MHz, keeps zero pages without bytes, reuses freed slots, refuses when full', () => {
    const d = new SwapDevice({ capacitySlots: 2 });
    assert.equal(d.readLatency, DEFAULT_DISK_LATENCY_CYCLES);
    assert.equal(DEFAULT_DISK_LATENCY_CYCLES, 10_000);
    const page = new Uint8Array(PAGE);
    page[100] = 7;
    const s0 = d.store(page);
    const s1 = d.store(new Uint8Array(PAGE));
    assert.deepEqual([s0, s1], [0, 1]);
    assert.equal(d.store(page), -1);
    assert.equal(d.counters.fullRefusals, 1);
    assert.equal(d.read(s0)[100], 7);
    assert.ok(d.read(s1).every((b) => b === 0));
    d.free(s0);
    assert.equal(d.store(page), 0);
    assert.equal(d.counters.peakSlotsUsed, 2);
  });

  it('SimClock: seconds are cycles over the rate; it never goes back', () => {
    const c = new SimClock(2_000);
    c.advance(3_000);
    assert.equal(c.seconds(), 1.5);
    assert.equal(c.cycles(0.25), 500);
    assert.throws(() => c.advance(-1));
  });
});

describe('overcommit core: victims', () => {
  function p2mWith(pages: number): P2m {
    const mem = new MachineMemory(256 * PAGE);
    const p = new P2m(mem, 1, 64 * PAGE);
    for (let i = 0; i < pages; i++) p.back(i);
    return p;
  }

  it('random: distinct, only swappable pages, the same for the same seed, different for another', () => {
    const p = p2mWith(40);
    p.machine.frames.setUse(p.lookup(3), 'guest-pt');
    const a = new VictimSelector('random', 5).choose(p, 10);
    const b = new VictimSelector('random', 5).choose(p, 10);
    const c = new VictimSelector('random', 6).choose(p, 10);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(new Set(a).size, 10);
    assert.ok(a.every((x) => x < 40 && x !== 3));
    // Every private page but the guest page table and the 8 touched last (32..39: one
    // instruction's pages); when nothing else is left, all but the page being mapped (39).
    assert.equal(p.lastTouched, 39);
    assert.ok(p.recentlyTouched(32) && p.recentlyTouched(39) && !p.recentlyTouched(31));
    const spared = new VictimSelector('random', 1).choose(p, 100);
    assert.deepEqual([...spared].sort((x, y) => x - y), Array.from({ length: 32 }, (_, i) => i).filter((i) => i !== 3));
    const all = new VictimSelector('random', 1).choose(p, 100, false);
    assert.equal(all.length, 38);
    assert.ok(!all.includes(39) && !all.includes(3));
    const onlyRecent = p2mWith(8);
    assert.deepEqual(new VictimSelector('random', 1).choose(onlyRecent, 100).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6], 'a VM with only recent pages gives them, never the last');
  });

  it('clock: a page mapped since the hand passed gets a second chance', () => {
    // 16 pages: the last 8 touched are spared while these 8 can go.
    const p = p2mWith(16);
    const sel = new VictimSelector('clock');
    // Every page was just mapped (referenced): the first sweep clears, the second picks.
    assert.deepEqual(sel.choose(p, 2), [0, 1]);
    p.back(2, 'read');
    assert.deepEqual(sel.choose(p, 2), [3, 4]);
  });

  it('lru: the pages mapped longest ago go first', () => {
    const p = p2mWith(6);
    const sel = new VictimSelector('lru');
    sel.choose(p, 1);
    for (const i of [4, 1, 5, 0, 2, 3]) p.back(i, 'read');
    assert.deepEqual(sel.choose(p, 3), [4, 1, 5]);
  });
});

describe('overcommit core: hypervisor swapping under a running guest', function () {
  this.timeout(120_000);
  for (const mode of ['shadow', 'nested'] as const) {
    it(`${mode}: swapped-out pages come back on touch, the VM stalls per swap-in, output is native's`, () => {
      const program = assembleExample('two-processes.s');
      const native = runNative(program, 5_000_000);
      const machine = new Machine({ memoryBytes: 64 * 1024 * 1024, cyclesPerSecond: 1_000_000 });
      const v = createVirtualVm(machine, mode, { memoryBytes: 16 * 1024 * 1024 });
      v.vm.load(program.segments, program.entry ?? 0);
      const offered: number[] = [];
      const swap = new HypervisorSwap(machine, { victim: 'random', seed: 3, offer: (_vm, ppn) => (offered.push(ppn), offered.length % 5 === 0 && v.p2m.shareInPlace(ppn) >= 0) });
      let reclaimed = 0;
      while (!machine.stopped) {
        machine.run(1_000);
        reclaimed += swap.swapOut(v.p2m.owner, 4);
        assert.deepEqual(auditMachine(machine), []);
      }
      const c = v.p2m.counters;
      assert.ok(reclaimed > 0 && c.swapOuts > 0 && c.swapIns > 0);
      assert.equal(swap.counters.swappedOut + swap.counters.sharedInstead, reclaimed);
      assert.ok(swap.counters.sharedInstead > 0, 'share before swap');
      assert.ok(offered.length >= reclaimed, 'every victim was offered for sharing first');
      assert.equal(v.p2m.stalls.cycles, c.swapIns * machine.swapLatencyCycles);
      assert.equal(machine.stallCycles(v.vm), v.p2m.stalls.cycles);
      // The clock counts what ran plus the waits no other VM could fill (the last may be pending).
      assert.equal(machine.clock.now + machine.waitRemaining(v.vm), v.vm.icount + v.p2m.stalls.cycles);
      v.vm.devices.flushLine();
      assert.equal(v.vm.devices.console, native.console);
    });
  }

  it('a stalled VM waits while another runs; the clock only idles when every VM waits', () => {
    const program = assembleExample('two-processes.s');
    const machine = new Machine({ memoryBytes: 64 * 1024 * 1024, quantum: 500 });
    const vms: VirtualVm[] = [0, 1].map(() => {
      const v = createVirtualVm(machine, 'nested', { memoryBytes: 16 * 1024 * 1024 });
      v.vm.load(program.segments, program.entry ?? 0);
      return v;
    });
    machine.run(3_000);
    const [a, b] = vms;
    const idle = (): number => machine.clock.now - machine.icount;
    assert.equal(idle(), 0);
    machine.stall(a.vm, 5_000);
    // a's pending wait is taken when its slice returns; then only b runs until the wait is over.
    while (!machine.isWaiting(a.vm)) machine.run(100);
    const aAt = a.vm.icount;
    const bAt = b.vm.icount;
    machine.run(4_000);
    assert.equal(a.vm.icount, aAt, 'a waits');
    assert.equal(b.vm.icount - bAt, 4_000, 'b runs');
    assert.equal(idle(), 0, 'no idling while b could run');
    machine.run(2_000);
    assert.ok(a.vm.icount > aAt, 'a runs again once its wait is over');
    // Both waiting: the clock jumps to the first wake-up.
    machine.stall(a.vm, 7_000);
    machine.stall(b.vm, 9_000);
    while (!(machine.isWaiting(a.vm) && machine.isWaiting(b.vm))) machine.run(100);
    const before = idle();
    const wake = Math.min(machine.waitRemaining(a.vm), machine.waitRemaining(b.vm));
    machine.run(1);
    assert.equal(idle() - before, wake);
    assert.equal(machine.stallCycles(a.vm), 12_000);
    assert.equal(machine.stallCycles(b.vm), 9_000);
  });
});

describe('overcommit core: paravirtual guests (Xen PV) — balloon only', () => {
  function pv(): { machine: Machine; v: VirtualVm; inst: ParavirtInstance } {
    const machine = new Machine({ memoryBytes: 128 * 1024 * 1024 });
    const v = createVirtualVm(machine, 'paravirt');
    const program = assembleExample('pv-hello.s');
    v.vm.load(program.segments, program.entry ?? 0);
    return { machine, v, inst: v.instance as ParavirtInstance };
  }

  it('swapping and sharing are refused with Xen\'s reason', () => {
    const { v } = pv();
    assert.equal(v.p2m.swapOut(100), false);
    assert.match(v.p2m.lastRefusal, /mem_paging/);
    assert.equal(v.p2m.shareInPlace(100), -1);
    assert.match(v.p2m.lastRefusal, /mem_sharing/);
  });

  it('ballooning frees the frame, the guest-visible p2m copy says INVALID_P2M_ENTRY; deflate repopulates it; mapped pages are refused', () => {
    const { machine, v, inst } = pv();
    // Before the guest built any table nothing maps the page (Xen's rule: the guest unmaps a page
    // before XENMEM_decrease_reservation).
    const ppn = v.p2m.pages - 3;
    const copy = new P2mGuestMemory(v.p2m);
    const at = inst.p2mCopy.page * PAGE + ppn * 8;
    const free = machine.memory.frames.free;
    assert.ok(v.p2m.balloon(ppn), v.p2m.lastRefusal);
    assert.equal(machine.memory.frames.free, free + 1);
    assert.equal(copy.read32(at) >>> 0, 0xffffffff);
    assert.equal(copy.read32(at + 4) >>> 0, 0xffffffff);
    assert.deepEqual(auditMachine(machine), []);
    v.p2m.deflate(ppn);
    assert.equal(v.p2m.stateOf(ppn), 'private', 'repopulated at once: a PV guest has no fault path to back it later');
    assert.equal(copy.read32(at), v.p2m.lookup(ppn));
    assert.deepEqual(auditMachine(machine), []);
    // Once the guest runs, the pages its tables map are refused: writable, read-only, or tables.
    while (!machine.stopped) machine.run(10_000);
    const why = new Set<string>();
    for (let p = 0; p < v.p2m.pages; p++) why.add((v.p2m.whyNot(p, 'balloon') ?? 'ok').replace(/0x[0-9a-f]+/g, 'N').replace(/:.*/s, ''));
    assert.ok(why.has('machine frame N is still in use as writable (type count 1)'), [...why].join(' / '));
    assert.ok(why.has('machine frame N is still mapped read-only by L1 table N'), [...why].join(' / '));
    const table = v.p2m.entries().find(([, m]) => inst.types.isTable(m))!;
    assert.equal(v.p2m.balloon(table[0]), false);
    assert.match(v.p2m.lastRefusal, /page table/);
  });
});
