// What the overcommit view and the run summary read of a machine's memory management at one
// moment: the machine's reclamation state and counters, per VM its configuration, its pages by
// state, the scheduler's target and the balloon, and the scheduler's history (one sample per
// rebalance) for the charts. Plain data: the debug adapter sends it as it is (vmem/overcommit).
import type { ReclaimState } from './policy/reclaimState';
import type { MemPolicy } from './policy/shares';
import type { SchedSample } from './policy/schedHistory';
import type { SharingStats } from './sharing/scanner';
import type { HypervisorSwapCounters } from './hypervisorSwap';
import type { VictimPolicy } from './victims';

export interface VmOvercommitSnapshot {
  vmId: number;
  name: string;
  /** Configured reservation, limit (pages) and shares. */
  minPages: number;
  maxPages: number;
  shares: number;
  /** Guest-physical pages by p2m state. */
  pages: { unbacked: number; private: number; shared: number; ballooned: number; swapped: number };
  /** The scheduler's allocation target (pages), or null before the first rebalance. */
  target: number | null;
  balloon: {
    size: number;
    target: number;
    /** The guest's cap in pages (null: the driver has not announced one). */
    limit: number | null;
    /** Why the balloon cannot reclaim now, or null when it can. */
    whyNot: string | null;
    pops: number;
  } | null;
  /** Working-set estimate f in [0, 1] (1 until the first sampling period ends), or null when not sampled. */
  workingSet: number | null;
  /** ρ = S / (P·(f + k(1−f))) with the policy's τ (Infinity for a VM holding no pages). */
  rho: number;
  /** Blocked by the scheduler (low state, above target). */
  blocked: boolean;
  /** Cycles the VM waited on swap-ins and its guest disk. */
  stallCycles: number;
  /** Instructions the VM retired. */
  instructions: number;
  /** P2m counters: swap-outs/ins, COW breaks, shares, pops, double paging. */
  counters: { swapOuts: number; swapIns: number; cowBreaks: number; shares: number; ballooned: number; deflated: number; pops: number; doublePaging: number };
}

export interface OvercommitSnapshot {
  /** Simulated seconds. */
  seconds: number;
  policy: MemPolicy;
  tau: number;
  victim: VictimPolicy;
  state: ReclaimState;
  totalPages: number;
  freePages: number;
  /** Free-memory thresholds of soft/hard/low as percentages (high is above soft's). */
  thresholds: { high: number; soft: number; hard: number; low: number };
  rebalances: number;
  vms: VmOvercommitSnapshot[];
  sharing: (SharingStats & { enabled: boolean }) | null;
  swap: HypervisorSwapCounters;
  /** One sample per rebalance, oldest first (decimated on long runs: `resolution` rebalances per sample). */
  history: readonly SchedSample[];
  resolution: number;
}
