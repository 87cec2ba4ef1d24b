// The guest disk: a device with page-sized slots the teaching kernel swaps to (swap.s). The
// driver names a slot and a guest page, then a command; the page moves by DMA through the VMM's
// guest-memory view (dmaMemory.ts) and the vCPU waits for the disk: the latency is charged to the
// VM as stall cycles. Ports and bits: guestDiskPorts.ts; docs/overcommit/guest-swap.md.
import type { EventBus } from '../../../events';
import type { PortDevice } from '../../../devices';
import type { DmaMemory } from './dmaMemory';
import { DISK_PORTS, DiskCommand, DiskPort, DiskStatus } from './guestDiskPorts';
import type { SwapDevice } from '../swapDevice';

export interface GuestDiskCounters {
  reads: number;
  writes: number;
  errors: number;
  /** Cycles the VM waited for the disk. */
  stallCycles: number;
}

export interface GuestDiskParams {
  /** The medium: a simulated disk with a finite number of slots, used by block address. */
  store: SwapDevice;
  dma: DmaMemory;
  bus: EventBus;
  /** Charges the VM for waiting on the disk (the machine's per-VM stall cycles). */
  stall: (cycles: number) => void;
  stamp: (vcpu: number) => { icount: number; rip: bigint };
}

export class GuestDisk implements PortDevice {
  readonly name = 'guest disk';
  readonly ports = DISK_PORTS;
  readonly counters: GuestDiskCounters = { reads: 0, writes: 0, errors: 0, stallCycles: 0 };
  private slot = 0;
  private ppn = 0;
  private lastOk = true;
  private ran = false;

  constructor(private readonly p: GuestDiskParams) {}

  in(_vcpu: number, port: number, size: number): number {
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    if (port === DiskPort.STATUS) return (DiskStatus.PRESENT | (this.ran && this.lastOk ? DiskStatus.DONE : 0) | (this.lastOk ? 0 : DiskStatus.ERROR)) & mask;
    if (port === DiskPort.SLOTS) return Math.min(this.p.store.options.capacitySlots, 0x7fffffff) & mask;
    return mask;
  }

  out(vcpu: number, port: number, _size: number, value: number): void {
    const v = value >>> 0;
    if (port === DiskPort.SLOT) this.slot = v;
    else if (port === DiskPort.PPN) this.ppn = v;
    else if (port === DiskPort.COMMAND) this.command(v, vcpu);
  }

  private command(cmd: number, vcpu: number): void {
    this.ran = true;
    const { store, dma } = this.p;
    if ((cmd !== DiskCommand.READ && cmd !== DiskCommand.WRITE) || this.slot >= store.options.capacitySlots || this.ppn >= dma.pages) {
      this.lastOk = false;
      this.counters.errors++;
      return;
    }
    this.lastOk = true;
    const op = cmd === DiskCommand.READ ? 'read' : 'write';
    const latency = op === 'read' ? store.readLatency : store.writeLatency;
    if (op === 'write') {
      // The page leaves through the VMM's view: a page the VMM swapped out comes back in first.
      store.write(this.slot, dma.readPage(this.ppn));
      this.counters.writes++;
    } else {
      dma.writePage(this.ppn, store.read(this.slot));
      this.counters.reads++;
    }
    this.counters.stallCycles += latency;
    this.p.stall(latency);
    this.emit(op, latency, vcpu);
  }

  private emit(op: 'read' | 'write', latency: number, vcpu: number): void {
    const bus = this.p.bus;
    if (op === 'write' && bus.wants['swap-out']) {
      bus.emit({ kind: 'swap-out', ppn: this.ppn, slot: this.slot, by: 'guest', victim: 'guest', vcpu, ...this.p.stamp(vcpu) });
    } else if (op === 'read' && bus.wants['swap-in']) {
      bus.emit({ kind: 'swap-in', ppn: this.ppn, slot: this.slot, by: 'guest', latency, cause: 'guest disk read', vcpu, ...this.p.stamp(vcpu) });
    }
  }
}
