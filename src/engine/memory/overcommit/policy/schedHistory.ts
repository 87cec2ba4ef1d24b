// The memory scheduler's history, for the overcommit view's charts: one sample per rebalance,
// per-VM columns. Bounded without losing the start of a long run: when full, every other sample
// is dropped and only every 2nd (then 4th, …) later one is kept, so the history always spans the
// whole run at a resolution that halves as it grows.
import type { ReclaimState } from './reclaimState';

export interface VmSample {
  vmId: number;
  /** Private machine frames held. */
  allocated: number;
  target: number;
  balloonSize: number;
  balloonTarget: number;
  swapped: number;
  shared: number;
  /** The working-set estimate f (max of the three averages). */
  workingSet: number;
  /** ρ under the policy's τ. +∞ for a VM holding no pages. */
  rho: number;
  blocked: boolean;
}

export type RebalanceReason = 'period' | 'pressure' | 'manual';

export interface SchedSample {
  /** Simulated seconds. */
  t: number;
  state: ReclaimState;
  freePages: number;
  reason: RebalanceReason;
  vms: VmSample[];
}

export class SchedHistory {
  private readonly samples: SchedSample[] = [];
  /** Index of each kept sample among all samples offered (kept ones are multiples of stride). */
  private readonly indices: number[] = [];
  private stride = 1;
  private offered = 0;

  constructor(readonly capacity = 600) {
    if (capacity < 2) throw new RangeError(`history capacity must be ≥ 2; got ${capacity}`);
  }

  record(s: SchedSample): void {
    const index = this.offered++;
    if (index % this.stride !== 0) return;
    this.samples.push(s);
    this.indices.push(index);
    if (this.samples.length < this.capacity) return;
    this.stride *= 2;
    let w = 0;
    for (let r = 0; r < this.samples.length; r++) {
      if (this.indices[r] % this.stride !== 0) continue;
      this.samples[w] = this.samples[r];
      this.indices[w++] = this.indices[r];
    }
    this.samples.length = w;
    this.indices.length = w;
  }

  /** Oldest first. */
  all(): readonly SchedSample[] {
    return this.samples;
  }

  /** Samples offered per sample kept, now. */
  get resolution(): number {
    return this.stride;
  }

  get length(): number {
    return this.samples.length;
  }
}
