// A `vmem/overcommit` answer for the Memory Overcommit tests: three VMs on a 64 MiB machine under
// pressure for 20 rebalances (15 s apart). "web" is active and has a balloon; "idle" has a
// balloon capped by its guest; "legacy" has no balloon driver, so the scheduler swaps it — and
// for three rebalances it holds no pages at all (ρ = ∞, null on the wire). The state goes
// high → soft → hard → low → hard → soft → high as free memory falls and recovers.
// Written by hand, to the engine's invariants (pages by state sum to the VM's memory; a sample's
// working set is in [0, 1]; ρ = S / (P·(f + k(1−f))) with k = 1/(1−τ)).
import type { OvercommitSampleWire, OvercommitWire, OvercommitVmWire } from '../../src/debugAdapter/viewsProtocol';

const TOTAL = 16384;
const TAU = 0.75;
const K = 1 / (1 - TAU);

function rho(shares: number, pages: number, f: number): number | null {
  return pages > 0 ? shares / (pages * (f + K * (1 - f))) : null;
}

/** Free-memory percentages at each rebalance and the state the scheduler was in. */
const FREE_PCT = [12, 9, 7, 5, 3.5, 3, 1.8, 1.2, 0.8, 0.6, 1.5, 2.6, 3.1, 4.5, 5.2, 6.4, 7.9, 8.5, 9.0, 9.4];
const STATE: OvercommitWire['state'][] = ['high', 'high', 'high', 'high', 'soft', 'soft', 'hard', 'hard', 'low', 'low', 'hard', 'soft', 'soft', 'soft', 'soft', 'soft', 'high', 'high', 'high', 'high'];

interface VmPlan { id: number; shares: number; f: number[]; allocated: number[]; target: number[]; balloon: number[]; balloonTarget: number[]; swapped: number[]; shared: number }

const ramp = (from: number, to: number, n = 20): number[] => Array.from({ length: n }, (_, i) => Math.round(from + ((to - from) * i) / (n - 1)));

const PLANS: VmPlan[] = [
  {
    id: 1, shares: 2000, shared: 310,
    f: ramp(80, 95).map((x) => x / 100),
    allocated: [6000, 6400, 6800, 7100, 7000, 6800, 6500, 6300, 6200, 6200, 6300, 6500, 6700, 6900, 7000, 7100, 7200, 7300, 7300, 7300],
    target: [8192, 8192, 8192, 8192, 6900, 6700, 6400, 6200, 6200, 6200, 6300, 6500, 6700, 6900, 7000, 7100, 7300, 7300, 7300, 7300],
    balloon: [0, 0, 0, 0, 100, 300, 600, 800, 900, 900, 800, 600, 400, 200, 100, 0, 0, 0, 0, 0],
    balloonTarget: [0, 0, 0, 0, 200, 400, 700, 900, 900, 900, 800, 600, 400, 200, 100, 0, 0, 0, 0, 0],
    swapped: [0, 0, 0, 0, 0, 0, 40, 60, 60, 60, 50, 40, 30, 20, 10, 0, 0, 0, 0, 0],
  },
  {
    id: 2, shares: 2000, shared: 1200,
    f: ramp(60, 10).map((x) => x / 100),
    allocated: [5000, 5100, 5200, 5200, 4700, 4200, 3600, 3100, 2800, 2600, 2500, 2400, 2400, 2400, 2400, 2400, 2400, 2400, 2400, 2400],
    target: [8192, 8192, 8192, 8192, 4600, 4000, 3400, 3000, 2700, 2500, 2450, 2400, 2400, 2400, 2400, 2400, 2400, 2400, 2400, 2400],
    balloon: [0, 0, 0, 0, 500, 1000, 1600, 2100, 2400, 2600, 2700, 2800, 2800, 2800, 2800, 2800, 2800, 2800, 2800, 2800],
    balloonTarget: [0, 0, 0, 0, 600, 1200, 1800, 2200, 2500, 2700, 2750, 2800, 2800, 2800, 2800, 2800, 2800, 2800, 2800, 2800],
    swapped: Array(20).fill(0) as number[],
  },
  {
    id: 3, shares: 1000, shared: 0,
    f: ramp(100, 40).map((x) => x / 100),
    allocated: [4000, 3900, 3800, 3700, 2500, 1200, 0, 0, 0, 400, 900, 1300, 1600, 1800, 2000, 2100, 2200, 2300, 2300, 2300],
    target: [4096, 4096, 4096, 4096, 2500, 1200, 0, 0, 0, 400, 900, 1300, 1600, 1800, 2000, 2100, 2200, 2300, 2300, 2300],
    balloon: Array(20).fill(0) as number[],
    balloonTarget: Array(20).fill(0) as number[],
    swapped: [0, 100, 200, 300, 1500, 2800, 4000, 4000, 4000, 3600, 3100, 2700, 2400, 2200, 2000, 1900, 1800, 1700, 1700, 1700],
  },
];

