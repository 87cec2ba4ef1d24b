// The differential reclaim fuzz's engine: runs an example under a hypervisor mode while, every
// K instructions, random resident pages are swapped out and random pages are remapped to a
// shared frame with the same contents — reclamation the guest must not be able to notice — with
// the machine-wide MMU audit after every step. Its console and exit must equal native's.
import { runProgram, startProgram, summarize } from '../../../../src/engine/runner';
import type { LoadedProgram, RunSummary } from '../../../../src/engine/runner';
import type { MemoryMode } from '../../../../src/engine/vm';
import type { RunOptions } from '../../../../src/engine/runner';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { seededRandom } from '../../../../src/engine/memory/overcommit/seededRandom';
import type { P2m } from '../../../../src/engine/vmm/p2m';

export interface FuzzOptions {
  mode: Exclude<MemoryMode, 'native' | 'paravirt'>;
  seed: number;
  /** Instructions between reclamation steps. */
  every: number;
  /** Pages swapped out per step (at most). */
  swapsPerStep: number;
  /** Pages shared per step (at most). */
  sharesPerStep: number;
  /** Pages sampled (mappings dropped) per step. */
  samplesPerStep: number;
  maxSteps: number;
  modeOptions?: RunOptions['modeOptions'];
}

export interface FuzzResult {
  summary: RunSummary;
  /** The first audit violations, if any (the run stops there). */
  violations: string[];
  swapOuts: number;
  swapIns: number;
  shares: number;
  cowBreaks: number;
  /** Reclamations refused (a page table, a page that is not private, ...). */
  refused: number;
}

function pick<T>(rand: () => number, xs: readonly T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[Math.floor(rand() * xs.length)];
}

/** One reclamation step on the VM's p2m: swaps, shares (by copy and in place, zero pages together), samples. */
function reclaim(p2m: P2m, rand: () => number, o: FuzzOptions, counts: { refused: number }): void {
  const shared = p2m.machine.shared;
  const resident = (): number[] => p2m.entries().filter(([ppn]) => p2m.stateOf(ppn) === 'private').map(([ppn]) => ppn);
  for (let i = 0; i < o.swapsPerStep; i++) {
    const ppn = pick(rand, resident());
    if (ppn !== undefined && !p2m.swapOut(ppn)) counts.refused++;
  }
  for (let i = 0; i < o.sharesPerStep; i++) {
    const ppn = pick(rand, resident());
    if (ppn === undefined) break;
    const r = rand();
    if (r < 0.4) {
      // A fresh shared frame holding a copy: the page maps it instead of its own frame.
      const mpn = shared.createShared(p2m.lookup(ppn));
      if (!p2m.shareWith(ppn, mpn)) {
        counts.refused++;
        shared.dropIfUnused(mpn);
      }
    } else if (r < 0.7) {
      if (p2m.shareInPlace(ppn) < 0) counts.refused++;
    } else {
      // Two pages with equal contents (often zero pages) share one frame.
      const bytes = (p: number): Uint8Array => p2m.machine.bytes.readBytes(p2m.lookup(p) * 4096, 4096);
      const a = bytes(ppn);
      const twin = resident().find((q) => q !== ppn && equal(a, bytes(q)));
      const mpn = p2m.shareInPlace(ppn);
      if (mpn < 0) counts.refused++;
      else if (twin !== undefined && !p2m.shareWith(twin, mpn)) counts.refused++;
    }
  }
  for (let i = 0; i < o.samplesPerStep; i++) {
    const ppn = pick(rand, p2m.entries().map(([p]) => p));
    if (ppn !== undefined) p2m.sample(ppn);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The consoles the guest may print under reclamation. Swapping and sharing are invisible to a
 * guest that flushes its TLB properly: only native's output. sloppy-tlb.s reads through a stale
 * TLB entry on purpose, and a hypervisor must drop the TLB entries of a frame it takes away —
 * every entry of the frame in shadow mode, every combined mapping of the VM in nested mode
 * (INVEPT) — exactly as the processor itself may drop any entry at any time: so its stale read
 * may instead see the new mapping (the fresh zeroed frame), and nothing else.
 */
export function permittedConsoles(file: string, native: string): string[] {
  if (file !== 'sloppy-tlb.s') return [native];
  const fresh = native
    .replace('A: sloppy unmap, map again, read: 0x41\n', 'A: sloppy unmap, map again, read: 0x0\n')
    .replace('A: stale TLB entry: the PTE points at a zeroed frame, the read saw the old one\n', '');
  return fresh === native ? [native] : [native, fresh];
}

export function runNative(program: LoadedProgram, maxSteps: number): RunSummary {
  return runProgram(program, { mode: 'native', maxSteps });
}

export function runReclaimed(program: LoadedProgram, o: FuzzOptions): FuzzResult {
  const started = startProgram(program, { mode: o.mode, modeOptions: o.modeOptions, maxSteps: o.maxSteps });
  const { vm, stats, machine } = started;
  const p2m = machine!.partsOf(vm)!.p2m;
  const rand = seededRandom(o.seed);
  const counts = { refused: 0 };
  let violations: string[] = [];
  let engineError: string | undefined;
  try {
    while (!vm.stopped && vm.icount < o.maxSteps) {
      vm.run(Math.min(o.every, o.maxSteps - vm.icount));
      violations = auditMachine(machine!);
      if (violations.length) break;
      if (vm.stopped) break;
      reclaim(p2m, rand, o, counts);
      violations = auditMachine(machine!);
      if (violations.length) {
        violations = ['(right after a reclamation step)', ...violations];
        break;
      }
    }
  } catch (e) {
    engineError = `engine error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
  }
  const c = p2m.counters;
  return {
    summary: summarize(vm, stats, engineError), violations, swapOuts: c.swapOuts, swapIns: c.swapIns, shares: c.shares, cowBreaks: c.cowBreaks, refused: counts.refused,
  };
}
