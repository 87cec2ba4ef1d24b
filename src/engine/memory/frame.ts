// One 4 KiB frame of backing store. The predecoded-instruction cache hangs off the frame so
// that any write to the frame drops it with one field test, without a lookup.
import type { Insn } from '../isa/instruction';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** 32-bit words in a page. */
export const PAGE_WORDS = PAGE_SIZE / 4;

/**
 * Where a frame's bytes are, as 32-bit words: `words[at … at + PAGE_WORDS - 1]`. Physical memory
 * keeps frames in slabs, so a frame is a window on a larger buffer; code that reads whole pages
 * by the million (the sharing scanner) uses this instead of a typed-array view per page.
 */
export interface FrameWords {
  words: Int32Array;
  at: number;
}

/** Watched byte ranges of one frame and who is told when a store touches one. */
export interface FrameWatch {
  /** [offset, length] ranges. */
  ranges: [number, number][];
  /** Called after a store of `size` bytes at `offset` that overlaps a range. */
  onWrite(frame: Frame, offset: number, size: number): void;
}

/** Does a store at [offset, offset+size) touch a watched range? Then tell the watcher. */
export function checkWatch(f: Frame, offset: number, size: number): void {
  const w = f.watch!;
  for (const [o, n] of w.ranges) {
    if (offset < o + n && o < offset + size) {
      w.onWrite(f, offset, size);
      return;
    }
  }
}

export class Frame {
  /** The frame's 4 KiB: a window on a slab of physical memory (or its own buffer, for a frame made alone). */
  readonly data: Uint8Array<ArrayBuffer>;
  readonly view: DataView<ArrayBuffer>;
  /** Decoded instructions by page offset, built lazily by the CPU; null when none. */
  decoded: (Insn | undefined)[] | null = null;
  /** Page offsets holding a debugger breakpoint (null: none; the fetch checks only when set). */
  breakpoints: Set<number> | null = null;
  /** Debugger data breakpoints on this frame (null: none; every store checks this one field). */
  watch: FrameWatch | null = null;

  /** `data`: the frame's bytes (PAGE_SIZE of them, 4-byte aligned); a fresh zeroed page when omitted. */
  constructor(
    readonly number: number,
    data?: Uint8Array<ArrayBuffer>,
  ) {
    this.data = data ?? new Uint8Array(PAGE_SIZE);
    if (this.data.length !== PAGE_SIZE || this.data.byteOffset % 4 !== 0) throw new RangeError(`a frame is ${PAGE_SIZE} bytes at a 4-byte aligned offset`);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, PAGE_SIZE);
  }
}
