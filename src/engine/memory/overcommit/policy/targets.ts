// Per-VM allocation targets by min-funding revocation (Waldspurger 2002, §5.1, §6.1). A page is
// revoked from the VM with the lowest ρ (shares.ts) that is above its min, until the targets fit
// the budget: the memory left after keeping free memory above the high threshold.
//
// Revoking one page at a time from the lowest-ρ VM ends where every VM strictly between its
// bounds has the same ρ (give or take a page). `allocationTargets` computes that fixed point in
// closed form — ρ_i = S_i / (T_i·c_i) = λ for all unclamped i, so T_i = clamp(S_i/(λ·c_i), lo_i,
// hi_i) with Σ T_i = budget — by sorting the breakpoints (O(VMs log VMs) instead of O(pages));
// `revokeOneByOne` is the page-by-page definition the tests compare it with.
//
// The active fraction f is treated as a property of the VM's pages (as ESX does when it
// recomputes ρ every balance period from the current sample): c_i = f_i + k(1 − f_i) is fixed
// while T_i varies. Bounds: lo = min; hi = min(max, demand), demand being the pages the guest has
// touched (resident + ballooned + swapped): a VM is never handed pages it would not use while
// another is squeezed. Budget left after every demand is met is shared out by shares up to max.
import { adjustedPageCost, policyTau, type MemPolicy } from './shares';
import { sharesPerPage } from './shares';

export interface TargetClient {
  id: number;
  shares: number;
  minPages: number;
  maxPages: number;
  /** Machine frames the VM holds now (P in ρ). */
  allocatedPages: number;
  /** Pages the guest has touched: resident + ballooned + swapped (what it holds unconstrained). */
  demandPages: number;
  /** The working-set estimate f ∈ [0, 1]. */
  activeFraction: number;
}

export interface TargetOptions {
  policy: MemPolicy;
  tau: number;
  /** 'working-set': headroom above the estimated working set, so a VM using all it has can grow
   *  (a fully active VM's f·P understates its need by exactly the pages it was denied). */
  workingSetHeadroom: number;
}

export const DEFAULT_WORKING_SET_HEADROOM = 0.1;

interface Band {
  lo: number;
  hi: number;
  /** T = clamp(x · weight): weight = S/c. */
  weight: number;
}

/** Real-valued fill: the x with Σ clamp(x·w_i, lo_i, hi_i) = budget (Σlo ≤ budget ≤ Σhi). */
function fillLevel(bands: readonly Band[], budget: number): number {
  // Breakpoints where a band starts or stops growing, ascending; between two of them the sum is
  // linear in x with slope Σ w of the growing bands.
  const points: { x: number; dw: number }[] = [];
  for (const b of bands) {
    if (b.weight <= 0 || b.hi <= b.lo) continue;
    points.push({ x: b.lo / b.weight, dw: b.weight }, { x: b.hi / b.weight, dw: -b.weight });
  }
  points.sort((a, b) => a.x - b.x || a.dw - b.dw);
  let sum = bands.reduce((s, b) => s + b.lo, 0);
  let slope = 0;
  let x = 0;
  for (const p of points) {
    const reach = sum + slope * (p.x - x);
    if (reach >= budget && slope > 0) return x + (budget - sum) / slope;
    sum = reach;
    x = p.x;
    slope += p.dw;
  }
  return x;
}

/** Integer targets in [lo, hi] summing to exactly `budget` (clamped to [Σlo, Σhi]). */
function waterFill(bands: readonly Band[], budget: number): number[] {
  const sumLo = bands.reduce((s, b) => s + b.lo, 0);
  const sumHi = bands.reduce((s, b) => s + b.hi, 0);
  if (budget <= sumLo) return bands.map((b) => b.lo);
  if (budget >= sumHi) return bands.map((b) => b.hi);
  const x = fillLevel(bands, budget);
  const real = bands.map((b) => (b.weight > 0 ? Math.min(b.hi, Math.max(b.lo, x * b.weight)) : b.lo));
  const out = real.map((r) => Math.floor(r + 1e-9));
  // Hand the rounding remainder to the largest fractional parts (ties: lower index).
  let left = budget - out.reduce((s, t) => s + t, 0);
  const order = real.map((r, i) => ({ i, frac: r - out[i] })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    if (out[i] < bands[i].hi) {
      out[i]++;
      left--;
    }
  }
  return out;
}

function bounds(c: TargetClient): { lo: number; hi: number } {
  const lo = Math.max(0, Math.floor(c.minPages));
  const max = Math.max(lo, Math.floor(c.maxPages));
  const hi = Math.min(max, Math.max(lo, Math.ceil(c.demandPages)));
  return { lo, hi };
}

/**
 * Targets (pages) for every client, summing to at most `budgetPages` when that is achievable
 * above the mins. Returns id → target.
 */
