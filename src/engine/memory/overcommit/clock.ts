// Simulated time. Every retired instruction is one cycle; waiting (a swap-in from the VMM's
// swap file, the guest's own disk I/O) adds cycles to the VM that waits. Seconds exist only
// for the policies that are specified in seconds (balloon polling, sampling and rebalance
// periods, scan rates): they are cycles divided by the clock rate.

/** 1 MHz: a simulated second is a million instructions, ~20 ms of real time, so experiments finish. */
export const DEFAULT_CYCLES_PER_SECOND = 1_000_000;

export class SimClock {
  /** Cycles since the machine was built. */
  now = 0;

  constructor(readonly cyclesPerSecond: number = DEFAULT_CYCLES_PER_SECOND) {
    if (!(cyclesPerSecond > 0 && Number.isFinite(cyclesPerSecond))) throw new RangeError(`clock rate must be a positive number of cycles per second, not ${cyclesPerSecond}`);
  }

  advance(cycles: number): void {
    if (!(cycles >= 0)) throw new RangeError(`the clock cannot go back (${cycles} cycles)`);
    this.now += cycles;
  }

  seconds(): number {
    return this.now / this.cyclesPerSecond;
  }

  /** Cycles in `s` simulated seconds (rounded: latencies and periods are whole cycles). */
  cycles(s: number): number {
    return Math.round(s * this.cyclesPerSecond);
  }
}

/**
 * The cycles one VM spent waiting. Charged by whatever made it wait (the p2m on a swap-in, the
 * guest disk on an I/O); the Machine turns new charges into time the VM does not run.
 * A VM's throughput = its instructions / (its instructions + cycles).
 */
export class StallAccount {
  /** Total cycles waited. */
  cycles = 0;
  /** Waits charged. */
  waits = 0;
  /** Charges not yet seen by the scheduler (Machine.run takes them). */
  private pendingCycles = 0;

  charge(cycles: number): void {
    if (!(cycles >= 0)) throw new RangeError(`a stall cannot be negative (${cycles} cycles)`);
    this.cycles += cycles;
    this.pendingCycles += cycles;
    this.waits++;
  }

  /** The cycles charged since the last call (the scheduler's view). */
  takePending(): number {
    const p = this.pendingCycles;
    this.pendingCycles = 0;
    return p;
  }
}
