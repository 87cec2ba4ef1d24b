// Time travel for the debugger: a bounded set of exact state snapshots (engine/stateSnapshot.ts)
// keyed by the target's instruction count. Going back restores the latest snapshot at or
// before the goal and re-runs forward to it: the engine is deterministic, so the state reached
// is the state that was there. Snapshots are taken at every stop (so stepping back over what
// was just stepped forward is a restore, no re-run) and every SNAPSHOT_EVERY instructions while
// running (so a re-run is short).
import { StateSnapshot } from '../../engine/stateSnapshot';

/** Instructions between periodic snapshots while running: bounds the length of a re-run. */
export const SNAPSHOT_EVERY = 2_000_000;
/** Snapshots kept; beyond this the closest pair (in instructions) loses one. */
export const MAX_SNAPSHOTS = 64;
/**
 * Periodic snapshots cost at most about 1/COST_FACTOR of the running time. Kept small (a
 * continue runs at ≥ 0.99× the engine's speed): a long stretch between two is filled in when a
 * step back needs it (timeTravelRuns.ts: nearBefore), which costs a full-speed re-run then.
 */
const COST_FACTOR = 150;

export interface TimePoint<X> {
  icount: number;
  state: StateSnapshot;
  /** What the runtime keeps beside the engine state (its own flags). */
  extra: X;
}

export class TimeTravelError extends Error {}

export class Timeline<X> {
  private points: TimePoint<X>[] = [];
  /** Instruction count of the last debugger write: going back before it is refused. */
  private barrier = 0;
  private barrierWhat = '';

  constructor(private readonly roots: () => object[], private readonly skip: (o: object) => boolean, private readonly max = MAX_SNAPSHOTS) {}

  get count(): number {
    return this.points.length;
  }

  get lastIcount(): number {
    return this.points.length > 0 ? this.points[this.points.length - 1].icount : -1;
  }

  /** Bytes held by snapshot copies of memory (shared copies counted once). */
  get bytes(): number {
    const seen = new Set<unknown>();
    let n = 0;
    for (const p of this.points) for (const c of p.state.copies.values()) if (!seen.has(c)) {
      seen.add(c);
      n += c.byteLength;
    }
    return n;
  }

  /**
   * A periodic snapshot is due: SNAPSHOT_EVERY instructions since the last, and running time
   * since it at least COST_FACTOR times what the last one cost, so that they take at most
   * ~1/COST_FACTOR of a continue however much memory the guest has.
   */
  periodicDue(icount: number): boolean {
    return icount - this.lastIcount >= SNAPSHOT_EVERY && performance.now() - this.lastTakenAt >= COST_FACTOR * this.lastCostMs;
  }

  private lastTakenAt = 0;
  private lastCostMs = 0;

  /** Records the state at icount (replacing one already there: the later one wins, e.g. after a write). */
  take(icount: number, extra: X): void {
    const last = this.points[this.points.length - 1];
    const t0 = performance.now();
    const state = new StateSnapshot(this.roots(), { skip: this.skip, previous: last?.state });
    this.lastTakenAt = performance.now();
    this.lastCostMs = this.lastTakenAt - t0;
    while (this.points.length > 0 && this.points[this.points.length - 1].icount >= icount) this.points.pop();
    this.points.push({ icount, state, extra });
    if (this.points.length > this.max) this.thin();
  }

  /** Records the state at icount between existing points (a window filled in after the fact). */
  insert(icount: number, extra: X): TimePoint<X> {
    let i = this.points.findIndex((p) => p.icount >= icount);
    if (i < 0) i = this.points.length;
    if (this.points[i]?.icount === icount) return this.points[i];
    const state = new StateSnapshot(this.roots(), { skip: this.skip, previous: this.points[i - 1]?.state });
    const point = { icount, state, extra };
    this.points.splice(i, 0, point);
    if (this.points.length > this.max) this.thin();
    return point;
  }

  /** A debugger write at icount: the past before it cannot be re-run (the write is not replayed). */
  markWrite(icount: number, what: string, extra: X): void {
    this.barrier = icount;
    this.barrierWhat = what;
    this.take(icount, extra);
    this.points = this.points.filter((p) => p.icount >= icount);
  }

  /** Refuses a goal before the last debugger write. */
  check(goal: number): void {
    if (goal < this.barrier) {
      throw new TimeTravelError(`cannot go back past instruction ${this.barrier}: the debugger changed ${this.barrierWhat} there, and re-running would not repeat that change`);
    }
  }

  /** The latest point at or before goal (and not before the barrier). */
  before(goal: number): TimePoint<X> | undefined {
    for (let i = this.points.length - 1; i >= 0; i--) if (this.points[i].icount <= goal && this.points[i].icount >= this.barrier) return this.points[i];
    return undefined;
  }

  /** The point before `p` (an earlier window to search), or undefined. */
  previous(p: TimePoint<X>): TimePoint<X> | undefined {
    const i = this.points.indexOf(p);
    return i > 0 && this.points[i - 1].icount >= this.barrier ? this.points[i - 1] : undefined;
  }

  /** Writes p's state back into the live objects. */
  restore(p: TimePoint<X>): void {
    p.state.restore();
  }

  /** Forgets what came after icount: once travelled back, the future will be run (and recorded) again. */
  forgetAfter(icount: number): void {
    this.points = this.points.filter((q) => q.icount <= icount);
  }

  /** Keeps the first and last, drops the one of the closest pair: the survivors stay spread out. */
  private thin(): void {
    let best = 1;
    let gap = Infinity;
    for (let i = 1; i < this.points.length - 1; i++) {
      const g = this.points[i + 1].icount - this.points[i - 1].icount;
      if (g < gap) {
        gap = g;
        best = i;
      }
    }
    this.points.splice(best, 1);
  }
}
