// An optional capability of an MMU port: letting the vCPU keep its own memo of the current
// code page (translation + predecoded instructions) and replay TLB hits on it, so that a fetch
// from the same page costs no lookup yet is counted and LRU-stamped exactly as one. The native
// MMU offers it; a port without it simply gets every fetch translated.
import type { AccessCode, MmuPort } from './mmuPort';

export interface HitReplay {
  /** Changes whenever a translation cached outside the port may have changed (fill, drop, control registers). */
  readonly epoch: number;
  /** The slot translate() would hit now (no counting): -1 when it would walk, -2 with paging off. */
  hitSlot(linear: number, access: AccessCode, user: boolean, ac: boolean): number;
  /** Counts and stamps one hit on `slot`, exactly as translate() does on a TLB hit. */
  replayHit(access: AccessCode, slot: number): void;
}

export function hitReplayOf(port: MmuPort): HitReplay | null {
  // A port wrapping a hardware MMU (shadow mode) may hand over that MMU's own hit path, so the
  // vCPU's memos call the very same code (and keep its call sites monomorphic) as natively.
  const delegate = (port as { hitReplay?: HitReplay }).hitReplay;
  if (delegate) return delegate;
  const p = port as MmuPort & Partial<HitReplay>;
  return typeof p.hitSlot === 'function' && typeof p.replayHit === 'function' && typeof p.epoch === 'number' ? (p as MmuPort & HitReplay) : null;
}
