// A simulated disk of page-sized slots: the VMM's per-VM swap file (ESX's .vswp) and the guest's
// own disk (the guest-disk device builds one). Contents are kept sparsely — only slots in use
// hold bytes, and an all-zero page holds none — so a large, mostly empty disk costs nothing.
//
// Latency is a number of cycles per I/O, the same for every slot: a random-access disk has no
// useful locality for page-sized I/O, and ESX's swap file is written in clusters but read back
// one page at a time on a fault. The default is 10 ms, a 7200 rpm disk's random read (about
// 8 ms average seek + 4 ms half rotation, rounded down for command queueing), at the simulated
// clock rate: 10,000 cycles on the default 1 MHz clock. The device only reports latencies;
// whoever waits charges them (the p2m charges a swap-in to the faulting VM; the VMM writes
// out asynchronously and charges nothing).
import { PAGE_SIZE } from '../frame';
import { DEFAULT_CYCLES_PER_SECOND } from './clock';

/** A 7200 rpm disk's random 4 KiB access, in seconds (see the file comment). */
export const DEFAULT_DISK_LATENCY_S = 0.010;

export const DEFAULT_DISK_LATENCY_CYCLES = Math.round(DEFAULT_DISK_LATENCY_S * DEFAULT_CYCLES_PER_SECOND);

export interface SwapDeviceOptions {
  name: string;
  /** Slots the device holds; Infinity: unbounded (a swap file that grows). */
  capacitySlots: number;
  readLatencyCycles: number;
  writeLatencyCycles: number;
}

export interface SwapDeviceCounters {
  reads: number;
  writes: number;
  /** Slots holding a page now, and the most ever. */
  slotsUsed: number;
  peakSlotsUsed: number;
  /** Writes refused because the device was full. */
  fullRefusals: number;
}

const ZERO_PAGE = new Uint8Array(0);

export class SwapDevice {
  readonly options: SwapDeviceOptions;
  readonly counters: SwapDeviceCounters = { reads: 0, writes: 0, slotsUsed: 0, peakSlotsUsed: 0, fullRefusals: 0 };
  /** Slot → contents (ZERO_PAGE for a page of zeros). Absent: the slot is free. */
  private readonly contents = new Map<number, Uint8Array>();
  /** Freed slots, reused lowest-last (a stack): a swap file does not grow while it has holes. */
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  constructor(options: Partial<SwapDeviceOptions> = {}) {
    this.options = {
      name: 'disk', capacitySlots: Infinity, readLatencyCycles: DEFAULT_DISK_LATENCY_CYCLES, writeLatencyCycles: DEFAULT_DISK_LATENCY_CYCLES, ...options,
    };
    const o = this.options;
    if (!(o.readLatencyCycles >= 0 && o.writeLatencyCycles >= 0)) throw new RangeError(`disk latencies must be ≥ 0 cycles (${o.readLatencyCycles}, ${o.writeLatencyCycles})`);
  }

  get readLatency(): number {
    return this.options.readLatencyCycles;
  }

  get writeLatency(): number {
    return this.options.writeLatencyCycles;
  }

  /** Slots the device holds (its capacity; Infinity for a growing swap file). */
  get slots(): number {
    return this.options.capacitySlots;
  }

  /** Cycles one page transfer takes (the guest disk's DiskStore view). */
  latency(op: 'read' | 'write'): number {
    return op === 'read' ? this.options.readLatencyCycles : this.options.writeLatencyCycles;
  }

  /** Slots in use. */
  get used(): number {
    return this.contents.size;
  }

  isUsed(slot: number): boolean {
    return this.contents.has(slot);
  }

  /** A free slot (not yet written), or -1 when the device is full. */
  allocate(): number {
    while (this.freeSlots.length > 0) {
      const s = this.freeSlots.pop()!;
      if (!this.contents.has(s)) return s;
    }
    while (this.nextSlot < this.options.capacitySlots) {
      const s = this.nextSlot++;
      if (!this.contents.has(s)) return s;
    }
    this.counters.fullRefusals++;
    return -1;
  }

  /** Writes a page into `slot` (a slot from allocate(), or any block number below capacity for a disk used by block address). */
  write(slot: number, page: Uint8Array): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.options.capacitySlots)) throw new RangeError(`${this.options.name}: slot ${slot} is outside the device`);
    if (page.length !== PAGE_SIZE) throw new RangeError(`${this.options.name}: a slot holds ${PAGE_SIZE} bytes, not ${page.length}`);
    const fresh = !this.contents.has(slot);
    this.contents.set(slot, isZero(page) ? ZERO_PAGE : page.slice());
    if (fresh) {
      if (slot >= this.nextSlot) this.nextSlot = slot + 1;
      this.counters.slotsUsed = this.contents.size;
      this.counters.peakSlotsUsed = Math.max(this.counters.peakSlotsUsed, this.contents.size);
    }
    this.counters.writes++;
  }

  /** Allocates a slot and writes the page to it: the slot, or -1 when full. */
  store(page: Uint8Array): number {
    const s = this.allocate();
    if (s >= 0) this.write(s, page);
    return s;
  }

  /** A copy of the page in `slot` (zeros for a slot never written). */
  read(slot: number): Uint8Array {
    const d = this.contents.get(slot);
    this.counters.reads++;
    const out = new Uint8Array(PAGE_SIZE);
    if (d && d.length > 0) out.set(d);
    return out;
  }

  /** Frees a slot (its page was read back for good, or dropped). */
  free(slot: number): void {
    if (!this.contents.delete(slot)) return;
    this.freeSlots.push(slot);
    this.counters.slotsUsed = this.contents.size;
  }

  /** Every slot in use (ascending): for the audit. */
  usedSlots(): number[] {
    return [...this.contents.keys()].sort((a, b) => a - b);
  }
}

function isZero(page: Uint8Array): boolean {
  if (page.byteOffset % 4 === 0) {
    const w = new Uint32Array(page.buffer, page.byteOffset, page.byteLength >>> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < page.length; i++) if (page[i] !== 0) return false;
  return true;
}
