// The guest disk: its ports, a round trip of a page, errors, the stall it charges, and its DMA
// through the VMM — a write of a page the VMM swapped out is double paging.
import { strict as assert } from 'node:assert';
import { GuestDisk } from '../../../../src/engine/memory/overcommit/guest/guestDisk';
import { DiskCommand, DiskPort, DiskStatus } from '../../../../src/engine/memory/overcommit/guest/guestDiskPorts';
import { nativeDma, p2mDma } from '../../../../src/engine/memory/overcommit/guest/dmaMemory';
import type { DmaMemory } from '../../../../src/engine/memory/overcommit/guest/dmaMemory';
import { SwapDevice } from '../../../../src/engine/memory/overcommit/swapDevice';
import { PhysicalMemory } from '../../../../src/engine/memory/physicalMemory';
import { EventBus } from '../../../../src/engine/events';
import type { EngineEvent } from '../../../../src/engine/events';
import { MachineMemory } from '../../../../src/engine/machine/machineMemory';
import { P2m } from '../../../../src/engine/vmm/p2m';

const LATENCY = 777;

function disk(dma: DmaMemory, slots = 8) {
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.on('*', (e) => events.push(e));
  const stalls: number[] = [];
  const store = new SwapDevice({ name: 'test.disk', capacitySlots: slots, readLatencyCycles: LATENCY, writeLatencyCycles: LATENCY });
  const d = new GuestDisk({ store, dma, bus, stall: (c) => stalls.push(c), stamp: () => ({ icount: 0, rip: 0n }) });
  const io = (slot: number, ppn: number, cmd: number): number => {
    d.out(0, DiskPort.SLOT, 4, slot);
    d.out(0, DiskPort.PPN, 4, ppn);
    d.out(0, DiskPort.COMMAND, 4, cmd);
    return d.in(0, DiskPort.STATUS, 4);
  };
  return { d, io, events, stalls, store };
}

describe('guest disk', () => {
  it('reports presence and size; no command run yet', () => {
    const { d } = disk(nativeDma(new PhysicalMemory(1 << 20)), 32);
    assert.equal(d.in(0, DiskPort.STATUS, 4), DiskStatus.PRESENT);
    assert.equal(d.in(0, DiskPort.SLOTS, 4), 32);
    assert.equal(d.in(0, DiskPort.SLOT, 4), 0xffffffff, 'write-only');
  });

  it('writes a page out and reads it back into another page, charging the latency each time', () => {
    const mem = new PhysicalMemory(1 << 20);
    for (let i = 0; i < 4096; i += 8) mem.writeU(3 * 4096 + i, 4, i * 7 + 1);
    const { d, io, events, stalls } = disk(nativeDma(mem));
    assert.equal(io(5, 3, DiskCommand.WRITE), DiskStatus.PRESENT | DiskStatus.DONE);
    assert.equal(io(5, 9, DiskCommand.READ), DiskStatus.PRESENT | DiskStatus.DONE);
    assert.deepEqual(mem.readBytes(9 * 4096, 4096), mem.readBytes(3 * 4096, 4096));
    assert.deepEqual(stalls, [LATENCY, LATENCY]);
    assert.deepEqual(d.counters, { reads: 1, writes: 1, errors: 0, stallCycles: 2 * LATENCY });
    assert.deepEqual(events.map((e) => [e.kind, 'by' in e ? e.by : '', 'slot' in e ? e.slot : -1]), [['swap-out', 'guest', 5], ['swap-in', 'guest', 5]]);
  });

  const errors: [string, number, number, number][] = [
    ['a slot past the end', 8, 1, DiskCommand.WRITE],
    ['a page past guest memory', 0, 256, DiskCommand.READ],
    ['an unknown command', 0, 1, 3],
  ];
  for (const [name, slot, ppn, cmd] of errors) {
    it(`refuses ${name}, without a stall`, () => {
      const { d, io, stalls } = disk(nativeDma(new PhysicalMemory(1 << 20)));
      assert.equal(io(slot, ppn, cmd), DiskStatus.PRESENT | DiskStatus.ERROR);
      assert.equal(d.counters.errors, 1);
      assert.deepEqual(stalls, []);
    });
  }

  it('reads a never-written slot as zeros', () => {
    const mem = new PhysicalMemory(1 << 20);
    mem.write8(2 * 4096 + 5, 0x55);
    const { io } = disk(nativeDma(mem));
    io(4, 2, DiskCommand.READ);
    assert.equal(mem.read8(2 * 4096 + 5), 0);
  });

  describe('DMA through the p2m', () => {
    function vmm() {
      const machine = new MachineMemory(4 << 20);
      const p2m = new P2m(machine, 1, 1 << 20);
      return { machine, p2m };
    }

    it('a disk write of a page the VMM swapped out brings it in first: double paging', () => {
      const { machine, p2m } = vmm();
      const mpn = p2m.back(6);
      machine.bytes.write8(mpn * 4096 + 10, 0xab);
      assert.ok(p2m.swapOut(6), p2m.lastRefusal);
      assert.equal(p2m.stateOf(6), 'swapped');
      const { io, store } = disk(p2mDma(p2m));
      io(2, 6, DiskCommand.WRITE);
      assert.equal(p2m.counters.doublePaging, 1);
      assert.equal(p2m.stateOf(6), 'private', 'swapped in to be written out');
      assert.equal(store.read(2)[10], 0xab, 'the guest disk got the real contents');
    });

    it('a disk write of a resident page is no double paging; of an unbacked page writes zeros without backing it', () => {
      const { p2m } = vmm();
      p2m.back(1);
      const { io } = disk(p2mDma(p2m));
      io(0, 1, DiskCommand.WRITE);
      io(1, 2, DiskCommand.WRITE);
      assert.equal(p2m.counters.doublePaging, 0);
      assert.equal(p2m.stateOf(2), 'unbacked');
    });

    it('a disk read backs the target page and fills it', () => {
      const { machine, p2m } = vmm();
      const { io, store } = disk(p2mDma(p2m));
      const page = new Uint8Array(4096);
      page[100] = 0x77;
      store.write(3, page);
      io(3, 12, DiskCommand.READ);
      assert.equal(p2m.stateOf(12), 'private');
      assert.equal(machine.bytes.read8(p2m.lookup(12) * 4096 + 100), 0x77);
    });
  });
});
