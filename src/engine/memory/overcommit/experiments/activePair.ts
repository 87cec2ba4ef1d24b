// The set-up experiments (c) and (d) share: shadow-paged VMs of 16 MiB running
// examples/overcommit/active.s with their own swapper on, equal shares, sharing off, on a machine
// too small for them — run once with the balloon driver in every guest and once with none,
// everything else (machine, guests, their loads and timing) identical.
import type { ProgramLoader } from './experimentTypes';
import { MiB, PAGE, runToTime, type RunOutcome, type VmOutcome } from './runToTime';
import { guestSwapCounts } from './guestSwapCount';

/** One VM: its name and active.s's defines (HOT, COLD, FREED, RAMP, …; BALLOON and GUEST_SWAP are set here). */
export interface PairGuest {
  name: string;
  defines: Record<string, number>;
}

export interface PairMachine {
  machinePages: number;
  /** The reclamation thresholds' page floor (memsched.thresholds.minFreePages, vSphere's minFree). */
  minFreePages: number;
  seed: number;
}

export function runActivePair(load: ProgramLoader, machine: PairMachine, guests: readonly PairGuest[], balloon: boolean): RunOutcome {
  const vms = guests.map((g) => {
    const defines: Record<string, bigint> = { GUEST_SWAP: 1n, BALLOON: balloon ? 1n : 0n };
    for (const [k, v] of Object.entries(g.defines)) defines[k] = BigInt(v);
    const program = load('active.s', defines);
    return { name: g.name, mode: 'shadow' as const, memoryBytes: 16 * MiB, allocation: { maxBytes: MiB }, program };
  });
  return runToTime({
    memoryBytes: machine.machinePages * PAGE,
    quantum: 10_000,
    maxSteps: 1_000_000_000,
    vms,
    memsched: { seed: machine.seed, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 }, thresholds: { minFreePages: machine.minFreePages } },
  });
}

/** Describes a guest's defines for the run notes. */
export function describeGuest(g: PairGuest): string {
  return `${g.name}: ${Object.entries(g.defines).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** What reclaimed a VM's memory in a run, for (c)'s and (d)'s rows: the VMM's swapping, the guest's own swapper (from its console; null without one), the balloon. */
export function reclaimCounts(v: VmOutcome): { vmmSwapOuts: number; vmmSwapIns: number; guestSwapOuts: number | null; balloon: number } {
  const g = guestSwapCounts(v.console);
  return { vmmSwapOuts: v.oc.counters.swapOuts, vmmSwapIns: v.oc.counters.swapIns, guestSwapOuts: g ? g.out : null, balloon: v.oc.balloon?.size ?? 0 };
}
