// Sparse physical memory: frames exist only once written, so a 4 GiB guest that touches
// 40 pages costs 40 pages. Reads of untouched frames see zeros; addresses at or above `size`
// are not backed: reads see all ones (as an x86 bus returns for a hole) and writes are dropped.
import { Frame, PAGE_SHIFT, PAGE_SIZE, checkWatch } from './frame';
import type { GuestMemory } from './guestMemory';

export class PhysicalMemory implements GuestMemory {
  private readonly frames = new Map<number, Frame>();
  /** Bytes of addressable memory. */
  constructor(readonly size: number) {}

  get touchedFrames(): number {
    return this.frames.size;
  }

  isBacked(pa: number): boolean {
    return pa >= 0 && pa < this.size;
  }

  /** The frame if it has been written, else undefined (its content is zero). */
  peekFrame(frameNumber: number): Frame | undefined {
    return this.frames.get(frameNumber);
  }

  /** The frame, allocated if needed; undefined when the frame is outside memory. */
  frameForWrite(frameNumber: number): Frame | undefined {
    let f = this.frames.get(frameNumber);
    if (f) return f;
    if (frameNumber * PAGE_SIZE >= this.size || frameNumber < 0) return undefined;
    f = new Frame(frameNumber);
    this.frames.set(frameNumber, f);
    return f;
  }

  /**
   * Zeroes a frame for reuse. The Frame object stays: vCPUs keep references to frames in their
   * caches, so a frame is never replaced, only cleared (its decoded instructions with it).
   */
  zeroFrame(frameNumber: number): void {
    const f = this.frames.get(frameNumber);
    if (!f) return;
    f.data.fill(0);
    f.decoded = null;
  }

  /**
   * A debugger breakpoint on the instruction at physical address pa: any fetch of it, through
   * any mapping, stops the vCPU before it runs. Returns false outside memory.
   */
  addBreakpoint(pa: number): boolean {
    const f = this.frameForWrite(Math.floor(pa / PAGE_SIZE));
    if (!f) return false;
    const off = pa % PAGE_SIZE;
    (f.breakpoints ??= new Set()).add(off);
    // The fetch checks breakpoints before its cache: drop what is cached at that offset.
    if (f.decoded !== null) f.decoded[off] = undefined;
    return true;
  }

  removeBreakpoint(pa: number): void {
    const f = this.frames.get(Math.floor(pa / PAGE_SIZE));
    if (!f || !f.breakpoints) return;
    f.breakpoints.delete(pa % PAGE_SIZE);
    if (f.breakpoints.size === 0) f.breakpoints = null;
  }

  /**
   * A data breakpoint: every store (by a vCPU, a page walk's A/D update, the VMM) that touches
   * [pa, pa+length) calls onWrite afterwards. Ranges may not cross a frame: split them.
   * Returns a function that removes it.
   */
  addWatch(pa: number, length: number, onWrite: (frame: Frame, offset: number, size: number) => void): () => void {
    const remove: (() => void)[] = [];
    let at = pa;
    const end = pa + length;
    while (at < end) {
      const fn = Math.floor(at / PAGE_SIZE);
      const f = this.frameForWrite(fn);
      const stop = Math.min(end, (fn + 1) * PAGE_SIZE);
      if (f) {
        const range: [number, number] = [at % PAGE_SIZE, stop - at];
        if (f.watch === null) f.watch = { ranges: [], onWrite };
        const w = f.watch;
        w.ranges.push(range);
        w.onWrite = onWrite;
        remove.push(() => {
          const i = w.ranges.indexOf(range);
          if (i >= 0) w.ranges.splice(i, 1);
          if (w.ranges.length === 0 && f.watch === w) f.watch = null;
        });
      }
      at = stop;
    }
    return () => remove.forEach((r) => r());
  }

  /** Every frame written so far, ordered by number. */
  allFrames(): Frame[] {
    return [...this.frames.values()].sort((a, b) => a.number - b.number);
  }

  read8(pa: number): number {
    if (pa >= this.size) return 0xff;
    const f = this.frames.get(Math.floor(pa / PAGE_SIZE));
    return f ? f.data[pa % PAGE_SIZE] : 0;
  }

  write8(pa: number, v: number): void {
    const f = this.frameForWrite(Math.floor(pa / PAGE_SIZE));
    if (!f) return;
    f.decoded = null;
    f.data[pa % PAGE_SIZE] = v;
    if (f.watch !== null) checkWatch(f, pa % PAGE_SIZE, 1);
  }

  /** Little-endian read of 1, 2 or 4 bytes; may cross a frame boundary. */
  readU(pa: number, bytes: 1 | 2 | 4): number {
    const off = pa % PAGE_SIZE;
    if (off + bytes <= PAGE_SIZE && pa + bytes <= this.size) {
      const f = this.frames.get(Math.floor(pa / PAGE_SIZE));
      if (!f) return 0;
      return bytes === 4 ? f.view.getUint32(off, true) : bytes === 2 ? f.view.getUint16(off, true) : f.data[off];
    }
    let v = 0;
    for (let i = bytes - 1; i >= 0; i--) v = v * 256 + this.read8(pa + i);
    return v;
  }

  writeU(pa: number, bytes: 1 | 2 | 4, value: number): void {
    const off = pa % PAGE_SIZE;
    if (off + bytes <= PAGE_SIZE && pa + bytes <= this.size) {
      const f = this.frameForWrite(Math.floor(pa / PAGE_SIZE));
      if (!f) return;
      f.decoded = null;
      if (bytes === 4) f.view.setUint32(off, value >>> 0, true);
      else if (bytes === 2) f.view.setUint16(off, value & 0xffff, true);
      else f.data[off] = value & 0xff;
      if (f.watch !== null) checkWatch(f, off, bytes);
      return;
    }
    for (let i = 0; i < bytes; i++) this.write8(pa + i, Math.floor(value / 2 ** (8 * i)) & 0xff);
  }

  read32(pa: number): number {
    return this.readU(pa, 4);
  }

  write32(pa: number, v: number): void {
    this.writeU(pa, 4, v);
  }

  /** Copies bytes in (e.g. loading a program image). */
  writeBytes(pa: number, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.write8(pa + i, bytes[i]);
  }

  readBytes(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(pa + i);
    return out;
  }
}

export { PAGE_SHIFT, PAGE_SIZE };