export const OVERCOMMIT_NAMES: Record<number, string> = { 1: 'web', 2: 'idle', 3: 'legacy' };

function history(): OvercommitSampleWire[] {
  return FREE_PCT.map((p, i) => ({
    t: 15 * (i + 1),
    state: STATE[i],
    freePages: Math.round((p * TOTAL) / 100),
    reason: i === 6 ? 'pressure' : 'period',
    vms: PLANS.map((v) => ({
      vmId: v.id, allocated: v.allocated[i], target: v.target[i], balloonSize: v.balloon[i], balloonTarget: v.balloonTarget[i],
      swapped: v.swapped[i], shared: v.shared, workingSet: v.f[i], rho: rho(v.shares, v.allocated[i], v.f[i]), blocked: STATE[i] === 'low' && v.allocated[i] > v.target[i],
    })),
  }));
}

function vm(id: 1 | 2 | 3): OvercommitVmWire {
  const p = PLANS[id - 1];
  const last = 19;
  const counters = { swapOuts: 0, swapIns: 0, cowBreaks: 0, shares: 0, ballooned: 0, deflated: 0, pops: 0, doublePaging: 0 };
  const common = { vmId: id, name: OVERCOMMIT_NAMES[id], shares: p.shares, target: p.target[last], workingSet: p.f[last], rho: rho(p.shares, p.allocated[last], p.f[last]), blocked: false };
  if (id === 1) {
    return {
      ...common, minPages: 2048, maxPages: 8192,
      pages: { unbacked: 8192 - 7300 - 310, private: 7300, shared: 310, ballooned: 0, swapped: 0 },
      balloon: { size: 0, target: 0, limit: 5324, whyNot: null, pops: 2 },
      stallCycles: 1_250_000, instructions: 148_000_000,
      counters: { ...counters, swapOuts: 60, swapIns: 60, cowBreaks: 41, shares: 352, ballooned: 900, deflated: 900, pops: 2 },
    };
  }
  if (id === 2) {
    return {
      ...common, minPages: 1024, maxPages: 8192,
      pages: { unbacked: 8192 - 2400 - 1200 - 2800, private: 2400, shared: 1200, ballooned: 2800, swapped: 0 },
      balloon: { size: 2800, target: 2800, limit: 2800, whyNot: 'the guest capped its balloon at 2,800 pages (35 % of its memory)', pops: 0 },
      stallCycles: 0, instructions: 31_000_000,
      counters: { ...counters, cowBreaks: 3, shares: 1250, ballooned: 2800 },
    };
  }
  return {
    ...common, minPages: 0, maxPages: 4096,
    pages: { unbacked: 4096 - 2300 - 1700, private: 2300, shared: 0, ballooned: 0, swapped: 1700 },
    balloon: null,
    stallCycles: 96_000_000, instructions: 64_000_000,
    counters: { ...counters, swapOuts: 4100, swapIns: 2400, doublePaging: 37 },
  };
}

/** The whole answer: "now" is just after the last rebalance. */
export function overcommitFixture(): OvercommitWire {
  const h = history();
  const last = h[h.length - 1];
  return {
    enabled: true,
    seconds: 300.5, policy: 'idle-tax', tau: TAU, victim: 'random', state: last.state,
    totalPages: TOTAL, freePages: last.freePages,
    thresholds: { high: 6, soft: 4, hard: 2, low: 1 },
    rebalances: 20,
    vms: [vm(1), vm(2), vm(3)],
    sharing: {
      enabled: true, pagesShared: 420, pagesSharing: 1090, pagesUnshared: 3100, pagesVolatile: 57, fullScans: 2, pagesScanned: 24000, zeroPages: 800,
      falseMatches: 0, departedHints: 12, cowBreaks: 44, offered: 300, offeredShared: 21, savedPages: 1060, savedBytes: 1060 * 4096, tableBytes: 120_000,
    },
    swap: { swappedOut: 4160, sharedInstead: 21, clusters: 180, shortfall: 0 },
    history: h,
    resolution: 1,
  };
}
