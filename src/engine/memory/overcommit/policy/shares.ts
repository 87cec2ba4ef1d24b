// Shares and the idle memory tax: ESX's min-funding revocation metric (Waldspurger 2002, §5).
// Memory is revoked from the client holding the fewest shares per (tax-adjusted) page:
//   ρ = S / (P·(f + k(1−f))),  k = 1/(1−τ),  0 ≤ τ < 1
// S shares, P pages allocated, f the active fraction of those pages, τ the tax rate. An idle page
// "costs" k active pages, so an idle client's ρ falls faster and it is revoked first.

/** How targets are derived. 'shares': pure proportional share (τ = 0). 'idle-tax': ESX's default,
 *  τ configurable (0.75). 'working-set': each VM first gets its estimated working set, the rest
 *  is shared out by shares (see targets.ts). */
export type MemPolicy = 'shares' | 'idle-tax' | 'working-set';

export const MEM_POLICIES: readonly MemPolicy[] = ['shares', 'idle-tax', 'working-set'];

/** ESX's default tax rate: an idle page costs k = 4 active ones. */
export const DEFAULT_TAU = 0.75;

/** vSphere's "normal" memory shares: 10 per MiB of configured memory (high 20, low 5). Scaling
 *  the default with size makes ρ = S/P compare VMs by the fraction of their own memory they hold,
 *  so equal-size VMs with default shares are equals, as in Fig. 7. */
export const SHARES_PER_MIB = 10;

export function defaultShares(memoryBytes: number): number {
  return Math.max(1, Math.round((memoryBytes / (1024 * 1024)) * SHARES_PER_MIB));
}

export class TaxRateError extends RangeError {}

/** k = 1/(1−τ). τ = 1 would make an idle page infinitely expensive (every idle page revocable
 *  before any active one, regardless of shares) — a division by zero, so it is rejected. */
export function idleCost(tau: number): number {
  if (!Number.isFinite(tau) || tau < 0 || tau >= 1) {
    throw new TaxRateError(`idle memory tax rate τ must satisfy 0 ≤ τ < 1 (k = 1/(1−τ) is infinite at τ = 1); got ${tau}`);
  }
  return 1 / (1 - tau);
}

/** The τ a policy applies: 'shares' ignores the configured rate; the other policies use it. */
export function policyTau(policy: MemPolicy, tau: number): number {
  return policy === 'shares' ? 0 : tau;
}

/** f + k(1−f): the tax-adjusted pages per allocated page. f is clamped to [0, 1] (an estimator
 *  may overshoot by sampling noise; the formula is only defined on a fraction). */
export function adjustedPageCost(activeFraction: number, tau: number): number {
  const f = Math.min(1, Math.max(0, activeFraction));
  return f + idleCost(tau) * (1 - f);
}

/** ρ = S / (P·(f + k(1−f))). A client holding no pages has ρ = +∞: there is nothing to revoke. */
export function sharesPerPage(shares: number, pages: number, activeFraction: number, tau: number): number {
  if (shares < 0) throw new RangeError(`shares must be ≥ 0; got ${shares}`);
  if (pages < 0) throw new RangeError(`pages must be ≥ 0; got ${pages}`);
  const cost = adjustedPageCost(activeFraction, tau);
  return pages === 0 ? Number.POSITIVE_INFINITY : shares / (pages * cost);
}
