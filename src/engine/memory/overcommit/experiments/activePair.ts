// The set-up experiments (c) and (d) share: two shadow-paged VMs of 16 MiB (1 MiB limit) running
// examples/overcommit/active.s with their own swapper on, equal shares, sharing off, on a machine
// too small for both — run once with the balloon driver and once without.
import type { ProgramLoader } from './experimentTypes';
import { MiB, PAGE, runToTime, type RunOutcome } from './runToTime';

export interface ActivePairParams {
  machinePages: number;
  hot: number;
  cold: number;
  /** Frames the guest's allocator manages (FRAME_POOL_PAGES). */
  pool: number;
  rounds: number;
  seed: number;
}

export function runActivePair(load: ProgramLoader, p: ActivePairParams, balloon: boolean, checkCold: boolean): RunOutcome {
  const program = load('active.s', {
    HOT: BigInt(p.hot), COLD: BigInt(p.cold), ROUNDS: BigInt(p.rounds), CHECK_COLD: checkCold ? 1n : 0n,
    FRAME_POOL_PAGES: BigInt(p.pool), GUEST_SWAP: 1n, BALLOON: balloon ? 1n : 0n,
  });
  return runToTime({
    memoryBytes: p.machinePages * PAGE,
    quantum: 10_000,
    maxSteps: 400_000_000,
    vms: ['a', 'b'].map((name) => ({ name, mode: 'shadow' as const, memoryBytes: 16 * MiB, allocation: { maxBytes: MiB }, program })),
    memsched: { seed: p.seed, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 } },
  });
}
