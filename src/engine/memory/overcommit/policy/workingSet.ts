// Statistical working-set estimation (Waldspurger 2002, §5.3). Every sampling period (measured in
// the VM's own execution time, so a descheduled VM is not judged idle) n random resident pages
// have their mappings invalidated; the next guest access to each one comes back to the VMM
// (hidden fault / EPT violation) and is counted once. At the end of the period f = t/n.
//
// Smoothing, as ESX: a slow EWMA, a fast EWMA, and the fast EWMA updated with the current partial
// period (t so far / n — a lower bound on this period's f, since touches only accumulate). The
// estimate is the max of the three: it rises as soon as touches show up and falls only as fast
// as the slow average lets go. The gains are not published; ours:
//  - fast α = 0.5: a step up is 50 % tracked after one period and 87.5 % after three. Its noise:
//    the variance of an EWMA of independent samples is α/(2−α)·σ², so with n = 100 (σ ≤ 0.05)
//    the fast average's standard deviation is ≤ 0.029 — small enough that max() does not turn
//    noise into a large upward bias.
//  - slow α = 0.1: half-life ln 2 / −ln 0.9 ≈ 6.6 periods (≈ 3.3 min at 30 s), the slow decay of
//    Fig. 6: memory a VM just stopped using is not taken away before it has been idle for minutes,
//    which protects a VM whose activity is bursty.
// Before the first period completes the estimate is 1 (an unmeasured VM is not taxed); the first
// completed period seeds all three averages.
import type { RandomSource } from '../seededRandom';

/** What the sampler needs from a VM (the lead wires it to the p2m and its mapper). */
export interface SamplingPort {
  /** Guest-physical pages of the VM. */
  readonly pages: number;
  /** Private or shared (has a machine frame): only resident pages are part of P in ρ. */
  isResident(ppn: number): boolean;
  /** Drop every cached mapping of the page (p2m.mapper.revoke(ppn, 'none')) so the next access
   *  faults to the VMM, which reports it through `WorkingSetSampler.touched`. */
  invalidate(ppn: number): void;
}

export interface WorkingSetGains {
  slow: number;
  fast: number;
}

export const DEFAULT_GAINS: Readonly<WorkingSetGains> = { slow: 0.1, fast: 0.5 };

export interface SamplerOptions {
  /** n, pages sampled per period (ESX 100). */
  samplePages: number;
  /** Period length in cycles of the VM's execution (ESX 2: 30 s; ESXi 4+: 60 s). */
  periodCycles: number;
  gains: WorkingSetGains;
}

export interface WorkingSetReading {
  slow: number;
  fast: number;
  /** The fast EWMA with the current partial period folded in. */
  partial: number;
  /** max(slow, fast, partial): the estimate the policy uses. */
  estimate: number;
  /** Completed periods so far. */
  periods: number;
}

export class WorkingSetSampler {
  private slow = 1;
  private fast = 1;
  private periods = 0;
  private elapsed = 0;
  /** ppn → touched yet this period; only pages of the current sample are keys. */
  private readonly sample = new Map<number, boolean>();
  private touchedCount = 0;
  private lastF = Number.NaN;

  constructor(
    private readonly port: SamplingPort,
    private readonly random: RandomSource,
    readonly options: SamplerOptions,
  ) {
    const { slow, fast } = options.gains;
    if (!(slow > 0 && slow <= 1 && fast > 0 && fast <= 1)) throw new RangeError(`EWMA gains must be in (0, 1]; got ${JSON.stringify(options.gains)}`);
    if (!(options.samplePages >= 1) || !(options.periodCycles > 0)) throw new RangeError('samplePages ≥ 1 and periodCycles > 0 are required');
    this.startPeriod();
  }

  /** The pages being watched this period (for the view and for tests). */
  sampledPages(): number[] {
    return [...this.sample.keys()];
  }

  /** Is this page part of the current sample and not yet counted? (cheap: the p2m may ask) */
  watching(ppn: number): boolean {
    return this.sample.get(ppn) === false;
  }

  /** A sampled page was accessed. Repeated touches and pages outside the sample are ignored, so
   *  the caller may forward every VMM-visible touch of the VM without filtering. */
  touched(ppn: number): void {
    if (this.sample.get(ppn) !== false) return;
    this.sample.set(ppn, true);
    this.touchedCount++;
  }

  /** The VM executed `cycles` more cycles; closes every period that ends within them. */
  advance(cycles: number): void {
    if (cycles < 0) throw new RangeError(`cycles must be ≥ 0; got ${cycles}`);
    this.elapsed += cycles;
    while (this.elapsed >= this.options.periodCycles) {
      this.elapsed -= this.options.periodCycles;
      this.closePeriod();
      this.startPeriod();
    }
  }

  /** f of the last completed period (NaN before the first). */
  get lastSample(): number {
    return this.lastF;
  }

  reading(): WorkingSetReading {
    const n = this.sample.size;
    const soFar = n === 0 ? 0 : this.touchedCount / n;
    const partial = this.periods === 0 ? Math.max(this.fast, soFar) : (1 - this.options.gains.fast) * this.fast + this.options.gains.fast * soFar;
    return { slow: this.slow, fast: this.fast, partial, estimate: Math.max(this.slow, this.fast, partial), periods: this.periods };
  }

  estimate(): number {
    return this.reading().estimate;
  }

  private closePeriod(): void {
    const n = this.sample.size;
    // A VM with no resident pages has nothing to measure: keep the averages as they are.
    if (n === 0) return;
    const f = this.touchedCount / n;
    this.lastF = f;
    if (this.periods === 0) {
      this.slow = f;
      this.fast = f;
    } else {
      this.slow += this.options.gains.slow * (f - this.slow);
      this.fast += this.options.gains.fast * (f - this.fast);
    }
    this.periods++;
  }

  /** Picks n distinct resident pages uniformly (reservoir sampling over the VM's pages: one pass,
   *  O(pages) per period, exact even when few pages are resident) and invalidates them. */
  private startPeriod(): void {
    this.sample.clear();
    this.touchedCount = 0;
    const n = this.options.samplePages;
    const chosen: number[] = [];
    let seen = 0;
    for (let ppn = 0; ppn < this.port.pages; ppn++) {
      if (!this.port.isResident(ppn)) continue;
      seen++;
      if (chosen.length < n) chosen.push(ppn);
      else {
        const j = Math.floor(this.random() * seen);
        if (j < n) chosen[j] = ppn;
      }
    }
    for (const ppn of chosen) this.sample.set(ppn, false);
    for (const ppn of chosen) this.port.invalidate(ppn);
  }
}