export function allocationTargets(clients: readonly TargetClient[], budgetPages: number, options: TargetOptions): Map<number, number> {
  const tau = policyTau(options.policy, options.tau);
  const budget = Math.max(0, Math.floor(budgetPages));
  const b = clients.map(bounds);
  let first: number[];
  if (options.policy === 'working-set') {
    // Each VM's estimated working set first (shares decide who waits if even that does not fit),
    // then the remaining demand by ρ as usual.
    const wss = clients.map((c, i) => {
      const need = Math.ceil(Math.min(1, Math.max(0, c.activeFraction)) * c.allocatedPages * (1 + options.workingSetHeadroom));
      return Math.min(b[i].hi, Math.max(b[i].lo, need));
    });
    const core = waterFill(clients.map((c, i) => ({ lo: b[i].lo, hi: wss[i], weight: c.shares })), budget);
    const rest = budget - core.reduce((s, t) => s + t, 0);
    first = rest > 0
      ? waterFill(clients.map((c, i) => ({ lo: core[i], hi: b[i].hi, weight: c.shares / adjustedPageCost(c.activeFraction, tau) })), budget)
      : core;
  } else {
    first = waterFill(clients.map((c, i) => ({ lo: b[i].lo, hi: b[i].hi, weight: c.shares / adjustedPageCost(c.activeFraction, tau) })), budget);
  }
  // Surplus beyond all demand: entitlements up to max by shares, so a growing VM is not "above
  // target" the moment it touches a new page.
  const used = first.reduce((s, t) => s + t, 0);
  const final = used < budget
    ? waterFill(clients.map((c, i) => ({ lo: first[i], hi: Math.max(first[i], Math.floor(c.maxPages)), weight: c.shares })), budget)
    : first;
  return new Map(clients.map((c, i) => [c.id, final[i]]));
}

export interface RevocationCandidate {
  id: number;
  shares: number;
  pages: number;
  minPages: number;
  activeFraction: number;
}

/** The VM to revoke the next page from: lowest ρ among those above their min; ties go to the
 *  larger holder, then the lower id (deterministic). null when every VM is at its min. */
export function revocationVictim(candidates: readonly RevocationCandidate[], tau: number): number | null {
  let best: RevocationCandidate | null = null;
  let bestRho = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (c.pages <= c.minPages) continue;
    const rho = sharesPerPage(c.shares, c.pages, c.activeFraction, tau);
    if (best === null || rho < bestRho || (rho === bestRho && (c.pages > best.pages || (c.pages === best.pages && c.id < best.id)))) {
      best = c;
      bestRho = rho;
    }
  }
  return best === null ? null : best.id;
}

/** Min-funding revocation by definition: one page at a time from the victim, starting from each
 *  VM's demand, until the total fits. O(pages·VMs): the reference for tests and small cases. */
export function revokeOneByOne(clients: readonly TargetClient[], budgetPages: number, tau: number): Map<number, number> {
  const state = clients.map((c) => {
    const { lo, hi } = bounds(c);
    return { id: c.id, shares: c.shares, pages: hi, minPages: lo, activeFraction: c.activeFraction };
  });
  let total = state.reduce((s, c) => s + c.pages, 0);
  const byId = new Map(state.map((c) => [c.id, c]));
  while (total > budgetPages) {
    const v = revocationVictim(state, tau);
    if (v === null) break;
    byId.get(v)!.pages--;
    total--;
  }
  return new Map(state.map((c) => [c.id, c.pages]));
}

export interface AdmissionRequest {
  minPages: number;
  maxPages: number;
  /** Per-VM VMM overhead (ESX: typically 32 MB, 4–8 MB of it the frame buffer; here the shadow /
   *  EPT tables and VMM frames the mode will need). */
  overheadPages: number;
}

/** Admission control (W §6.1): a VM is admitted only if min + overhead fits in unreserved
 *  memory and max − min in unreserved swap, so every admitted VM can always be given its min
 *  and the rest of its memory always has somewhere to go. */
export class AdmissionControl {
  private readonly admitted = new Map<number, AdmissionRequest>();
  private memReserved = 0;
  private swapReserved = 0;

  constructor(
    readonly totalPages: number,
    readonly swapPages: number,
  ) {}

  get reservedMemoryPages(): number {
    return this.memReserved;
  }

  get reservedSwapPages(): number {
    return this.swapReserved;
  }

  /** null if admitted, else why not. */
  admit(vmId: number, r: AdmissionRequest): string | null {
    if (this.admitted.has(vmId)) return `VM ${vmId} is already admitted`;
    if (!(r.minPages >= 0 && r.maxPages >= r.minPages && r.overheadPages >= 0)) return `VM ${vmId}: need 0 ≤ min ≤ max and overhead ≥ 0 (min ${r.minPages}, max ${r.maxPages}, overhead ${r.overheadPages})`;
    const mem = r.minPages + r.overheadPages;
    const swap = r.maxPages - r.minPages;
    if (this.memReserved + mem > this.totalPages) {
      return `VM ${vmId}: min + overhead = ${mem} pages but only ${this.totalPages - this.memReserved} of ${this.totalPages} machine pages are unreserved`;
    }
    if (this.swapReserved + swap > this.swapPages) {
      return `VM ${vmId}: max − min = ${swap} pages of swap needed but only ${this.swapPages - this.swapReserved} of ${this.swapPages} are unreserved`;
    }
    this.admitted.set(vmId, { ...r });
    this.memReserved += mem;
    this.swapReserved += swap;
    return null;
  }

  release(vmId: number): void {
    const r = this.admitted.get(vmId);
    if (!r) return;
    this.admitted.delete(vmId);
    this.memReserved -= r.minPages + r.overheadPages;
    this.swapReserved -= r.maxPages - r.minPages;
  }
}
