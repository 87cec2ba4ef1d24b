// Sparse physical memory: frames exist only once written, so a 4 GiB guest that touches
// 40 pages costs 40 pages. Reads of untouched frames see zeros; addresses at or above `size`
// are not backed: reads see all ones (as an x86 bus returns for a hole) and writes are dropped.
//
// Storage: a written frame gets a slot in a slab — one ArrayBuffer for up to 256 frames (1 MiB;
// the first slabs are smaller, 16 frames doubling, so a small machine does not pay 1 MiB) —
// and a `Frame` whose `data` is a window on its slot. A buffer per frame cost V8 and allocator
// bookkeeping (slabs save 110–125 bytes of heap and buffers and 300–550 of RSS per written page)
// and, in the scale benchmark (bench/overcommit.ts: 16 VMs materialising 130,000 frames), 12 %
// of the profile in making the buffers; slabs bring that to 2 %. Frame numbers find their slot through an index of Int32Array chunks (512 frames,
// 2 KiB each), allocated only where frames were written — plus 8 bytes of chunk list per 2 MiB
// of address space below the highest frame written: memory stays proportional to the frames
// written.
//
// A Frame, once made, is never replaced or dropped (vCPUs cache Frame objects by frame number;
// zeroFrame clears in place), so a slot belongs to its frame for good: a released machine
// frame keeps its slot and gets it back, zeroed, when the frame table hands the frame out
// again. The time-travel snapshot (stateSnapshot.ts) walks this object like any other: it copies
// each frame's 4 KiB through `Frame.data` and the index chunks, never a whole slab (slabs are
// held as bare ArrayBuffers, which it does not copy), and its restore rolls the slot counter
// back with the frames, so slots taken since are reused — zeroed first (see #dirtyTop).
import { Frame, PAGE_SHIFT, PAGE_SIZE, PAGE_WORDS, checkWatch } from './frame';
import type { FrameWords } from './frame';
import type { GuestMemory } from './guestMemory';

/** Frames per index chunk (a chunk costs 2 KiB and covers 2 MiB of physical memory). */
const CHUNK_SHIFT = 9;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;
/** Slot numbers: slab = slot >> SLAB_SHIFT, frame within the slab = slot & SLAB_MASK. */
const SLAB_SHIFT = 8;
const SLAB_MASK = (1 << SLAB_SHIFT) - 1;
/** The first slab's frames; each next slab doubles, up to 1 << SLAB_SHIFT (1 MiB). */
const FIRST_SLAB_FRAMES = 16;

/** Frames in slab k: 16, 32, 64, 128, then 256 (1 MiB) each. */
function slabFrames(k: number): number {
  return Math.min(FIRST_SLAB_FRAMES * 2 ** Math.min(k, SLAB_SHIFT), 1 << SLAB_SHIFT);
}

export class PhysicalMemory implements GuestMemory {
  /** Frame number → slot + 1 (0: never written), in chunks of 512 frames; a hole where none was written. */
  private readonly index: (Int32Array | undefined)[] = [];
  /** The Frame in each slot. */
  private readonly bySlot: Frame[] = [];
  /** Slab k holds slots k << SLAB_SHIFT … (as many as fit its buffer). */
  private readonly slabs: ArrayBuffer[] = [];
  /** The next slot to hand out, and frames written so far. */
  private nextSlot = 0;
  private frameCount = 0;
  /**
   * Views on the slabs as 32-bit words (wordsOf), kept out of the snapshot's sight (a private
   * field): a word view of a whole slab would otherwise be copied with every snapshot.
   * Rebuilt when a restore has replaced the slab it was made for.
   */
  #slabWords: Int32Array[] = [];
  /** Slots below this may hold bytes (a snapshot restore gave them back): zeroed when reused. */
  #dirtyTop = 0;

  /** Bytes of addressable memory. */
  constructor(readonly size: number) {}

  get touchedFrames(): number {
    return this.frameCount;
  }

  /** Bytes of slab the frames live in (for the memory figures: ≥ touchedFrames × 4 KiB). */
  get slabBytes(): number {
    let n = 0;
    for (const s of this.slabs) n += s.byteLength;
    return n;
  }

