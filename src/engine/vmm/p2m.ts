// The VMM's per-VM physical-to-machine map (ppn → mpn, "pmap" in ESX), and the guest-physical
// memory view built on it. Guest pages get machine frames lazily, on first write (or when a
// mode's policy asks, e.g. on an EPT violation or a shadow fill).
import { PAGE_SIZE } from '../memory/frame';
import type { GuestMemory } from '../memory/guestMemory';
import type { MachineMemory } from '../machine/machineMemory';

export class OutOfMachineMemory extends Error {}

export class P2m {
  readonly pages: number;
  private readonly map: Float64Array;
  private backed = 0;

  constructor(
    readonly machine: MachineMemory,
    readonly owner: number,
    guestBytes: number,
  ) {
    this.pages = Math.ceil(guestBytes / PAGE_SIZE);
    this.map = new Float64Array(this.pages).fill(-1);
  }

  get backedPages(): number {
    return this.backed;
  }

  /** The machine frame backing `ppn`, or -1 (not backed yet, or outside the VM's memory). */
  lookup(ppn: number): number {
    return ppn >= 0 && ppn < this.pages ? this.map[ppn] : -1;
  }

  /** The machine frame backing `ppn`, allocating a zeroed one if needed; -1 outside guest memory. */
  back(ppn: number): number {
    if (ppn < 0 || ppn >= this.pages) return -1;
    const m = this.map[ppn];
    if (m >= 0) return m;
    const mpn = this.machine.allocate(this.owner, 'guest-data', ppn);
    if (mpn === undefined) throw new OutOfMachineMemory(`machine memory exhausted backing guest page ${ppn} of VM ${this.owner}`);
    this.map[ppn] = mpn;
    this.backed++;
    return mpn;
  }

  /**
   * Backs `ppn` with a frame the caller already allocated to this VM (a contiguous run for a
   * large EPT page), replacing any previous frame, which the caller copies and releases.
   */
  backWith(ppn: number, mpn: number): void {
    if (ppn < 0 || ppn >= this.pages) throw new RangeError(`guest page ${ppn} is outside VM ${this.owner}'s memory`);
    if (this.map[ppn] < 0) this.backed++;
    this.map[ppn] = mpn;
  }

  /** Every (ppn, mpn) pair backed, ascending by ppn. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let p = 0; p < this.pages; p++) if (this.map[p] >= 0) out.push([p, this.map[p]]);
    return out;
  }

  /** Releases every frame (VM destroyed). */
  releaseAll(): void {
    for (let p = 0; p < this.pages; p++) {
      if (this.map[p] >= 0) this.machine.release(this.map[p]);
      this.map[p] = -1;
    }
    this.backed = 0;
  }
}

/** Guest-physical memory through the p2m: reads of unbacked pages see zeros without backing them. */
export class P2mGuestMemory implements GuestMemory {
  readonly size: number;

  constructor(readonly p2m: P2m) {
    this.size = p2m.pages * PAGE_SIZE;
  }

  get touchedFrames(): number {
    return this.p2m.backedPages;
  }

  /** Machine address of gpa, or -1 when unbacked (and `back` is false) or outside memory. */
  machineAddress(gpa: number, back: boolean): number {
    if (gpa < 0 || gpa >= this.size) return -1;
    const ppn = Math.floor(gpa / PAGE_SIZE);
    const mpn = back ? this.p2m.back(ppn) : this.p2m.lookup(ppn);
    return mpn < 0 ? -1 : mpn * PAGE_SIZE + (gpa % PAGE_SIZE);
  }

  read8(gpa: number): number {
    if (gpa >= this.size) return 0xff;
    const ma = this.machineAddress(gpa, false);
    return ma < 0 ? 0 : this.p2m.machine.bytes.read8(ma);
  }

  write8(gpa: number, v: number): void {
    const ma = this.machineAddress(gpa, true);
    if (ma >= 0) this.p2m.machine.bytes.write8(ma, v);
  }

  readU(gpa: number, bytes: 1 | 2 | 4): number {
    if ((gpa % PAGE_SIZE) + bytes <= PAGE_SIZE && gpa + bytes <= this.size) {
      const ma = this.machineAddress(gpa, false);
      return ma < 0 ? 0 : this.p2m.machine.bytes.readU(ma, bytes);
    }
    let v = 0;
    for (let i = bytes - 1; i >= 0; i--) v = v * 256 + this.read8(gpa + i);
    return v;
  }

  writeU(gpa: number, bytes: 1 | 2 | 4, value: number): void {
    if ((gpa % PAGE_SIZE) + bytes <= PAGE_SIZE && gpa + bytes <= this.size) {
      const ma = this.machineAddress(gpa, true);
      if (ma >= 0) this.p2m.machine.bytes.writeU(ma, bytes, value);
      return;
    }
    for (let i = 0; i < bytes; i++) this.write8(gpa + i, Math.floor(value / 2 ** (8 * i)) & 0xff);
  }

  read32(gpa: number): number {
    return this.readU(gpa, 4);
  }

  write32(gpa: number, v: number): void {
    this.writeU(gpa, 4, v);
  }

  writeBytes(gpa: number, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.write8(gpa + i, bytes[i]);
  }

  readBytes(gpa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(gpa + i);
    return out;
  }
}
