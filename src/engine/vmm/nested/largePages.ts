// Backing for large EPT pages. A 2 MiB (1 GiB) EPT leaf needs 512 (262,144) guest pages
// backed by one aligned, contiguous run of machine frames. Pages the loader already backed one
// by one are moved into such a run ("collapsing" them, as Linux's khugepaged does for the
// transparent huge pages KVM maps large); when no aligned run is free, the VMM falls back to a
// smaller page, as KVM does when the host backing is not huge.
import type { MachineMemory } from '../../machine/machineMemory';
import { NO_OWNER } from '../../machine/frameTable';
import type { P2m } from '../p2m';

/** First frame of a free, `frames`-aligned run of `frames` machine frames, or -1. */
export function findFreeRun(machine: MachineMemory, frames: number): number {
  const t = machine.frames;
  for (let start = frames; start + frames <= t.total; start += frames) {
    let free = true;
    for (let f = start + frames - 1; f >= start; f--) {
      if (t.ownerOf(f) !== NO_OWNER) {
        free = false;
        break;
      }
    }
    if (free) return start;
  }
  return -1;
}

/** Whether ppn..ppn+frames-1 are backed by the aligned run starting at their first frame. */
export function backedContiguously(p2m: P2m, firstPpn: number, frames: number): boolean {
  const m0 = p2m.lookup(firstPpn);
  if (m0 < 0 || m0 % frames !== 0) return false;
  for (let i = 1; i < frames; i++) if (p2m.lookup(firstPpn + i) !== m0 + i) return false;
  return true;
}

export interface Collapse {
  runMpn: number;
  /** Pages whose earlier (scattered) frame was copied into the run and released. */
  moved: number;
  /** Pages that had no frame yet. */
  fresh: number;
}

/**
 * Backs guest pages firstPpn.. with an aligned run of machine frames, moving any existing
 * backing into it. None of these pages may be mapped in the EPT (the caller checked), so no
 * translation anywhere refers to the frames released. null when no run is free.
 */
export function collapseIntoRun(machine: MachineMemory, p2m: P2m, owner: number, firstPpn: number, frames: number): Collapse | null {
  const run = findFreeRun(machine, frames);
  if (run < 0) return null;
  let moved = 0;
  for (let i = 0; i < frames; i++) {
    const mpn = run + i;
    if (!machine.frames.allocateAt(mpn, owner, 'guest-data', firstPpn + i)) throw new Error(`internal: frame ${mpn} of a free run is taken`);
    machine.bytes.zeroFrame(mpn);
    const old = p2m.lookup(firstPpn + i);
    if (old >= 0) {
      const src = machine.bytes.peekFrame(old);
      if (src) {
        const dst = machine.bytes.frameForWrite(mpn)!;
        dst.data.set(src.data);
        dst.decoded = null;
      }
      machine.release(old);
      moved++;
    }
    p2m.backWith(firstPpn + i, mpn);
  }
  return { runMpn: run, moved, fresh: frames - moved };
}