  isBacked(pa: number): boolean {
    return pa >= 0 && pa < this.size;
  }

  /** The frame if it has been written, else undefined (its content is zero). */
  peekFrame(frameNumber: number): Frame | undefined {
    const slot = this.slotOf(frameNumber);
    return slot < 0 ? undefined : this.bySlot[slot];
  }

  /** The frame, allocated if needed; undefined when the frame is outside memory. */
  frameForWrite(frameNumber: number): Frame | undefined {
    const slot = this.slotOf(frameNumber);
    if (slot >= 0) return this.bySlot[slot];
    if (frameNumber * PAGE_SIZE >= this.size || frameNumber < 0 || !Number.isInteger(frameNumber)) return undefined;
    return this.materialize(frameNumber);
  }

  /**
   * Points `out` at frame `frameNumber`'s bytes as 32-bit words, without a view per frame; false
   * (out untouched) when the frame was never written — its content is zero.
   */
  wordsOf(frameNumber: number, out: FrameWords): boolean {
    const slot = this.slotOf(frameNumber);
    if (slot < 0) return false;
    const k = slot >>> SLAB_SHIFT;
    let words = this.#slabWords[k];
    if (words === undefined || words.buffer !== this.slabs[k]) words = this.#slabWords[k] = new Int32Array(this.slabs[k]);
    out.words = words;
    out.at = (slot & SLAB_MASK) * PAGE_WORDS;
    return true;
  }

  /** The slot of a written frame, else -1. */
  private slotOf(frameNumber: number): number {
    const c = frameNumber >>> CHUNK_SHIFT;
    // Frame numbers ≥ 2^32 (and negative or fractional ones) are never written: see frameForWrite.
    if (c >= this.index.length || frameNumber !== (frameNumber >>> 0)) return -1;
    const chunk = this.index[c];
    return chunk === undefined ? -1 : chunk[frameNumber & CHUNK_MASK] - 1;
  }

  private materialize(frameNumber: number): Frame {
    if (frameNumber !== frameNumber >>> 0) throw new RangeError(`frame number ${frameNumber} is too large for the frame index`);
    let slot = this.nextSlot;
    let k = slot >>> SLAB_SHIFT;
    if (k >= this.slabs.length || (slot & SLAB_MASK) * PAGE_SIZE >= this.slabs[k].byteLength) {
      // The last slab is full: start the next (numbering skips the slots a small slab lacks).
      if (k < this.slabs.length) k++;
      slot = k << SLAB_SHIFT;
      this.slabs.push(new ArrayBuffer(slabFrames(k) * PAGE_SIZE));
    }
    this.nextSlot = slot + 1;
    const data = new Uint8Array(this.slabs[k], (slot & SLAB_MASK) * PAGE_SIZE, PAGE_SIZE);
    if (slot < this.#dirtyTop) data.fill(0);
    else this.#dirtyTop = slot + 1;
    const f = new Frame(frameNumber, data);
    const c = frameNumber >>> CHUNK_SHIFT;
    while (this.index.length <= c) this.index.push(undefined);
    const chunk = (this.index[c] ??= new Int32Array(1 << CHUNK_SHIFT));
    chunk[frameNumber & CHUNK_MASK] = slot + 1;
    this.bySlot[slot] = f;
    this.frameCount++;
    return f;
  }

  /**
   * Zeroes a frame for reuse. The Frame object stays: vCPUs keep references to frames in their
   * caches, so a frame is never replaced, only cleared (its decoded instructions with it).
   */
  zeroFrame(frameNumber: number): void {
    const f = this.peekFrame(frameNumber);
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
    const f = this.peekFrame(Math.floor(pa / PAGE_SIZE));
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
    const out: Frame[] = [];
    for (const chunk of this.index) {
      if (chunk === undefined) continue;
      for (const slot of chunk) if (slot !== 0) out.push(this.bySlot[slot - 1]);
    }
    return out;
  }

  read8(pa: number): number {
    if (pa >= this.size) return 0xff;
    const f = this.peekFrame(Math.floor(pa / PAGE_SIZE));
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
      const f = this.peekFrame(Math.floor(pa / PAGE_SIZE));
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
