// Collects emitted bytes into sections (one per contiguous run, a new one at each .org jump),
// then merges them into non-overlapping segments. Layout-only passes count bytes without
// storing them, so a large .space costs nothing until the final pass.
import { Segment, SourceLocation } from './types';

/** Output size limit: a guest program is small; a 1 GiB .space is a mistake, not an allocation. */
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** Guest-physical addresses are at most 52 bits (MAXPHYADDR). */
export const MAX_ADDRESS = 2 ** 52;

class Section {
  length = 0;
  private buf: Uint8Array;
  constructor(readonly start: number, readonly loc: SourceLocation, store: boolean) {
    this.buf = new Uint8Array(store ? 64 : 0);
  }
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  append(bytes: ArrayLike<number>, store: boolean): void {
    if (store) {
      this.reserve(bytes.length);
      this.buf.set(bytes, this.length);
    }
    this.length += bytes.length;
  }
  fill(value: number, count: number, store: boolean): void {
    if (store) {
      this.reserve(count);
      this.buf.fill(value, this.length, this.length + count);
    }
    this.length += count;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export interface OverlapError {
  loc: SourceLocation;
  message: string;
}

export class OutputBuilder {
  total = 0;
  private readonly sections: Section[] = [];
  private cur: Section | undefined;

  constructor(readonly store: boolean) {}

  private sectionAt(address: number, loc: SourceLocation): Section {
    if (!this.cur || this.cur.start + this.cur.length !== address) {
      this.cur = new Section(address, loc, this.store);
      this.sections.push(this.cur);
    }
    return this.cur;
  }

  /** Room for n more bytes at address? (Callers report the error.) */
  fits(address: number, n: number): boolean {
    return this.total + n <= MAX_OUTPUT_BYTES && address + n <= MAX_ADDRESS;
  }

  write(address: number, bytes: ArrayLike<number>, loc: SourceLocation): void {
    if (bytes.length === 0) return;
    this.sectionAt(address, loc).append(bytes, this.store);
    this.total += bytes.length;
  }

  fill(address: number, value: number, count: number, loc: SourceLocation): void {
    if (count === 0) return;
    this.sectionAt(address, loc).fill(value, count, this.store);
    this.total += count;
  }

  /** Sorted, merged segments; overlapping sections are reported and left out. */
  segments(): { segments: Segment[]; errors: OverlapError[] } {
    const order = this.sections.map((s, i) => ({ s, i })).sort((x, y) => x.s.start - y.s.start || x.i - y.i);
    const segments: Segment[] = [];
    const errors: OverlapError[] = [];
    let last: { start: number; end: number; parts: Uint8Array[]; loc: SourceLocation } | undefined;
    const flush = (): void => {
      if (!last) return;
      const bytes = new Uint8Array(last.end - last.start);
      let o = 0;
      for (const p of last.parts) {
        bytes.set(p, o);
        o += p.length;
      }
      segments.push({ address: last.start, bytes });
    };
    for (const { s } of order) {
      if (last && s.start < last.end) {
        const hex = (n: number): string => '0x' + n.toString(16);
        errors.push({
          loc: s.loc,
          message: `output at ${hex(s.start)}..${hex(s.start + s.length - 1)} overlaps bytes already placed at ${hex(last.start)}..${hex(last.end - 1)} (from ${last.loc.file}:${last.loc.line})`,
        });
        continue;
      }
      if (last && s.start === last.end) {
        last.parts.push(s.bytes());
        last.end += s.length;
        continue;
      }
      flush();
      last = { start: s.start, end: s.start + s.length, parts: [s.bytes()], loc: s.loc };
    }
    flush();
    return { segments, errors };
  }
}
