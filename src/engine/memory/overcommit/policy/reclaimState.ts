// ESX's free-memory reclamation states (Waldspurger 2002, §6.2). Four thresholds, in percent of
// system memory: high 6, soft 4, hard 2, low 1. The paper's rules, which this module follows:
//  - "A transition to a lower reclamation state occurs when the amount of free memory drops below
//    the lower threshold": from high, free < 4 % enters soft; from soft, < 2 % enters hard; from
//    hard, < 1 % enters low (a sudden drop may skip states).
//  - "the system transitions back to the next higher state only after significantly exceeding
//    the higher threshold": from soft, back to high needs free > 6 % · (1 + margin); from hard,
//    back to soft needs > 4 % · (1 + margin); from low, back to hard needs > 2 % · (1 + margin).
// So each state is a band with a dead zone above it: between 4 % and 6 % the system stays in
// whichever of high/soft it was in. The margin (default 25 % of the threshold, so 7.5 / 5 / 2.5 %)
// is the "significantly": free memory moves by whole VM allocations between rebalances, and a
// margin well above the page-level noise keeps a VM touching a few pages from flipping the state
// back and forth. The targets aim at the high exit level (targets.ts), so reclamation ends in high.
//
// A floor in pages (vSphere 5's minFree): on a small machine the percentages are a handful of
// pages — on 256 pages the soft band (4 → 2 %) is 5 pages, crossed by a growing guest between two
// balloon polls — so the high threshold is never below `minFreePages`, and soft/hard/low keep their
// ratios to high (6/4/2/1 → 1, 2/3, 1/3, 1/6 of it; vSphere puts soft, hard and low at 64, 32 and
// 16 % of minFree). The default floor is 0: the paper's percentages unchanged.

export type ReclaimState = 'high' | 'soft' | 'hard' | 'low';

/** Highest (least pressure) first. */
export const RECLAIM_STATES: readonly ReclaimState[] = ['high', 'soft', 'hard', 'low'];

export interface ReclaimThresholds {
  /** Percent of system memory free; each must be below the previous one. */
  high: number;
  soft: number;
  hard: number;
  low: number;
  /** Moving up a state needs free > threshold · (1 + upMargin). */
  upMargin: number;
  /** The high threshold is never below this many pages; the others scale with it (0: no floor). */
  minFreePages: number;
}

export const DEFAULT_THRESHOLDS: Readonly<ReclaimThresholds> = { high: 6, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: 0 };

/** What the memory scheduler does in each state. */
export interface ReclaimActions {
  /** Set balloon targets so VMs above their target give pages back. */
  balloon: boolean;
  /** 'unballoonable': swap only VMs whose balloon cannot deliver (absent, disabled, capped, too
   *  slow), and only the part it cannot; 'all': swap every VM down to its target now. */
  swap: 'none' | 'unballoonable' | 'all';
  /** Stop running VMs that are above their target until they are not. */
  blockAboveTarget: boolean;
}

const ACTIONS: Record<ReclaimState, ReclaimActions> = {
  high: { balloon: false, swap: 'none', blockAboveTarget: false },
  soft: { balloon: true, swap: 'unballoonable', blockAboveTarget: false },
  hard: { balloon: true, swap: 'all', blockAboveTarget: false },
  low: { balloon: true, swap: 'all', blockAboveTarget: true },
};

export function reclaimActions(state: ReclaimState): ReclaimActions {
  return ACTIONS[state];
}

export function validateThresholds(t: ReclaimThresholds): void {
  const ok = t.high > t.soft && t.soft > t.hard && t.hard > t.low && t.low > 0 && t.high < 100 && t.upMargin >= 0;
  if (!ok) throw new RangeError(`reclaim thresholds must satisfy 100 > high > soft > hard > low > 0 and upMargin ≥ 0; got ${JSON.stringify(t)}`);
  if (t.high * (1 + t.upMargin) >= 100) throw new RangeError(`high · (1 + upMargin) must stay below 100 %`);
  if (!(Number.isInteger(t.minFreePages) && t.minFreePages >= 0)) throw new RangeError(`minFreePages must be a whole number ≥ 0; got ${t.minFreePages}`);
}

/**
 * The thresholds in force on a machine of `totalPages`: the configured percentages, raised
 * proportionally when the high threshold would be below `minFreePages` pages (vSphere's minFree).
 * RangeError when the floor leaves no room above high (high · (1 + upMargin) ≥ 100 %).
 */
