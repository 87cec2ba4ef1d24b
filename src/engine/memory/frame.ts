// One 4 KiB frame of backing store. The predecoded-instruction cache hangs off the frame so
// that any write to the frame drops it with one field test, without a lookup.
import type { Insn } from '../isa/instruction';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

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
  readonly data = new Uint8Array(PAGE_SIZE);
  readonly view = new DataView(this.data.buffer);
  /** Decoded instructions by page offset, built lazily by the CPU; null when none. */
  decoded: (Insn | undefined)[] | null = null;
  /** Page offsets holding a debugger breakpoint (null: none; the fetch checks only when set). */
  breakpoints: Set<number> | null = null;
  /** Debugger data breakpoints on this frame (null: none; every store checks this one field). */
  watch: FrameWatch | null = null;
  constructor(readonly number: number) {}
}
