// One 4 KiB frame of backing store. The predecoded-instruction cache hangs off the frame so
// that any write to the frame drops it with one field test, without a lookup.
import type { Insn } from '../isa/instruction';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export class Frame {
  readonly data = new Uint8Array(PAGE_SIZE);
  readonly view = new DataView(this.data.buffer);
  /** Decoded instructions by page offset, built lazily by the CPU; null when none. */
  decoded: (Insn | undefined)[] | null = null;
  constructor(readonly number: number) {}
}