export function effectiveThresholds(t: ReclaimThresholds, totalPages: number): ReclaimThresholds {
  if (totalPages <= 0) throw new RangeError(`total pages must be > 0; got ${totalPages}`);
  const floorPercent = (100 * t.minFreePages) / totalPages;
  if (floorPercent <= t.high) return t;
  const scale = floorPercent / t.high;
  const out: ReclaimThresholds = { ...t, high: floorPercent, soft: t.soft * scale, hard: t.hard * scale, low: t.low * scale };
  if (out.high * (1 + t.upMargin) >= 100) {
    throw new RangeError(`minFreePages ${t.minFreePages} is too large for a machine of ${totalPages} pages: leaving soft would need more than 100 % free`);
  }
  return out;
}

/** The threshold whose crossing (downwards) enters `state`; high has none. */
export function entryThreshold(t: ReclaimThresholds, state: ReclaimState): number {
  return state === 'soft' ? t.soft : state === 'hard' ? t.hard : state === 'low' ? t.low : Number.POSITIVE_INFINITY;
}

/** The free percentage that must be exceeded to leave `state` upwards; high has none. */
export function exitThreshold(t: ReclaimThresholds, state: ReclaimState): number {
  const higher = state === 'soft' ? t.high : state === 'hard' ? t.soft : state === 'low' ? t.hard : Number.POSITIVE_INFINITY;
  return higher * (1 + t.upMargin);
}

/** The next state from `current` given the free percentage: pure, so it is table-testable. */
export function nextReclaimState(current: ReclaimState, freePercent: number, t: ReclaimThresholds = DEFAULT_THRESHOLDS): ReclaimState {
  let i = RECLAIM_STATES.indexOf(current);
  // Down: fall through every lower state whose entry threshold free memory is below.
  let moved = false;
  while (i < RECLAIM_STATES.length - 1 && freePercent < entryThreshold(t, RECLAIM_STATES[i + 1])) {
    i++;
    moved = true;
  }
  if (moved) return RECLAIM_STATES[i];
  // Up: one step per clearly exceeded higher threshold (several if free memory jumped).
  while (i > 0 && freePercent > exitThreshold(t, RECLAIM_STATES[i])) i--;
  return RECLAIM_STATES[i];
}

export interface ReclaimStateChange {
  from: ReclaimState;
  to: ReclaimState;
  freePercent: number;
}

/** The state with its history-dependent part (hysteresis) and a change listener. */
export class ReclaimStateMachine {
  private current: ReclaimState = 'high';
  private readonly listeners: ((c: ReclaimStateChange) => void)[] = [];
  /** Transitions so far, by target state — cheap counters the view can show. */
  readonly entered: Record<ReclaimState, number> = { high: 0, soft: 0, hard: 0, low: 0 };

  private effectiveFor = -1;
  private effectiveCache: ReclaimThresholds;

  /** `thresholds` as configured (percentages and the page floor); `effective(total)` is what applies. */
  constructor(readonly thresholds: ReclaimThresholds = { ...DEFAULT_THRESHOLDS }) {
    validateThresholds(thresholds);
    this.effectiveCache = thresholds;
  }

  /** The thresholds in percent in force on a machine of `totalPages` (the floor applied). */
  effective(totalPages: number): ReclaimThresholds {
    if (totalPages !== this.effectiveFor) {
      this.effectiveCache = effectiveThresholds(this.thresholds, totalPages);
      this.effectiveFor = totalPages;
    }
    return this.effectiveCache;
  }

  get state(): ReclaimState {
    return this.current;
  }

  onChange(fn: (c: ReclaimStateChange) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Feeds the current free memory; returns the (possibly new) state, telling listeners on a change. */
  update(freePages: number, totalPages: number): ReclaimState {
    if (totalPages <= 0) throw new RangeError(`total pages must be > 0; got ${totalPages}`);
    const freePercent = (100 * freePages) / totalPages;
    const next = nextReclaimState(this.current, freePercent, this.effective(totalPages));
    if (next !== this.current) {
      const change: ReclaimStateChange = { from: this.current, to: next, freePercent };
      this.current = next;
      this.entered[next]++;
      for (const l of this.listeners.slice()) l(change);
    }
    return next;
  }

  /** Free pages the targets aim for: just above the level that returns soft to high. */
  targetFreePages(totalPages: number): number {
    return Math.floor((exitThreshold(this.effective(totalPages), 'soft') * totalPages) / 100) + 1;
  }
}
